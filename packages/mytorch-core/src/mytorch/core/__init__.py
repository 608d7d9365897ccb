"""mytorch.core: Tensor, reverse-mode autograd, differentiable ops, optimizers and data loading.

>>> import mytorch.core as mt
>>> x = mt.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> (x ** 2).sum().backward()
>>> x.grad.tolist()
[2.0, 4.0, 6.0]
"""

from importlib.metadata import PackageNotFoundError as _PackageNotFoundError
from importlib.metadata import version as _version

from mytorch.core import autograd
from mytorch.core.autograd import Function
from mytorch.core.creation import (
    arange,
    as_tensor,
    bernoulli,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
    multinomial,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from mytorch.core.dtypes import (
    bool_ as bool,  # noqa: A004 - PyTorch's name
)
from mytorch.core.dtypes import (
    double,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int8,
    int16,
    int32,
    int64,
    long,
    set_default_dtype,
    uint8,
)
from mytorch.core.dtypes import float as float  # noqa: A004
from mytorch.core.dtypes import int as int  # noqa: A004
from mytorch.core.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from mytorch.core.ops.activation import *  # noqa: F403
from mytorch.core.ops.conv import *  # noqa: F403
from mytorch.core.ops.elementwise import *  # noqa: F403
from mytorch.core.ops.indexing import *  # noqa: F403
from mytorch.core.ops.linalg import *  # noqa: F403
from mytorch.core.ops.movement import *  # noqa: F403
from mytorch.core.ops.pool import *  # noqa: F403
from mytorch.core.ops.reduce import *  # noqa: F403
from mytorch.core.ops.scatter import *  # noqa: F403
from mytorch.core.random import (
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    set_rng_state,
)
from mytorch.core.tensor import Tensor, increment_version

try:
    __version__ = _version("mytorch-core")  # the version lives in pyproject.toml only
except _PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0.0.0+unknown"


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:
    return input.numel()


from mytorch.core import data, functional, optim, sparse  # noqa: E402  (mt.optim.SGD, like torch.optim)
