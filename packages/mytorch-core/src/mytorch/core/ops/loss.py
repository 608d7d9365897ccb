"""Loss ops: cross entropy, NLL, MSE, L1, smooth L1/Huber, binary cross entropy, KL divergence.

Every loss takes PyTorch's arguments, including ``reduction`` ('none' | 'mean' | 'sum') and the
deprecated ``size_average``/``reduce`` pair. The common losses are single fused nodes whose
backward is written once, with differentiable ops, so double backward works.

>>> import mytorch.core as mt
>>> logits = mt.tensor([[2.0, 0.0], [0.0, 2.0]], requires_grad=True)
>>> round(cross_entropy(logits, mt.tensor([0, 1])).item(), 4)
0.1269
"""

from __future__ import annotations

import warnings

import numpy as np

from mytorch.core.autograd import Function
from mytorch.core.ops.activation import (
    LogSoftmax,
    Softmax,
    _log_softmax_np,
    _softplus_np,
    sigmoid,
    softplus,
)
from mytorch.core.tensor import Tensor

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "hinge_embedding_loss",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "margin_ranking_loss",
    "mse_loss",
    "nll_loss",
    "poisson_nll_loss",
    "smooth_l1_loss",
    "soft_margin_loss",
]


# ----------------------------------------------------------------------------------------------
# Reductions
# ----------------------------------------------------------------------------------------------


def _reduction(
    reduction: str, size_average=None, reduce=None, extra: tuple = (), stacklevel: int = 3
) -> str:
    """The reduction to use, honouring the deprecated ``size_average``/``reduce`` pair.

    ``stacklevel`` points the deprecation warning at the caller of the public loss function.
    """
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "mean" if size_average and reduce else ("sum" if reduce else "none")
        warnings.warn(
            f"size_average and reduce args will be deprecated, please use "
            f"reduction='{reduction}' instead.",
            stacklevel=stacklevel,
        )
    if reduction not in ("none", "mean", "sum") + extra:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce_np(loss: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "none":
        return loss
    if reduction == "sum":
        return np.asarray(loss.sum())
    if loss.size == 0:
        return np.asarray(np.nan, loss.dtype)
    return np.asarray(loss.mean())


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.mean()


def _seed(g: Tensor, reduction: str, n: float) -> Tensor:
    if reduction == "mean":
        return g * (1.0 / n if n else 0.0)
    return g


def _same_size_warning(input: Tensor, target: Tensor, stacklevel: int = 3) -> None:
    if input.shape != target.shape:
        warnings.warn(
            f"Using a target size ({list(target.shape)}) that is different to the input size "
            f"({list(input.shape)}). This will likely lead to incorrect results due to "
            f"broadcasting. Please ensure they have the same size.",
            stacklevel=stacklevel,
        )


def _as_float_target(input: Tensor, target: Tensor) -> Tensor:
    if not isinstance(target, Tensor):
        return Tensor._make(np.asarray(target, dtype=input.dtype))
    if target.data.dtype.kind != "f":
        return Tensor._make(target.data.astype(input.dtype))
    return target


def _pointwise(op: type[Function], input: Tensor, target: Tensor, *args) -> Tensor:
    """``op.apply(input, target, *args)``, the last arg being the reduction. Two 0-d operands
    run as 1-element arrays: NumPy ufuncs return scalars for 0-d arrays, which the in-place
    steps of the kernels cannot write into."""
    if input.ndim == 0 and target.ndim == 0:
        out = op.apply(input.reshape(1), target.reshape(1), *args)
        return out.reshape(()) if args[-1] == "none" else out
    return op.apply(input, target, *args)


def _check_float_input(input: Tensor, name: str) -> None:
    if input.data.dtype.kind != "f":
        raise RuntimeError(f"{name}: expected a floating point input, got {input.dtype}")


# ----------------------------------------------------------------------------------------------
# Regression losses: mse, l1, smooth l1, huber
# ----------------------------------------------------------------------------------------------


class MseLoss(Function):
    """out = reduce((x - y)^2);  dx = 2 (x - y) g,  dy = -dx"""

    @staticmethod
    def forward(ctx, x, y, reduction):
        d = np.subtract(x, y)
        ctx.save_for_backward(x, y)
        ctx.reduction, ctx.n = reduction, d.size
        return _reduce_np(np.square(d, out=d), reduction)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        gx = (x - y) * (_seed(g, ctx.reduction, ctx.n) * 2)
        return gx, (-gx if ctx.needs_input_grad[1] else None), None


def _weighted(loss: Tensor, weight: Tensor, input: Tensor, reduction: str, mean_by_weight: bool):
    if weight.shape != input.shape:
        raise ValueError(
            f"Weights and input must have the same size, got weight {list(weight.shape)} and "
            f"input {list(input.shape)}."
        )
    loss = loss * weight
    if reduction == "mean" and mean_by_weight:
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


def _distance_loss(
    op: type[Function], input: Tensor, target: Tensor, size_average, reduce, reduction: str, weight
) -> Tensor:
    """mse_loss/l1_loss: ``op`` on (input, target), optionally weighted (mean by weight.sum())."""
    reduction = _reduction(reduction, size_average, reduce, stacklevel=4)
    target = _as_float_target(input, target)
    _same_size_warning(input, target, stacklevel=4)
    if weight is not None:
        return _weighted(_pointwise(op, input, target, "none"), weight, input, reduction, True)
    return _pointwise(op, input, target, reduction)


def mse_loss(
    input: Tensor,
    target: Tensor,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Mean squared error; with ``weight`` (input's shape), 'mean' divides by weight.sum()."""
    return _distance_loss(MseLoss, input, target, size_average, reduce, reduction, weight)


class L1Loss(Function):
    """out = reduce(|x - y|);  dx = sign(x - y) g,  dy = -dx"""

    @staticmethod
    def forward(ctx, x, y, reduction):
        d = np.subtract(x, y)
        ctx.reduction, ctx.n = reduction, d.size
        ctx.save_for_backward(np.sign(d))
        return _reduce_np(np.abs(d, out=d), reduction)

    @staticmethod
    def backward(ctx, g):
        (sign,) = ctx.saved_tensors
        gx = _seed(g, ctx.reduction, ctx.n) * sign
        return gx, (-gx if ctx.needs_input_grad[1] else None), None


def l1_loss(
    input: Tensor,
    target: Tensor,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Mean absolute error; with ``weight`` (input's shape), 'mean' divides by weight.sum()."""
    return _distance_loss(L1Loss, input, target, size_average, reduce, reduction, weight)


class SmoothL1Loss(Function):
    """out = reduce(k (d^2/2b if |d| < b else |d| - b/2)), d = x - y;  dx = k g clip(d, -b, b)/b"""

    @staticmethod
    def forward(ctx, x, y, beta, scale, reduction):
        ctx.save_for_backward(x, y)
        ctx.args = (beta, scale, reduction)
        a = np.subtract(x, y)
        ctx.n = a.size
        np.abs(a, out=a)
        m = np.minimum(a, beta)  # m (|d| - m/2) / b is d^2 / 2b below b, |d| - b/2 above
        m *= -0.5
        m += a
        m *= np.minimum(a, beta)
        m *= scale / beta
        return _reduce_np(m, reduction)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        beta, scale, reduction = ctx.args
        seed = _seed(g, reduction, ctx.n) * (scale / beta)
        gx = (x - y).clamp(-beta, beta) * seed
        return gx, (-gx if ctx.needs_input_grad[1] else None), None, None, None


def smooth_l1_loss(
    input: Tensor,
    target: Tensor,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """Quadratic for |x - y| < beta, linear beyond; beta=0 gives the L1 loss."""
    reduction = _reduction(reduction, size_average, reduce)
    if beta < 0:
        raise RuntimeError(
            f"smooth_l1_loss does not support negative values for beta, got beta={beta}."
        )
    target = _as_float_target(input, target)
    _same_size_warning(input, target)
    if beta == 0:
        return _pointwise(L1Loss, input, target, reduction)
    return _pointwise(SmoothL1Loss, input, target, float(beta), 1.0, reduction)


def huber_loss(
    input: Tensor,
    target: Tensor,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Tensor | None = None,
) -> Tensor:
    """d^2 / 2 for |d| < delta, delta * (|d| - delta / 2) beyond (d = input - target)."""
    reduction = _reduction(reduction)
    if delta <= 0:
        raise RuntimeError(
            f"huber_loss does not support non-positive values for delta, got delta={delta}."
        )
    target = _as_float_target(input, target)
    _same_size_warning(input, target)
    if weight is not None:
        loss = _pointwise(SmoothL1Loss, input, target, float(delta), float(delta), "none")
        return _weighted(loss, weight, input, reduction, False)
    return _pointwise(SmoothL1Loss, input, target, float(delta), float(delta), reduction)


# ----------------------------------------------------------------------------------------------
# Binary cross entropy
# ----------------------------------------------------------------------------------------------


class BinaryCrossEntropy(Function):
    """out = -w (y log x + (1-y) log(1-x));  dx = g w (x - y) / (x (1-x)),  dy = -g w logit(x)"""

    @staticmethod
    def forward(ctx, x, y, w, reduction):
        ctx.save_for_backward(x, y, w)
        ctx.reduction, ctx.n = reduction, x.size
        with np.errstate(divide="ignore"):
            log_x = np.maximum(np.log(x), -100)
            log_1mx = np.maximum(np.log1p(-x), -100)
        loss = log_x - log_1mx
        loss *= y
        loss += log_1mx
        np.negative(loss, out=loss)
        if w is not None:
            loss *= w
        return _reduce_np(loss, reduction)

    @staticmethod
    def backward(ctx, g):
        x, y, w = ctx.saved_tensors
        seed = _seed(g, ctx.reduction, ctx.n)
        if w is not None:
            seed = seed * w
        gx = gy = None
        if ctx.needs_input_grad[0]:
            gx = (x - y) / (x * (1 - x)).clamp(min=1e-12) * seed
        if ctx.needs_input_grad[1]:
            gy = ((1 - x).log() - x.log()) * seed
        return gx, gy, None, None


def _weight_array(weight: Tensor | None, shape: tuple, dtype, name: str) -> np.ndarray | None:
    if weight is None:
        return None
    w = weight.data if isinstance(weight, Tensor) else np.asarray(weight)
    try:
        np.broadcast_shapes(w.shape, shape)
    except ValueError:
        raise RuntimeError(
            f"{name}: weight of shape {list(w.shape)} cannot be broadcast to the input shape "
            f"{list(shape)}"
        ) from None
    return w.astype(dtype, copy=False)


def binary_cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """-(t log x + (1 - t) log(1 - x)) for probabilities x in [0, 1]; logs are clamped at -100."""
    reduction = _reduction(reduction, size_average, reduce)
    _check_float_input(input, "binary_cross_entropy")
    if target.shape != input.shape:
        raise ValueError(
            f"Using a target size ({list(target.shape)}) that is different to the input size "
            f"({list(input.shape)}) is deprecated. Please ensure they have the same size."
        )
    x = input.data
    if x.size and (x.min() < 0 or x.max() > 1):
        raise RuntimeError(
            f"binary_cross_entropy: all elements of input should be between 0 and 1, got values "
            f"in [{x.min()}, {x.max()}]"
        )
    target = _as_float_target(input, target)
    w = _weight_array(weight, input.shape, input.dtype, "binary_cross_entropy")
    return _pointwise(BinaryCrossEntropy, input, target, w, reduction)


class BinaryCrossEntropyWithLogits(Function):
    """out = w ((1-y) x + l softplus(-x)), l = 1 + (p-1) y;  dx = g w (l sigmoid(x) - p y)"""

    @staticmethod
    def forward(ctx, x, y, w, pw, reduction):
        ctx.save_for_backward(x, y, w, pw)
        ctx.reduction, ctx.n = reduction, np.broadcast(x, y).size
        sp = _softplus_np(-x)  # log(1 + exp(-x)), stable
        if pw is not None:
            sp *= (pw - 1) * y + 1
        loss = np.multiply(1 - y, x)
        loss += sp
        if w is not None:
            loss *= w
        return _reduce_np(loss, reduction)

    @staticmethod
    def backward(ctx, g):
        x, y, w, pw = ctx.saved_tensors
        seed = _seed(g, ctx.reduction, ctx.n)
        if w is not None:
            seed = seed * w
        gx = gy = None
        if pw is None:
            if ctx.needs_input_grad[0]:
                gx = (sigmoid(x) - y) * seed
            if ctx.needs_input_grad[1]:
                gy = -x * seed
        else:
            if ctx.needs_input_grad[0]:
                gx = ((y * (pw - 1) + 1) * sigmoid(x) - pw * y) * seed
            if ctx.needs_input_grad[1]:
                gy = ((pw - 1) * softplus(-x, 1.0, np.inf) - x) * seed
        return gx, gy, None, None, None


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Binary cross entropy of sigmoid(input), computed stably from the logits.

    ``pos_weight`` (broadcast along the last dimension, one per class) scales positive targets.
    """
    reduction = _reduction(reduction, size_average, reduce)
    _check_float_input(input, "binary_cross_entropy_with_logits")
    if target.shape != input.shape:
        raise ValueError(
            f"Target size ({list(target.shape)}) must be the same as input size "
            f"({list(input.shape)})"
        )
    target = _as_float_target(input, target)
    name = "binary_cross_entropy_with_logits"
    w = _weight_array(weight, input.shape, input.dtype, name)
    pw = _weight_array(pos_weight, input.shape, input.dtype, name + " (pos_weight)")
    return _pointwise(BinaryCrossEntropyWithLogits, input, target, w, pw, reduction)


# ----------------------------------------------------------------------------------------------
# Classification: nll_loss and cross_entropy
# ----------------------------------------------------------------------------------------------


def _pick(a: np.ndarray, t: np.ndarray) -> np.ndarray:
    """a[n, t[n, ...], ...]: the entries of a (N, C, *d) at the classes t (N, *d)."""
    if a.ndim == 2:
        return a[np.arange(a.shape[0]), t]
    return np.take_along_axis(a, t[:, None], axis=1)[:, 0]


def _add_at(a: np.ndarray, t: np.ndarray, vals: np.ndarray) -> None:
    """a[n, t[n, ...], ...] += vals, in place."""
    if a.ndim == 2:
        a[np.arange(a.shape[0]), t] += vals
    else:
        idx = t[:, None]
        np.put_along_axis(a, idx, np.take_along_axis(a, idx, axis=1) + vals[:, None], axis=1)


def _class_dim_view(w: np.ndarray, ndim: int) -> np.ndarray:
    """A (C,) array shaped to broadcast along dim 1 of an (N, C, *d) array."""
    return w.reshape((-1,) + (1,) * (ndim - 2))


def _targets(target: np.ndarray, ignore_index: int, w: np.ndarray | None, dtype):
    """(valid mask, safe class indices, per-target weights wt, total weight W)."""
    valid = target != ignore_index
    all_valid = bool(valid.all())
    t = target if all_valid else np.where(valid, target, 0)
    if w is None:
        wt = valid.astype(dtype)
        total = float(target.size if all_valid else np.count_nonzero(valid))
    else:
        wt = w[t]
        if not all_valid:
            wt *= valid
        total = float(wt.sum())
    return valid, t, wt, total


def _reduce_by_weight(loss: np.ndarray, reduction: str, total: float) -> np.ndarray:
    """'mean' divides by the total weight of the counted targets (NaN when it is 0)."""
    if reduction == "none":
        return loss
    s = loss.sum()
    if reduction == "sum":
        return np.asarray(s, loss.dtype)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(s / total, loss.dtype)


class NllLoss(Function):
    """out = reduce(-w[t] x[n, t]) ('mean': / sum of w[t]);  dx = -w[t] g at [n, t], else 0"""

    @staticmethod
    def forward(ctx, x, target, w, ignore_index, reduction):
        valid, t, wt, total = _targets(target, ignore_index, w, x.dtype)
        ctx.total, ctx.reduction, ctx.shape, ctx.dtype = total, reduction, x.shape, x.dtype
        ctx.save_for_backward(t, wt)
        loss = _pick(x, t)
        loss *= wt
        np.negative(loss, out=loss)
        return _reduce_by_weight(loss, reduction, total)

    @staticmethod
    def backward(ctx, g):
        t, wt = ctx.saved_arrays
        reduction = ctx.reduction
        m = np.zeros(ctx.shape, ctx.dtype)
        _add_at(m, t, -wt)
        if reduction == "none":
            g = g.reshape(g.shape[:1] + (1,) + g.shape[1:])
        return _seed(g, reduction, ctx.total) * Tensor._make(m), None, None, None, None


class CrossEntropy(Function):
    """out = -sum_c q_c log_softmax(x)_c, q: weighted smoothed one-hot;  dx = g (p sum(q) - q)"""

    @staticmethod
    def forward(ctx, x, target, w, ignore_index, reduction, smoothing):
        c = x.shape[1]
        valid, t, wt, total = _targets(target, ignore_index, w, x.dtype)
        z = x - x.max(axis=1, keepdims=True)
        e = np.exp(z)
        s = e.sum(axis=1, keepdims=True)
        lse = np.log(s)[:, 0]  # (N, *d)
        loss = lse - _pick(z, t)  # -log p[t]
        loss *= wt
        if smoothing:
            if w is None:
                smooth = lse * c - z.sum(axis=1)
            else:
                smooth = lse * w.sum() - (z * _class_dim_view(w, x.ndim)).sum(axis=1)
            if not valid.all():
                smooth *= valid
            loss *= 1 - smoothing
            loss += smooth * (smoothing / c)
        ctx.save_for_backward(x, t, valid, wt, w)
        ctx.total, ctx.reduction, ctx.smoothing = total, reduction, smoothing
        return _reduce_by_weight(loss, reduction, total)

    @staticmethod
    def backward(ctx, g):
        x, t, valid, wt, w = ctx.saved_tensors
        t, valid, wt = t.data, valid.data, wt.data
        w = None if w is None else w.data
        reduction, eps = ctx.reduction, ctx.smoothing
        ndim, c = x.ndim, x.shape[1]
        # q = (1 - eps) wt onehot(t) + the smoothing term; it sums to big_s at each position
        q = np.zeros(x.shape, x.dtype)
        _add_at(q, t, wt * (1 - eps))
        big_s = wt
        if eps:
            wsum = c if w is None else float(w.sum())
            fvalid = valid.astype(wt.dtype)
            big_s = wt * (1 - eps) + fvalid * (eps * wsum / c)
            wb = 1.0 if w is None else _class_dim_view(w, ndim)
            q += np.expand_dims(fvalid, 1) * (wb * (eps / c))
        if reduction == "none":
            g = g.reshape(g.shape[:1] + (1,) + g.shape[1:])
        p = Softmax.apply(x, 1)
        big_s = Tensor._make(np.expand_dims(big_s, 1).astype(x.dtype, copy=False))
        gx = (p * big_s - Tensor._make(q)) * _seed(g, reduction, ctx.total)
        return gx, None, None, None, None, None


class SoftTargetCrossEntropy(Function):
    """out = -sum_c w_c q_c log_softmax(x)_c;  dx = g (p sum(w q) - w q),  dq = -g w logp"""

    @staticmethod
    def forward(ctx, x, q, w, reduction, smoothing):
        c = x.shape[1]
        logp = _log_softmax_np(x, 1)
        coef = SoftTargetCrossEntropy._coef(q.astype(x.dtype, copy=False), w, smoothing, c)
        loss = (coef * logp).sum(axis=1)
        np.negative(loss, out=loss)
        ctx.save_for_backward(x, q, w)
        ctx.reduction, ctx.smoothing = reduction, smoothing
        ctx.n = x.size // c if c else 0
        if reduction == "none":
            return loss
        if reduction == "sum":
            return np.asarray(loss.sum())
        if ctx.n == 0:
            return np.asarray(np.nan, x.dtype)
        return np.asarray(loss.sum() / ctx.n, x.dtype)

    @staticmethod
    def _coef(q, w, smoothing: float, c: int):
        if smoothing:
            q = q * (1 - smoothing) + smoothing / c
        if w is not None:
            q = q * _class_dim_view(w, q.ndim)
        return q

    @staticmethod
    def backward(ctx, g):
        x, q, w = ctx.saved_tensors
        reduction, eps, n = ctx.reduction, ctx.smoothing, ctx.n
        c = x.shape[1]
        gx = gq = None
        if reduction == "none":
            g = g.reshape(g.shape[:1] + (1,) + g.shape[1:])
        seed = _seed(g, reduction, n)
        wt = None if w is None else Tensor._make(_class_dim_view(w.data, x.ndim))
        if ctx.needs_input_grad[0]:
            coef = q * (1 - eps) + eps / c if eps else q
            if wt is not None:
                coef = coef * wt
            gx = (Softmax.apply(x, 1) * coef.sum(1, keepdim=True) - coef) * seed
        if ctx.needs_input_grad[1]:
            lw = LogSoftmax.apply(x, 1) if wt is None else LogSoftmax.apply(x, 1) * wt
            gq = lw * (seed * -(1 - eps))
        return gx, gq, None, None, None


def _class_weight(weight, c: int, dtype) -> np.ndarray | None:
    if weight is None:
        return None
    w = weight.data if isinstance(weight, Tensor) else np.asarray(weight)
    if w.shape != (c,):
        raise RuntimeError(
            f"weight tensor should be defined either for all {c} classes or no classes but got "
            f"weight tensor of shape: {list(w.shape)}"
        )
    return w.astype(dtype, copy=False)


def _check_class_target(input: Tensor, target: Tensor, ignore_index: int, name: str) -> None:
    if input.ndim == 0:
        raise ValueError(f"{name}: Expected 1 or more dimensions (got 0)")
    if target.data.dtype.kind not in "iu":
        raise RuntimeError(
            f"{name}: expected target dtype to be an integer type (class indices), but got "
            f"{target.dtype}"
        )
    shape = input.shape
    if input.ndim == 1:
        expected: tuple = ()
    else:
        if target.ndim == 0 or target.shape[0] != shape[0]:
            got = target.shape[0] if target.ndim else "a scalar"
            raise ValueError(
                f"{name}: Expected input batch_size ({shape[0]}) to match target batch_size "
                f"({got})."
            )
        expected = shape[:1] + shape[2:]
    if target.shape != expected:
        raise RuntimeError(
            f"{name}: Expected target size {list(expected)}, got {list(target.shape)}"
        )
    c = shape[0] if input.ndim == 1 else shape[1]
    t = target.data
    bad = ((t < 0) | (t >= c)) & (t != ignore_index)
    if bad.any():
        value = int(t[bad].flat[0])
        raise IndexError(
            f"{name}: Target {value} is out of bounds (expected 0 <= target < {c} classes, or "
            f"target == ignore_index {ignore_index})."
        )


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log likelihood of log-probabilities ``input`` (N, C, *d) at class indices.

    'mean' divides by the summed weights of the targets that are not ``ignore_index``.
    """
    reduction = _reduction(reduction, size_average, reduce)
    _check_class_target(input, target, ignore_index, "nll_loss")
    if input.ndim == 1:
        c = input.shape[0]
        out = nll_loss(
            input.reshape(1, c), target.reshape(1), weight, None, ignore_index, None, reduction
        )
        return out.reshape(()) if reduction == "none" else out
    w = _class_weight(weight, input.shape[1], input.dtype)
    return NllLoss.apply(input, target.data, w, ignore_index, reduction)


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross entropy between softmax(input) over dim 1 and class indices or class probabilities.

    ``input`` is (N, C, *d) (or (C,)); ``target`` is class indices of shape (N, *d), or
    probabilities of input's shape. With indices, 'mean' divides by the summed ``weight`` of the
    non-ignored targets; with probabilities, by the number of positions N * prod(d).

    >>> import mytorch.core as mt
    >>> round(cross_entropy(mt.zeros(2, 4), mt.tensor([1, 3])).item(), 4)  # log(4)
    1.3863
    """
    reduction = _reduction(reduction, size_average, reduce)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(
            f"cross_entropy: label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}"
        )
    _check_float_input(input, "cross_entropy")
    if input.ndim == 0:
        raise ValueError("cross_entropy: Expected 1 or more dimensions (got 0)")
    unbatched = input.ndim == 1
    c = input.shape[0] if unbatched else input.shape[1]
    w = _class_weight(weight, c, input.dtype)
    if target.shape == input.shape:  # class probabilities
        if target.data.dtype.kind != "f":
            raise RuntimeError(
                f"cross_entropy: Expected floating point type for target with class "
                f"probabilities, got {target.dtype}"
            )
        if ignore_index >= 0:
            raise RuntimeError(
                "cross_entropy: ignore_index is not supported for floating point target"
            )
        if unbatched:
            input, target = input.reshape(1, c), target.reshape(1, c)
        out = SoftTargetCrossEntropy.apply(input, target, w, reduction, float(label_smoothing))
        return out.reshape(()) if unbatched and reduction == "none" else out
    _check_class_target(input, target, ignore_index, "cross_entropy")
    t = target.data
    if unbatched:
        input, t = input.reshape(1, c), t.reshape(1)
    out = CrossEntropy.apply(input, t, w, ignore_index, reduction, float(label_smoothing))
    return out.reshape(()) if unbatched and reduction == "none" else out


# ----------------------------------------------------------------------------------------------
# Distribution and margin losses
# ----------------------------------------------------------------------------------------------


def _batch(x) -> int:
    """The batch size 'batchmean' divides by: dim 0 (1 for a 0-d input)."""
    return x.shape[0] if x.ndim else 1


class KlDiv(Function):
    """out = y (log y - x) (or e^y (y - x));  dx = -g y (or -g e^y),  dy = g (log y + 1 - x)"""

    @staticmethod
    def forward(ctx, x, y, log_target, reduction):
        ctx.save_for_backward(x, y)
        ctx.log_target, ctx.reduction = log_target, reduction
        n = np.broadcast(x, y).size
        ctx.n = n
        if log_target:
            loss = np.exp(y) * (y - x)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                loss = np.where(y > 0, y * np.log(np.where(y > 0, y, 1)), 0) - y * x
            loss = loss.astype(np.result_type(x, y), copy=False)
        if reduction == "batchmean":  # an empty batch gives NaN, as in PyTorch
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.asarray(loss.sum() / loss.dtype.type(_batch(x)), loss.dtype)
        return _reduce_np(loss, reduction)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        gx = gy = None
        if ctx.reduction == "batchmean":
            seed_factor = 1.0 / _batch(x) if _batch(x) else 0.0  # no elements to scale
            reduction = "sum"
        else:
            seed_factor, reduction = 1.0, ctx.reduction
        seed = _seed(g, reduction, ctx.n) * seed_factor
        py = y.exp() if ctx.log_target else y
        if ctx.needs_input_grad[0]:
            gx = -py * seed
        if ctx.needs_input_grad[1]:
            gy = ((y - x + 1) * py if ctx.log_target else y.log() + 1 - x) * seed
        return gx, gy, None, None


def kl_div(
    input: Tensor,
    target: Tensor,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """KL divergence sum(target * (log(target) - input)) with ``input`` in log space.

    'batchmean' divides the sum by the batch size (the mathematically correct KL mean);
    'mean' divides by the number of elements.
    """
    reduction = _reduction(reduction, size_average, reduce, extra=("batchmean",))
    if reduction == "mean":
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support "
            "size.'batchmean' divides only by the batch size, and aligns with the KL div math "
            "definition.'mean' will be changed to behave the same as 'batchmean' in the next "
            "major release.",
            stacklevel=2,
        )
    target = _as_float_target(input, target)
    return _pointwise(KlDiv, input, target, bool(log_target), reduction)


def margin_ranking_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0.0,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """max(0, -target * (input1 - input2) + margin), target in {1, -1}."""
    reduction = _reduction(reduction, size_average, reduce)
    if input1.ndim != input2.ndim or input1.ndim != target.ndim:
        raise RuntimeError(
            f"margin_ranking_loss: All input tensors should have same dimension but got sizes: "
            f"input1: {list(input1.shape)}, input2: {list(input2.shape)}, target: "
            f"{list(target.shape)}"
        )
    loss = ((input2 - input1) * target + margin).clamp(min=0)
    return _reduce(loss, reduction)


def soft_margin_loss(
    input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean"
) -> Tensor:
    """log(1 + exp(-target * input)), target in {1, -1}."""
    reduction = _reduction(reduction, size_average, reduce)
    return _reduce(softplus(-input * target, 1.0, np.inf), reduction)


def hinge_embedding_loss(
    input: Tensor,
    target: Tensor,
    margin: float = 1.0,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """input where target == 1, max(0, margin - input) where target == -1."""
    reduction = _reduction(reduction, size_average, reduce)
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    pos = Tensor._make((t != -1).astype(input.dtype))
    neg = Tensor._make((t != 1).astype(input.dtype))
    loss = input * pos + (margin - input).clamp(min=0) * neg
    return _reduce(loss, reduction)


def poisson_nll_loss(
    input: Tensor,
    target: Tensor,
    log_input: bool = True,
    full: bool = False,
    size_average=None,
    eps: float = 1e-8,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """Poisson negative log likelihood: exp(input) - target * input (log_input), else
    input - target * log(input + eps); ``full`` adds the Stirling term for target > 1."""
    reduction = _reduction(reduction, size_average, reduce)
    target = _as_float_target(input, target)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:  # Stirling's approximation of log(target!), for target > 1
        big = Tensor._make((target.data > 1).astype(input.dtype))
        t = target * big + (1 - big)  # 1 where target <= 1, keeping the logs finite
        loss = loss + (t * t.log() - t + (t * (2 * np.pi)).log() * 0.5) * big
    return _reduce(loss, reduction)
