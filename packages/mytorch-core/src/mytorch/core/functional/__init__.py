"""mytorch.core.functional: the counterpart of ``torch.nn.functional``.

Activations, losses, dropout, ``linear``, ``pad``, ``one_hot``, ``normalize`` and
classification metrics, all as plain functions on tensors.

>>> import mytorch.core as mt
>>> import mytorch.core.functional as F
>>> F.relu(mt.tensor([-1.0, 2.0])).tolist()
[0.0, 2.0]
>>> F.accuracy(mt.tensor([[0.1, 0.9], [0.8, 0.2]]), mt.tensor([1, 1]))
0.5
"""

from mytorch.core.functional.dropout import *
from mytorch.core.functional.metrics import *
from mytorch.core.functional.misc import *
from mytorch.core.ops.activation import *
from mytorch.core.ops.attention import *
from mytorch.core.ops.conv import *
from mytorch.core.ops.elementwise import sigmoid, tanh
from mytorch.core.ops.embedding import *
from mytorch.core.ops.linalg import linear
from mytorch.core.ops.loss import *
from mytorch.core.ops.movement import pad
from mytorch.core.ops.normalization import *
from mytorch.core.ops.pool import *
from mytorch.core.ops.recurrent import *
from mytorch.core.ops.resample import *
