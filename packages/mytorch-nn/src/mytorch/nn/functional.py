"""``mytorch.nn.functional``: the functions of ``mytorch.core.functional`` (as ``torch.nn.functional``).

Functions that mytorch.nn implements itself (the fused normalizations and embedding) fill in
any name the core does not provide.

>>> import mytorch.nn.functional as F
>>> import mytorch.core as mt
>>> F.relu(mt.tensor([-1.0, 1.0])).tolist()
[0.0, 1.0]
"""

from mytorch.core import functional as _core
from mytorch.core.functional import *  # noqa: F403
from mytorch.core.ops import normalization as _normalization
from mytorch.nn.ops import sparse as _sparse

for _fn in (
    _normalization.batch_norm,
    _normalization.layer_norm,
    _normalization.rms_norm,
    _sparse.embedding,
):
    if not hasattr(_core, _fn.__name__):
        globals()[_fn.__name__] = _fn


def __getattr__(name: str):
    """Anything else that ``mytorch.core.functional`` defines (names outside its ``__all__``)."""
    try:
        return getattr(_core, name)
    except AttributeError:
        raise AttributeError(f"module 'mytorch.nn.functional' has no attribute '{name}'") from None
