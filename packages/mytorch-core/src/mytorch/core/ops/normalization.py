"""Fused normalization ops: batch, layer, group, instance and RMS norm, each one graph node.

Forward computes the statistics once and keeps the normalized input; backward uses the
closed-form gradient on those arrays. When the backward pass is itself recorded
(``create_graph=True``) the same formulas are evaluated with Tensor ops from the saved
inputs, so second derivatives are exact too.

>>> import mytorch.core as mt
>>> x = mt.randn(4, 3)
>>> y = layer_norm(x, (3,))
>>> bool(abs(y.mean(-1)).max() < 1e-5)
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from mytorch.core.autograd import Function
from mytorch.core.grad_mode import is_grad_enabled
from mytorch.core.tensor import Tensor

__all__ = ["batch_norm", "group_norm", "instance_norm", "layer_norm", "rms_norm"]


# ----------------------------------------------------------------------------------------------
# batch norm
# ----------------------------------------------------------------------------------------------


def _channel_sum(a: np.ndarray) -> np.ndarray:
    """Sum of (N, C, *) over every dim but C: (C,)."""
    s = a.sum(0)  # (C, *): adds whole rows, fast
    return s if s.ndim == 1 else s.reshape(s.shape[0], -1).sum(1)


def _scale_shift(xhat: np.ndarray, weight, bias, shape: tuple) -> np.ndarray:
    """``xhat * weight + bias`` with the per-channel (C,) arrays viewed as ``shape`` (each
    optional); a new array, ``xhat`` itself when both are None."""
    out = xhat * weight.reshape(shape) if weight is not None else xhat
    if bias is not None:
        out = (
            out + bias.reshape(shape) if out is xhat else np.add(out, bias.reshape(shape), out=out)
        )
    return out


class BatchNorm(Function):
    """y = xhat * w + b, xhat = (x - mean) * invstd per channel over (N, *);  dx = w * invstd * (g - mean(g) - xhat * mean(g * xhat)) (g * w * invstd in eval),  dw = sum(g * xhat),  db = sum(g)"""

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, training, momentum, eps):
        shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)  # broadcasts a (C,) vector over x
        n = x.size // x.shape[1]  # values per channel
        if training:
            mean = _channel_sum(x) / x.dtype.type(max(n, 1))  # (C,); 0 for an empty batch
            xmu = x - mean.reshape(shape)
            var = _channel_sum(xmu * xmu) / x.dtype.type(max(n, 1))  # biased: used to normalize
            if running_mean is not None and n > 0:  # an empty batch has nothing to add
                running_mean *= 1 - momentum
                running_mean += momentum * mean
                running_var *= 1 - momentum
                running_var += (momentum * n / (n - 1)) * var  # unbiased: the running estimate
        else:
            mean, var = running_mean.copy(), running_var.copy()
            xmu = x - mean.reshape(shape)
        invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False)  # (C,)
        xmu *= invstd.reshape(shape)
        xhat = xmu
        out = _scale_shift(xhat, weight, bias, shape)
        ctx.xhat, ctx.invstd, ctx.mean, ctx.n = xhat, invstd, mean, n
        ctx.shape, ctx.training, ctx.eps = shape, training, eps
        ctx.axes = (0, *range(2, x.ndim))
        ctx.save_for_backward(x, weight)
        return out

    @staticmethod
    def backward(ctx, grad):
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        if is_grad_enabled():
            dx, dw, db = _batch_norm_backward_graph(ctx, grad, need_x, need_w, need_b)
            return dx, dw, db, None, None, None, None, None
        g, xhat, invstd, shape = grad.data, ctx.xhat, ctx.invstd, ctx.shape
        weight = ctx.saved_tensors[1]
        sum_g = _channel_sum(g)  # (C,)
        sum_gx = _channel_sum(g * xhat)  # (C,)
        dx = None
        if need_x:
            scale = invstd if weight is None else invstd * weight.data  # (C,)
            if ctx.training:
                n = g.dtype.type(ctx.n)
                dx = xhat * (sum_gx / n).reshape(shape)
                np.subtract(g, dx, out=dx)
                dx -= (sum_g / n).reshape(shape)
                dx *= scale.reshape(shape)
            else:
                dx = g * scale.reshape(shape)
            dx = Tensor._make(dx)
        dw = Tensor._make(sum_gx) if need_w else None
        db = Tensor._make(sum_g) if need_b else None
        return dx, dw, db, None, None, None, None, None


def _batch_norm_backward_graph(ctx, grad: Tensor, need_x, need_w, need_b):
    """The batch-norm gradients as Tensor ops of the saved inputs (differentiable again)."""
    x, weight = ctx.saved_tensors
    axes, shape = ctx.axes, ctx.shape
    if ctx.training:
        mean = x.mean(axes, keepdim=True)
        xmu = x - mean
        invstd = ((xmu * xmu).mean(axes, keepdim=True) + ctx.eps).rsqrt()
    else:
        xmu = x - Tensor._make(ctx.mean.reshape(shape))
        invstd = Tensor._make(ctx.invstd.reshape(shape))
    xhat = xmu * invstd
    dx = None
    if need_x:
        gw = grad * weight.reshape(shape) if weight is not None else grad
        if ctx.training:
            gw = gw - gw.mean(axes, keepdim=True) - xhat * (gw * xhat).mean(axes, keepdim=True)
        dx = gw * invstd
    dw = (grad * xhat).sum(axes) if need_w else None
    db = grad.sum(axes) if need_b else None
    return dx, dw, db


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize each channel (dim 1) of ``input`` (N, C, *) by its statistics.

    In training the batch's mean and biased variance normalize, and the running
    statistics (when given) are updated in place with the unbiased variance:
    ``running = (1 - momentum) * running + momentum * batch``. Otherwise the running
    statistics normalize.
    """
    if input.ndim < 2:
        raise ValueError(
            f"batch_norm: expected input with at least 2 dims (N, C, ...), got {input.ndim}D input"
        )
    c = input.shape[1]
    for name, t in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        if t is not None and t.numel() != c:
            raise RuntimeError(f"{name} should contain {c} elements not {t.numel()}")
    if training:
        if input.numel() // c == 1:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got input size "
                f"{list(input.shape)}"
            )
    elif running_mean is None or running_var is None:
        raise RuntimeError("batch_norm: running_mean and running_var are required in eval mode")
    if (running_mean is None) != (running_var is None):
        raise RuntimeError("batch_norm: pass both running_mean and running_var, or neither")
    out = BatchNorm.apply(
        input, weight, bias, running_mean, running_var, bool(training), momentum, eps
    )
    if training and running_mean is not None and input.numel() > 0:
        running_mean._version += 1
        running_var._version += 1
    return out


# ----------------------------------------------------------------------------------------------
# layer norm
# ----------------------------------------------------------------------------------------------


def _rows(a: np.ndarray, n: int) -> np.ndarray:
    """(*, normalized...) as a 2-D (M, n) array, one row per normalized slice."""
    return a.reshape(a.size // n if n else 0, n)


def _row_mean(a: np.ndarray) -> np.ndarray:
    """Mean of each row of (M, n): (M,) (a matrix-vector product, faster than a reduction)."""
    return a @ np.full(a.shape[1], 1.0 / max(a.shape[1], 1), a.dtype)


def _row_dot_mean(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean of each row of a * b: (M,)."""
    return np.einsum("ij,ij->i", a, b) / a.dtype.type(max(a.shape[1], 1))


class LayerNorm(Function):
    """y = xhat * w + b, xhat = (x - mean) * invstd over the last dims;  dx = invstd * (gw - mean(gw) - xhat * mean(gw * xhat)) with gw = g * w,  dw = sum(g * xhat),  db = sum(g)"""

    @staticmethod
    def forward(ctx, x, weight, bias, ndim, eps):
        n = int(np.prod(x.shape[x.ndim - ndim :]))
        x2 = _rows(x, n)  # (M, n)
        xmu = x2 - _row_mean(x2)[:, None]
        invstd = (1.0 / np.sqrt(_row_dot_mean(xmu, xmu) + eps)).astype(x.dtype, copy=False)
        xmu *= invstd[:, None]
        xhat = xmu  # (M, n)
        out = xhat * weight.reshape(n) if weight is not None else xhat
        if bias is not None:
            out = out + bias.reshape(n) if out is xhat else np.add(out, bias.reshape(n), out=out)
        ctx.xhat, ctx.invstd, ctx.n, ctx.eps = xhat, invstd, n, eps
        ctx.axes = tuple(range(x.ndim - ndim, x.ndim))
        ctx.save_for_backward(x, weight)
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        axes = ctx.axes
        if is_grad_enabled():
            lead = tuple(range(grad.ndim - len(axes)))
            x, weight = ctx.saved_tensors
            mean = x.mean(axes, keepdim=True)
            xmu = x - mean
            invstd = ((xmu * xmu).mean(axes, keepdim=True) + ctx.eps).rsqrt()
            xhat = xmu * invstd
            dx = None
            if need_x:
                gw = grad * weight if weight is not None else grad
                gw = gw - gw.mean(axes, keepdim=True) - xhat * (gw * xhat).mean(axes, keepdim=True)
                dx = gw * invstd
            dw = _tsum(grad * xhat, lead) if need_w else None
            db = _tsum(grad, lead) if need_b else None
            return dx, dw, db, None, None
        n, xhat, shape = ctx.n, ctx.xhat, grad.shape
        g2 = _rows(grad.data, n)  # (M, n)
        weight = ctx.saved_tensors[1]
        wshape = shape[len(shape) - len(axes) :]
        dx = None
        if need_x:
            gw = g2 * weight.data.reshape(n) if weight is not None else g2
            dx = xhat * _row_dot_mean(gw, xhat)[:, None]
            np.subtract(gw, dx, out=dx)
            dx -= _row_mean(gw)[:, None]
            dx *= ctx.invstd[:, None]
            dx = Tensor._make(dx.reshape(shape))
        dw = Tensor._make(np.einsum("ij,ij->j", g2, xhat).reshape(wshape)) if need_w else None
        db = Tensor._make(g2.sum(0).reshape(wshape)) if need_b else None
        return dx, dw, db, None, None


def _tsum(t: Tensor, dims: tuple) -> Tensor:
    return t.sum(dims) if dims else t


def _normalized(normalized_shape) -> tuple:
    if isinstance(normalized_shape, (int, np.integer)):
        return (int(normalized_shape),)
    return tuple(int(s) for s in normalized_shape)


def _check_normalized_shape(input: Tensor, shape: tuple, star: str) -> None:
    k = len(shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k :]) != shape:
        raise RuntimeError(
            f"Given normalized_shape={list(shape)}, expected input with shape "
            f"[{star}{', '.join(str(s) for s in shape)}], but got input of size"
            f"{list(input.shape)}"
        )


def _check_affine(name: str, t: Tensor | None, shape: tuple) -> None:
    if t is not None and tuple(t.shape) != shape:
        raise RuntimeError(
            f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
            f"{list(t.shape)} and normalized_shape = {list(shape)}"
        )


def layer_norm(
    input: Tensor,
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize over the trailing ``normalized_shape`` dims, then scale and shift."""
    shape = _normalized(normalized_shape)
    _check_normalized_shape(input, shape, "*, ")
    _check_affine("weight", weight, shape)
    _check_affine("bias", bias, shape)
    return LayerNorm.apply(input, weight, bias, len(shape), eps)


# ----------------------------------------------------------------------------------------------
# group norm and instance norm
# ----------------------------------------------------------------------------------------------


class GroupNorm(Function):
    """y = xhat * w + b (per channel), xhat = (x - mean) * invstd per sample and channel group;  dx = invstd * (gw - mean(gw) - xhat * mean(gw * xhat)) per group, gw = g * w,  dw = sum(g * xhat),  db = sum(g)"""

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, groups, momentum, eps):
        shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)  # broadcasts a (C,) vector over x
        m = x.shape[0] * groups
        n = x.size // m if m else 0  # values per group
        x2 = _rows(x, n)  # (N * G, n)
        mean = _row_mean(x2)  # (N * G,)
        xmu = x2 - mean[:, None]
        var = _row_dot_mean(xmu, xmu)  # biased: used to normalize
        if running_mean is not None:  # instance norm: running stats from the batch mean
            running_mean *= 1 - momentum
            running_mean += momentum * mean.reshape(x.shape[0], -1).mean(0)
            running_var *= 1 - momentum
            running_var += (momentum * n / (n - 1)) * var.reshape(x.shape[0], -1).mean(0)
        invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False)
        xmu *= invstd[:, None]
        xhat = xmu.reshape(x.shape)
        out = _scale_shift(xhat, weight, bias, shape)
        ctx.xhat, ctx.invstd, ctx.n, ctx.groups, ctx.eps = xhat, invstd, n, groups, eps
        ctx.shape, ctx.axes = shape, (0, *range(2, x.ndim))
        ctx.save_for_backward(x, weight)
        return out

    @staticmethod
    def backward(ctx, grad):
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        nones = (None,) * 5
        if is_grad_enabled():
            return (*_group_norm_backward_graph(ctx, grad, need_x, need_w, need_b), *nones)
        g, xhat, n, shape = grad.data, ctx.xhat, ctx.n, ctx.shape
        weight = ctx.saved_tensors[1]
        dx = None
        if need_x:
            gw = _rows(g * weight.data.reshape(shape) if weight is not None else g, n)
            xh2 = _rows(xhat, n)  # (N * G, n)
            dx = xh2 * _row_dot_mean(gw, xh2)[:, None]
            np.subtract(gw, dx, out=dx)
            dx -= _row_mean(gw)[:, None]
            dx *= ctx.invstd[:, None]
            dx = Tensor._make(dx.reshape(g.shape))
        dw = Tensor._make(_channel_sum(g * xhat)) if need_w else None
        db = Tensor._make(_channel_sum(g)) if need_b else None
        return (dx, dw, db, *nones)


def _group_norm_backward_graph(ctx, grad: Tensor, need_x, need_w, need_b):
    """The group-norm gradients as Tensor ops of the saved inputs (differentiable again)."""
    x, weight = ctx.saved_tensors
    grouped = (x.shape[0], ctx.groups, -1)
    xg = x.reshape(grouped)  # (N, G, n)
    xmu = xg - xg.mean(-1, keepdim=True)
    invstd = ((xmu * xmu).mean(-1, keepdim=True) + ctx.eps).rsqrt()  # (N, G, 1)
    xhat = xmu * invstd
    dx = None
    if need_x:
        gw = (grad * weight.reshape(ctx.shape) if weight is not None else grad).reshape(grouped)
        gw = gw - gw.mean(-1, keepdim=True) - xhat * (gw * xhat).mean(-1, keepdim=True)
        dx = (gw * invstd).reshape(x.shape)
    dw = (grad * xhat.reshape(x.shape)).sum(ctx.axes) if need_w else None
    db = grad.sum(ctx.axes) if need_b else None
    return dx, dw, db


def _check_channel_vector(name: str, t: Tensor | None, input: Tensor) -> None:
    c = input.shape[1]
    if t is not None and (t.ndim != 1 or t.shape[0] != c):
        raise RuntimeError(
            f"Expected {name} to be a vector of size equal to the number of channels in input, "
            f"but got {name} of shape {list(t.shape)} and input of shape {list(input.shape)}"
        )


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Split the channels (dim 1) of (N, C, *) input into ``num_groups`` groups, normalize each
    group of each sample, then scale and shift per channel (weight and bias of shape (C,)).

    >>> import mytorch.core as mt
    >>> y = group_norm(mt.randn(2, 4, 3), 2)
    >>> bool(abs(y.reshape(2, 2, -1).mean(-1)).max() < 1e-5)
    True
    """
    if input.ndim < 2:
        raise RuntimeError(
            f"Expected at least 2 dimensions for input tensor but received {input.ndim}"
        )
    groups = int(num_groups)
    if groups <= 0:
        raise RuntimeError(f"group_norm: num_groups must be positive, but got {groups}")
    if input.shape[1] % groups:
        raise RuntimeError(
            f"Expected number of channels in input to be divisible by num_groups, but got "
            f"input of shape {list(input.shape)} and num_groups={groups}"
        )
    _check_channel_vector("weight", weight, input)
    _check_channel_vector("bias", bias, input)
    return GroupNorm.apply(input, weight, bias, None, None, groups, 0.0, eps)


def instance_norm(
    input: Tensor,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize each channel of each sample of (N, C, *) input over its spatial dims.

    With ``use_input_stats`` the sample's own statistics normalize, and the running
    statistics (when given) move toward their mean over the batch (the variance unbiased);
    otherwise the running statistics normalize, as in ``batch_norm`` eval mode.
    """
    if input.ndim < 2:
        raise RuntimeError(
            f"instance_norm: expected input with at least 2 dims (N, C, ...), got {input.ndim}D"
        )
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must either both be None or neither be None")
    c = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and t.numel() != c:
            raise RuntimeError(
                f"{name} should contain {input.shape[0] * c} elements not "
                f"{input.shape[0] * t.numel()}"
            )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.numel() != c:
            raise RuntimeError(
                f"{name} should contain {input.shape[0] * c} elements not "
                f"{input.shape[0] * t.numel()}"
            )
    if not use_input_stats:
        if running_mean is None:
            raise RuntimeError(
                "Expected running_mean and running_var to be defined when use_input_stats is false"
            )
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    if input.numel() // max(input.shape[0] * c, 1) <= 1:
        raise ValueError(
            f"Expected more than 1 spatial element when training, got input size "
            f"{list(input.shape)}"
        )
    out = GroupNorm.apply(input, weight, bias, running_mean, running_var, c, momentum, eps)
    if running_mean is not None:
        running_mean._version += 1
        running_var._version += 1
    return out


# ----------------------------------------------------------------------------------------------
# RMS norm
# ----------------------------------------------------------------------------------------------


class RMSNorm(Function):
    """y = y0 * w, y0 = x * r, r = rsqrt(mean(x^2) + eps) over the last dims;  dx = r * (gw - y0 * mean(gw * y0)) with gw = g * w,  dw = sum(g * y0)"""

    @staticmethod
    def forward(ctx, x, weight, ndim, eps):
        n = int(np.prod(x.shape[x.ndim - ndim :]))
        x2 = _rows(x, n)  # (M, n)
        r = (1.0 / np.sqrt(_row_dot_mean(x2, x2) + eps)).astype(x.dtype, copy=False)  # (M,)
        y0 = x2 * r[:, None]
        ctx.y0, ctx.r, ctx.n, ctx.eps = y0, r, n, eps
        ctx.axes = tuple(range(x.ndim - ndim, x.ndim))
        ctx.save_for_backward(x, weight)
        out = y0 * weight.reshape(n) if weight is not None else y0
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        need_x, need_w = ctx.needs_input_grad[:2]
        axes = ctx.axes
        if is_grad_enabled():
            lead = tuple(range(grad.ndim - len(axes)))
            x, weight = ctx.saved_tensors
            r = ((x * x).mean(axes, keepdim=True) + ctx.eps).rsqrt()
            y0 = x * r
            dx = None
            if need_x:
                gw = grad * weight if weight is not None else grad
                dx = (gw - y0 * (gw * y0).mean(axes, keepdim=True)) * r
            dw = _tsum(grad * y0, lead) if need_w else None
            return dx, dw, None, None
        n, y0, shape = ctx.n, ctx.y0, grad.shape
        g2 = _rows(grad.data, n)  # (M, n)
        weight = ctx.saved_tensors[1]
        dx = None
        if need_x:
            gw = g2 * weight.data.reshape(n) if weight is not None else g2
            dx = y0 * _row_dot_mean(gw, y0)[:, None]
            np.subtract(gw, dx, out=dx)
            dx *= ctx.r[:, None]
            dx = Tensor._make(dx.reshape(shape))
        wshape = shape[len(shape) - len(axes) :]
        dw = Tensor._make(np.einsum("ij,ij->j", g2, y0).reshape(wshape)) if need_w else None
        return dx, dw, None, None


def rms_norm(
    input: Tensor,
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    eps: float | None = None,
) -> Tensor:
    """Divide by the root mean square over the trailing dims, then scale.

    ``eps=None`` uses the machine epsilon of the input's dtype, as PyTorch does.
    """
    shape = _normalized(normalized_shape)
    _check_normalized_shape(input, shape, "*")
    _check_affine("weight", weight, shape)
    if eps is None:
        eps = float(np.finfo(input.dtype).eps)
    if not math.isfinite(eps) or eps < 0:
        raise ValueError(f"rms_norm: eps must be a non-negative finite number, got {eps}")
    return RMSNorm.apply(input, weight, len(shape), eps)
