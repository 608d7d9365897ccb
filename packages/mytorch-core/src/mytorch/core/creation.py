"""Functions that make new tensors: from data, filled, ranges, random."""

from __future__ import annotations

import numpy as np

from mytorch.core import dtypes
from mytorch.core.random import Generator, rng
from mytorch.core.tensor import Tensor, _shape_arg, as_array


def _finish(data: np.ndarray, requires_grad: bool) -> Tensor:
    t = Tensor._make(data)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _float(dtype) -> np.dtype:
    return dtypes.get_default_dtype() if dtype is None else dtypes.to_dtype(dtype)


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data``; Python floats and float64 arrays become float32.

    >>> tensor([1, 2]).dtype, tensor([1.0]).dtype
    (dtype('int64'), dtype('float32'))
    """
    arr = as_array(data, dtype)
    if isinstance(data, np.ndarray) and arr is data:
        arr = arr.copy()
    return _finish(arr, requires_grad)


def as_tensor(data, dtype=None) -> Tensor:
    """Like ``tensor`` but shares memory with a NumPy array or Tensor when no conversion is needed."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == dtypes.to_dtype(dtype)):
        return data
    return Tensor._make(as_array(data, dtype))


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array``, keeping its dtype."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray, got {type(array).__name__}")
    return Tensor._make(array)


def zeros(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    return _finish(np.zeros(_shape_arg(size), _float(dtype)), requires_grad)


def ones(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    return _finish(np.ones(_shape_arg(size), _float(dtype)), requires_grad)


def empty(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    return _finish(np.empty(_shape_arg(size), _float(dtype)), requires_grad)


def full(size, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    if dtype is None:
        dtype = as_array(fill_value).dtype
    return _finish(np.full(tuple(size), fill_value, dtypes.to_dtype(dtype)), requires_grad)


def zeros_like(input: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return _finish(np.zeros(input.shape, dtype or input.dtype), requires_grad)


def ones_like(input: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return _finish(np.ones(input.shape, dtype or input.dtype), requires_grad)


def empty_like(input: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return _finish(np.empty(input.shape, dtype or input.dtype), requires_grad)


def full_like(input: Tensor, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    return _finish(np.full(input.shape, fill_value, dtype or input.dtype), requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad: bool = False) -> Tensor:
    """Values from ``start`` (default 0) up to, not including, ``end``; int64 for integer bounds."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = dtypes.int64 if ints else dtypes.get_default_dtype()
    return _finish(np.arange(start, end, step).astype(dtypes.to_dtype(dtype)), requires_grad)


def linspace(start, end, steps: int, dtype=None, requires_grad: bool = False) -> Tensor:
    return _finish(np.linspace(start, end, steps).astype(_float(dtype)), requires_grad)


def logspace(start, end, steps: int, base=10.0, dtype=None) -> Tensor:
    return Tensor._make(np.logspace(start, end, steps, base=base).astype(_float(dtype)))


def eye(n: int, m: int | None = None, dtype=None, requires_grad: bool = False) -> Tensor:
    return _finish(np.eye(n, m, dtype=_float(dtype)), requires_grad)


def rand(*size, generator: Generator | None = None, dtype=None, requires_grad=False) -> Tensor:
    """Uniform samples on [0, 1)."""
    return _finish(rng(generator).random(_shape_arg(size)).astype(_float(dtype)), requires_grad)


def randn(*size, generator: Generator | None = None, dtype=None, requires_grad=False) -> Tensor:
    """Standard normal samples."""
    out = rng(generator).standard_normal(_shape_arg(size)).astype(_float(dtype))
    return _finish(out, requires_grad)


def randint(low, high=None, size=(), generator: Generator | None = None, dtype=None) -> Tensor:
    """Integers uniform on [low, high); ``randint(high, size)`` means low = 0."""
    if high is None or isinstance(high, (tuple, list)):
        low, high, size = 0, low, high if high is not None else size
    out = rng(generator).integers(low, high, tuple(size))
    return Tensor._make(out.astype(dtypes.int64 if dtype is None else dtypes.to_dtype(dtype)))


def randperm(n: int, generator: Generator | None = None, dtype=None) -> Tensor:
    """A random permutation of 0..n-1."""
    out = rng(generator).permutation(n)
    return Tensor._make(out.astype(dtypes.int64 if dtype is None else dtypes.to_dtype(dtype)))


def rand_like(input: Tensor, generator: Generator | None = None, dtype=None) -> Tensor:
    return Tensor._make(rng(generator).random(input.shape).astype(dtype or input.dtype))


def randn_like(input: Tensor, generator: Generator | None = None, dtype=None) -> Tensor:
    return Tensor._make(rng(generator).standard_normal(input.shape).astype(dtype or input.dtype))


def randint_like(input: Tensor, low, high=None, generator=None, dtype=None) -> Tensor:
    return randint(low, high, input.shape, generator=generator, dtype=dtype or input.dtype)


def normal(mean: float, std: float, size, generator: Generator | None = None) -> Tensor:
    out = rng(generator).normal(mean, std, tuple(size)).astype(dtypes.get_default_dtype())
    return Tensor._make(out)


def bernoulli(input: Tensor, generator: Generator | None = None) -> Tensor:
    """0/1 samples with probabilities ``input``, of input's dtype."""
    return Tensor._make((rng(generator).random(input.shape) < input.data).astype(input.dtype))


def multinomial(input: Tensor, num_samples: int, replacement=False, generator=None) -> Tensor:
    """Sample category indices from (rows of) non-negative weights ``input``."""
    g = rng(generator)
    probs = np.atleast_2d(input.data).astype(np.float64)
    probs = probs / probs.sum(-1, keepdims=True)
    out = np.stack([g.choice(p.size, num_samples, replace=replacement, p=p) for p in probs])
    return Tensor._make(out.reshape(input.shape[:-1] + (num_samples,)).astype(np.int64))
