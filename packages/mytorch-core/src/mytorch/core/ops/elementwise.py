"""Elementwise ops: arithmetic, powers, exponentials, trigonometry, comparisons.

Binary ops broadcast like NumPy/PyTorch; their backward returns gradients of the
broadcast shape and the engine sums them back to each input's shape.
"""

from __future__ import annotations

import numpy as np

from mytorch.core.autograd import Function
from mytorch.core.tensor import Tensor


def _fix_dtype(r: np.ndarray, a, b) -> np.ndarray:
    """Follow PyTorch's promotion where NumPy's differs: int with float32 stays float32."""
    if (
        r.dtype == np.float64
        and getattr(a, "dtype", None) != np.float64
        and getattr(b, "dtype", None) != np.float64
    ):
        return r.astype(np.float32)
    return r


class Add(Function):
    """out = a + alpha * b;  da = g,  db = alpha * g"""

    @staticmethod
    def forward(ctx, a, b, alpha=1):
        ctx.alpha = alpha
        return _fix_dtype(np.add(a, b) if alpha == 1 else a + alpha * b, a, b)

    @staticmethod
    def backward(ctx, g):
        return g, (g if ctx.alpha == 1 else g * ctx.alpha)


def add(input, other, *, alpha=1) -> Tensor:
    return Add.apply(input, other, alpha=alpha)


class Sub(Function):
    """out = a - alpha * b;  da = g,  db = -alpha * g"""

    @staticmethod
    def forward(ctx, a, b, alpha=1):
        ctx.alpha = alpha
        return _fix_dtype(np.subtract(a, b) if alpha == 1 else a - alpha * b, a, b)

    @staticmethod
    def backward(ctx, g):
        return g, (-g if ctx.alpha == 1 else g * -ctx.alpha)


def sub(input, other, *, alpha=1) -> Tensor:
    return Sub.apply(input, other, alpha=alpha)


class Mul(Function):
    """out = a * b;  da = g * b,  db = g * a"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _fix_dtype(np.multiply(a, b), a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (g * b if need_a else None), (g * a if need_b else None)


def mul(input, other) -> Tensor:
    return Mul.apply(input, other)


class Neg(Function):
    """out = -a;  da = -g"""

    @staticmethod
    def forward(ctx, a):
        return np.negative(a)

    @staticmethod
    def backward(ctx, g):
        return -g


def neg(input) -> Tensor:
    return Neg.apply(input)


class Exp(Function):
    """out = exp(a);  da = g * out"""

    @staticmethod
    def forward(ctx, a):
        out = np.exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * out


def exp(input) -> Tensor:
    return Exp.apply(input)


class Cast(Function):
    """out = a converted to ``dtype``;  da = g converted back (floats only carry gradients)"""

    @staticmethod
    def forward(ctx, a, dtype):
        ctx.dtype = a.dtype
        return a.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return g.to(ctx.dtype), None


def cast(input, dtype) -> Tensor:
    return Cast.apply(input, np.dtype(dtype))
