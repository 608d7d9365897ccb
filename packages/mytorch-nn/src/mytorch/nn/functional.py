"""``mytorch.nn.functional``: the functions of ``mytorch.core.functional`` (as ``torch.nn.functional``).

>>> import mytorch.nn.functional as F
>>> import mytorch.core as mt
>>> F.relu(mt.tensor([-1.0, 1.0])).tolist()
[0.0, 1.0]
"""

from mytorch.core.functional import *  # noqa: F403
