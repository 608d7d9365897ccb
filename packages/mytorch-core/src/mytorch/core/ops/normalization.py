"""Fused normalization ops: batch, layer, group, instance and RMS norm, each one graph node.

Forward computes the statistics once and keeps the normalized input; backward is one more
op, ``XxxBackward``, whose forward evaluates the closed-form gradient on those arrays in NumPy
and whose own backward is the vector-Jacobian product of the same gradient written in Tensor
ops, so second derivatives are exact too.

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

from mytorch.core.autograd import Function, vjp
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
        ctx.shape, ctx.training, ctx.eps = shape, training, eps
        ctx.save_for_backward(x, weight, xhat, invstd, mean)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight, xhat, invstd, mean = ctx.saved_tensors
        needs = ctx.needs_input_grad[:3]
        args = (grad, x, weight, xhat.data, invstd.data, mean.data, ctx.training, ctx.eps, needs)
        return (*_spread(BatchNormBackward.apply(*args), needs), None, None, None, None, None)


class BatchNormBackward(Function):
    """(dx, dw, db) = batch norm's gradients in NumPy from xhat and invstd (only those needed);  backward: their vector-Jacobian product written in mytorch ops"""

    @staticmethod
    def forward(ctx, g, x, weight, xhat, invstd, mean, training, eps, needs):
        ctx.training, ctx.eps, ctx.needs = training, eps, needs
        ctx.save_for_backward(g, x, weight, mean, invstd)
        need_x, need_w, need_b = needs
        shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)  # broadcasts a (C,) vector over x
        sum_g = _channel_sum(g)  # (C,)
        sum_gx = _channel_sum(g * xhat)  # (C,)
        dx = None
        if need_x:
            scale = invstd if weight is None else invstd * weight  # (C,)
            if training:
                n = g.dtype.type(x.size // x.shape[1])
                dx = xhat * (sum_gx / n).reshape(shape)
                np.subtract(g, dx, out=dx)
                dx -= (sum_g / n).reshape(shape)
                dx *= scale.reshape(shape)
            else:
                dx = g * scale.reshape(shape)
        return _pack((dx, sum_gx, sum_g), needs)

    @staticmethod
    def backward(ctx, *gouts):
        g, x, weight, mean, invstd = ctx.saved_tensors
        training, eps, needs = ctx.training, ctx.eps, ctx.needs

        def grads(g, x, weight):
            out = _batch_norm_grads(g, x, weight, mean, invstd, training, eps)
            return _pack(out, needs)

        return (*vjp(grads, (g, x, weight), gouts), None, None, None, None, None, None)


def _batch_norm_grads(grad, x, weight, mean, invstd, training, eps) -> tuple:
    """(dx, dw, db) of batch norm as Tensor ops of the inputs (differentiable again)."""
    axes = (0, *range(2, x.ndim))
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    if training:
        xmu = x - x.mean(axes, keepdim=True)
        invstd = ((xmu * xmu).mean(axes, keepdim=True) + eps).rsqrt()
    else:  # the running statistics: constants
        xmu = x - mean.detach().reshape(shape)
        invstd = invstd.detach().reshape(shape)
    xhat = xmu * invstd
    gw = grad * weight.reshape(shape) if weight is not None else grad
    if training:
        gw = gw - gw.mean(axes, keepdim=True) - xhat * (gw * xhat).mean(axes, keepdim=True)
    return gw * invstd, (grad * xhat).sum(axes), grad.sum(axes)


def _pack(grads: tuple, needs: tuple):
    """The gradients a backward op returns: only the needed ones (one array alone)."""
    out = tuple(g for g, n in zip(grads, needs) if n)
    return out if len(out) > 1 else out[0]


def _spread(grads, needs: tuple) -> tuple:
    """A backward op's outputs (only the needed gradients) spread back over ``needs``."""
    it = iter(grads if isinstance(grads, tuple) else (grads,))
    return tuple(next(it) if n else None for n in needs)


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
        ctx.ndim, ctx.eps = ndim, eps
        ctx.save_for_backward(x, weight, xhat, invstd)
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        x, weight, xhat, invstd = ctx.saved_tensors
        needs = ctx.needs_input_grad[:3]
        args = (grad, x, weight, xhat.data, invstd.data, ctx.ndim, ctx.eps, needs)
        return (*_spread(LayerNormBackward.apply(*args), needs), None, None)


class LayerNormBackward(Function):
    """(dx, dw, db) = layer norm's gradients in NumPy from xhat and invstd (only those needed);  backward: their vector-Jacobian product written in mytorch ops"""

    @staticmethod
    def forward(ctx, grad, x, weight, xhat, invstd, ndim, eps, needs):
        ctx.ndim, ctx.eps, ctx.needs = ndim, eps, needs
        ctx.save_for_backward(grad, x, weight)
        n, shape = xhat.shape[1], grad.shape
        wshape = shape[len(shape) - ndim :]
        g2 = _rows(grad, n)  # (M, n)
        dx = dw = db = None
        if needs[0]:
            gw = g2 * weight.reshape(n) if weight is not None else g2
            dx = xhat * _row_dot_mean(gw, xhat)[:, None]
            np.subtract(gw, dx, out=dx)
            dx -= _row_mean(gw)[:, None]
            dx *= invstd[:, None]
            dx = dx.reshape(shape)
        if needs[1]:
            dw = np.einsum("ij,ij->j", g2, xhat).reshape(wshape)
        if needs[2]:
            db = g2.sum(0).reshape(wshape)
        return _pack((dx, dw, db), needs)

    @staticmethod
    def backward(ctx, *gouts):
        grad, x, weight = ctx.saved_tensors
        ndim, eps, needs = ctx.ndim, ctx.eps, ctx.needs

        def grads(grad, x, weight):
            return _pack(_layer_norm_grads(grad, x, weight, ndim, eps), needs)

        return (*vjp(grads, (grad, x, weight), gouts), None, None, None, None, None)


def _layer_norm_grads(grad, x, weight, ndim, eps) -> tuple:
    """(dx, dw, db) of layer norm as Tensor ops of the inputs (differentiable again)."""
    axes = tuple(range(x.ndim - ndim, x.ndim))
    lead = tuple(range(x.ndim - ndim))
    xmu = x - x.mean(axes, keepdim=True)
    invstd = ((xmu * xmu).mean(axes, keepdim=True) + eps).rsqrt()
    xhat = xmu * invstd
    gw = grad * weight if weight is not None else grad
    gw = gw - gw.mean(axes, keepdim=True) - xhat * (gw * xhat).mean(axes, keepdim=True)
    return gw * invstd, _tsum(grad * xhat, lead), _tsum(grad, lead)


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
        ctx.groups, ctx.eps = groups, eps
        ctx.save_for_backward(x, weight, xhat, invstd)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight, xhat, invstd = ctx.saved_tensors
        needs = ctx.needs_input_grad[:3]
        args = (grad, x, weight, xhat.data, invstd.data, ctx.groups, ctx.eps, needs)
        return (*_spread(GroupNormBackward.apply(*args), needs), None, None, None, None, None)


class GroupNormBackward(Function):
    """(dx, dw, db) = group norm's gradients in NumPy from xhat and invstd (only those needed);  backward: their vector-Jacobian product written in mytorch ops"""

    @staticmethod
    def forward(ctx, g, x, weight, xhat, invstd, groups, eps, needs):
        ctx.groups, ctx.eps, ctx.needs = groups, eps, needs
        ctx.save_for_backward(g, x, weight)
        shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        m = x.shape[0] * groups
        n = x.size // m if m else 0  # values per group
        dx = None
        if needs[0]:
            gw = _rows(g * weight.reshape(shape) if weight is not None else g, n)
            xh2 = _rows(xhat, n)  # (N * G, n)
            dx = xh2 * _row_dot_mean(gw, xh2)[:, None]
            np.subtract(gw, dx, out=dx)
            dx -= _row_mean(gw)[:, None]
            dx *= invstd[:, None]
            dx = dx.reshape(g.shape)
        dw = _channel_sum(g * xhat) if needs[1] else None
        db = _channel_sum(g) if needs[2] else None
        return _pack((dx, dw, db), needs)

    @staticmethod
    def backward(ctx, *gouts):
        g, x, weight = ctx.saved_tensors
        groups, eps, needs = ctx.groups, ctx.eps, ctx.needs

        def grads(g, x, weight):
            return _pack(_group_norm_grads(g, x, weight, groups, eps), needs)

        return (*vjp(grads, (g, x, weight), gouts), None, None, None, None, None)


def _group_norm_grads(grad, x, weight, groups, eps) -> tuple:
    """(dx, dw, db) of group norm as Tensor ops of the inputs (differentiable again)."""
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    axes = (0, *range(2, x.ndim))
    grouped = (x.shape[0], groups, -1)
    xg = x.reshape(grouped)  # (N, G, n)
    xmu = xg - xg.mean(-1, keepdim=True)
    invstd = ((xmu * xmu).mean(-1, keepdim=True) + eps).rsqrt()  # (N, G, 1)
    xhat = xmu * invstd
    gw = (grad * weight.reshape(shape) if weight is not None else grad).reshape(grouped)
    gw = gw - gw.mean(-1, keepdim=True) - xhat * (gw * xhat).mean(-1, keepdim=True)
    dx = (gw * invstd).reshape(x.shape)
    return dx, (grad * xhat.reshape(x.shape)).sum(axes), grad.sum(axes)


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
        ctx.ndim, ctx.eps = ndim, eps
        ctx.save_for_backward(x, weight, y0, r)
        out = y0 * weight.reshape(n) if weight is not None else y0
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        x, weight, y0, r = ctx.saved_tensors
        needs = ctx.needs_input_grad[:2]
        args = (grad, x, weight, y0.data, r.data, ctx.ndim, ctx.eps, needs)
        return (*_spread(RMSNormBackward.apply(*args), needs), None, None)


class RMSNormBackward(Function):
    """(dx, dw) = RMS norm's gradients in NumPy from y0 and r (only those needed);  backward: their vector-Jacobian product written in mytorch ops"""

    @staticmethod
    def forward(ctx, grad, x, weight, y0, r, ndim, eps, needs):
        ctx.ndim, ctx.eps, ctx.needs = ndim, eps, needs
        ctx.save_for_backward(grad, x, weight)
        n, shape = y0.shape[1], grad.shape
        g2 = _rows(grad, n)  # (M, n)
        dx = dw = None
        if needs[0]:
            gw = g2 * weight.reshape(n) if weight is not None else g2
            dx = y0 * _row_dot_mean(gw, y0)[:, None]
            np.subtract(gw, dx, out=dx)
            dx *= r[:, None]
            dx = dx.reshape(shape)
        if needs[1]:
            dw = np.einsum("ij,ij->j", g2, y0).reshape(shape[len(shape) - ndim :])
        return _pack((dx, dw), needs)

    @staticmethod
    def backward(ctx, *gouts):
        grad, x, weight = ctx.saved_tensors
        ndim, eps, needs = ctx.ndim, ctx.eps, ctx.needs

        def grads(grad, x, weight):
            return _pack(_rms_norm_grads(grad, x, weight, ndim, eps), needs)

        return (*vjp(grads, (grad, x, weight), gouts), None, None, None, None, None)


def _rms_norm_grads(grad, x, weight, ndim, eps) -> tuple:
    """(dx, dw) of RMS norm as Tensor ops of the inputs (differentiable again)."""
    axes = tuple(range(x.ndim - ndim, x.ndim))
    r = ((x * x).mean(axes, keepdim=True) + eps).rsqrt()
    y0 = x * r
    gw = grad * weight if weight is not None else grad
    dx = (gw - y0 * (gw * y0).mean(axes, keepdim=True)) * r
    return dx, _tsum(grad * y0, tuple(range(x.ndim - ndim)))


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
