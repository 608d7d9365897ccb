"""Movement ops: reshape/view, transpose/permute, squeeze, expand, cat/stack, split, pad, flip..."""

from __future__ import annotations

import numpy as np

from mytorch.core.autograd import Function
from mytorch.core.tensor import Tensor


def _infer_shape(shape: tuple, numel: int, op: str) -> tuple:
    shape = tuple(int(s) for s in shape)
    if shape.count(-1) > 1:
        raise RuntimeError(f"{op}: only one dimension can be inferred, got shape {list(shape)}")
    if -1 in shape:
        known = int(np.prod([s for s in shape if s != -1]))
        if known == 0 or numel % known:
            raise RuntimeError(f"{op}: shape {list(shape)} is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    if int(np.prod(shape)) != numel:
        raise RuntimeError(f"{op}: shape {list(shape)} is invalid for input of size {numel}")
    return shape


class Reshape(Function):
    """out = a with a new shape (same elements in row-major order);  da = g reshaped back"""

    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        return a.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.shape), None


def reshape(input: Tensor, shape) -> Tensor:
    shape = _infer_shape(shape, input.data.size, "reshape")
    if shape == input.shape:
        return Reshape.apply(input, shape) if input.requires_grad else Tensor._make(input.data)
    return Reshape.apply(input, shape)


def view(input: Tensor, shape) -> Tensor:
    return reshape(input, shape)


class Permute(Function):
    """out = a with axes reordered by ``dims``;  da = g permuted by the inverse order"""

    @staticmethod
    def forward(ctx, a, dims):
        ctx.inverse = tuple(np.argsort(dims))
        return a.transpose(dims)

    @staticmethod
    def backward(ctx, g):
        return g.permute(ctx.inverse), None


def permute(input: Tensor, dims) -> Tensor:
    n = input.ndim
    dims = tuple(d % n if n else d for d in dims)
    if sorted(dims) != list(range(n)):
        raise RuntimeError(
            f"permute: dims {list(dims)} is not a permutation of the {n} dimensions of the input"
        )
    return Permute.apply(input, dims)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    n = input.ndim
    if n == 0:
        return input
    dims = list(range(n))
    dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
    return Permute.apply(input, tuple(dims))


class Expand(Function):
    """out = a broadcast to ``shape`` (a read-only view);  da = g (the engine sums it back)"""

    @staticmethod
    def forward(ctx, a, shape):
        return np.broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, g):
        return g, None


def expand(input: Tensor, shape) -> Tensor:
    shape = tuple(shape)
    lead = len(shape) - input.ndim
    if lead < 0:
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(shape)}) must be greater or equal to "
            f"the number of dimensions in the tensor ({input.ndim})"
        )
    full = tuple(
        input.shape[i - lead] if (s == -1 and i >= lead) else s for i, s in enumerate(shape)
    )
    try:
        np.broadcast_shapes(input.shape, full)
    except ValueError:
        raise RuntimeError(
            f"expand: the expanded size {list(full)} is not compatible with the input shape "
            f"{list(input.shape)}"
        ) from None
    if full == input.shape:
        return input
    return Expand.apply(input, full)
