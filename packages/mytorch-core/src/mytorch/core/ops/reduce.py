"""Reductions: sum, mean, var/std, max/min, logsumexp, prod, cumsum, norm, sort/topk."""

from __future__ import annotations

import numpy as np

from mytorch.core.autograd import Function
from mytorch.core.tensor import Tensor


def _dims(dim, ndim: int) -> tuple | None:
    """Normalize ``dim`` (None, int or sequence, negatives allowed) to a sorted tuple."""
    if dim is None:
        return None
    if isinstance(dim, int):
        dim = (dim,)
    out = []
    for d in dim:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-max(ndim, 1)}, "
                f"{max(ndim, 1) - 1}], but got {d})"
            )
        out.append(d % max(ndim, 1))
    return tuple(sorted(set(out)))


class Sum(Function):
    """out = sum of a over dims;  da = g broadcast back to a's shape"""

    @staticmethod
    def forward(ctx, a, dims, keepdim, dtype):
        ctx.shape, ctx.dims, ctx.keepdim = a.shape, dims, keepdim
        if a.ndim == 0:
            return a.astype(dtype or a.dtype, copy=True)
        return np.sum(a, axis=dims, keepdims=keepdim, dtype=dtype)

    @staticmethod
    def backward(ctx, g):
        if not ctx.keepdim and ctx.dims is not None and len(ctx.shape):
            g = g.reshape(_keep_shape(ctx.shape, ctx.dims))
        return g.expand(ctx.shape), None, None, None


def _keep_shape(shape: tuple, dims: tuple | None) -> tuple:
    if dims is None:
        return (1,) * len(shape)
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


def sum(input, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    dims = _dims(dim, input.ndim)
    if dtype is None and input.dtype.kind in "biu":
        dtype = np.int64
    return Sum.apply(input, dims, keepdim, dtype)


def sum_to(input: Tensor, shape: tuple) -> Tensor:
    """Sum ``input`` down to ``shape``: the adjoint of broadcasting ``shape`` to input's shape."""
    shape = tuple(shape)
    if input.shape == shape:
        return input
    lead = input.ndim - len(shape)
    dims = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and input.shape[lead + i] != 1
    )
    out = Sum.apply(input, dims, True, None) if dims else input
    return out.reshape(shape) if out.shape != shape else out
