"""Fused scaled dot-product attention: softmax(q k^T * scale + mask) v in one op.

Shapes follow PyTorch: query (..., L, E), key (..., S, E), value (..., S, Ev) with batch dims
that broadcast, output (..., L, Ev). A boolean ``attn_mask`` keeps the positions that are True,
a float one is added to the scores; rows with every position masked give zeros, as in PyTorch.

>>> import mytorch.core as mt
>>> q, k, v = mt.ones(2, 3, 4), mt.ones(2, 5, 4), mt.ones(2, 5, 6)
>>> scaled_dot_product_attention(q, k, v, is_causal=True).shape
(2, 3, 6)
"""

from __future__ import annotations

import math

import numpy as np

from mytorch.core.autograd import Function, vjp
from mytorch.core.ops.elementwise import exp, where
from mytorch.core.ops.linalg import _matmul, matmul
from mytorch.core.random import rng
from mytorch.core.tensor import Tensor

__all__ = ["scaled_dot_product_attention"]


# ----------------------------------------------------------------------------------------------
# Helpers on arrays (the fused forward and first-order backward)
# ----------------------------------------------------------------------------------------------


def _repeat_heads(x: np.ndarray, n: int) -> np.ndarray:
    """Each head (dim -3) of ``x`` repeated ``n`` times in place: (..., H, S, E) -> (..., H*n, S, E)."""
    return x if n == 1 else np.repeat(x, n, axis=-3)


def _sum_heads(g: np.ndarray, n: int) -> np.ndarray:
    """The adjoint of ``_repeat_heads``: each group of ``n`` consecutive heads summed."""
    if n == 1:
        return g
    return g.reshape(g.shape[:-3] + (g.shape[-3] // n, n) + g.shape[-2:]).sum(-3)


def _row_max(s: np.ndarray) -> np.ndarray:
    """(..., L, 1) maxima of the rows of ``s``, 0 for rows that are entirely -inf."""
    m = s.max(-1, keepdims=True)
    if not np.isfinite(m).all():
        m[np.isneginf(m)] = 0
    return m


def _row_sum(s: np.ndarray) -> np.ndarray:
    """(..., L, 1) sums of the rows of the C-contiguous ``s`` (one BLAS matrix-vector product)."""
    n = s.shape[-1]
    return (s.reshape(-1, n) @ np.ones(n, s.dtype)).reshape(s.shape[:-1] + (1,))


def _scores(q, kx, mask, masked, scale, mean: bool = False):
    """(..., L, S) q kx^T * scale, plus the float mask, -inf where ``masked``; with ``mean``
    also the (..., L, 1) row means of q kx^T * scale (before any mask)."""
    if q.shape[-1] <= kx.shape[-2]:  # scale the smaller of q (..., L, E) and the scores
        s = _matmul(q * q.dtype.type(scale), kx.swapaxes(-1, -2))
    else:
        s = _matmul(q, kx.swapaxes(-1, -2))
        s *= scale
    row_mean = _row_sum(s) * s.dtype.type(1 / s.shape[-1]) if mean else None
    if mask is not None:
        s += mask
    if masked is not None:
        np.copyto(s, -np.inf, where=masked)
    return (s, row_mean) if mean else s


def _exp_rows_(s: np.ndarray, shift: np.ndarray | None = None) -> np.ndarray | None:
    """Replace the scores ``s`` (..., L, S) by exp(s - row shift), in place; return the row sums
    (..., L, 1), the softmax denominators (1 for rows entirely -inf, which become 0).

    With ``shift`` (per row, any value near the row's scores) a slow row-max pass is saved;
    None is returned, ``s`` left spoiled, when the sums get near overflow or underflow (the
    caller then recomputes ``s`` and calls again without it).
    """
    exact = shift is None
    s -= _row_max(s) if exact else shift
    with np.errstate(over="ignore", under="ignore"):
        np.exp(s, out=s)
    den = _row_sum(s)  # (..., L, 1)
    if not exact:
        info = np.finfo(s.dtype)  # sums far from both ends of the range keep full precision
        if not ((den > math.sqrt(info.tiny)) & (den < math.sqrt(info.max))).all():
            return None
    if not den.all():
        den[den == 0] = 1  # fully masked rows: all zeros
    return den


class ScaledDotProductAttention(Function):
    """out = P v, P = softmax(q k^T * scale + mask) (dropped out by m);  dv = (P m)^T g,  dS = P * (dP - sum(dP * P)) with dP = (g v^T) m,  dq = dS k * scale,  dk = dS^T q * scale,  dmask = dS"""

    @staticmethod
    def forward(ctx, q, k, v, mask, masked, drop, scale, groups):
        # q (..., L, E), k (..., Hk, S, E), v (..., Hv, S, Ev); mask adds to the scores,
        # masked (bool) excludes positions, drop is the scaled dropout keep-mask.
        # P = e / den is kept unnormalized: e (..., L, S) and den (..., L, 1).
        kx, vx = _repeat_heads(k, groups[0]), _repeat_heads(v, groups[1])
        if kx.shape[-2]:
            # shift by the mean of the unmasked scores; by the exact row maxima if that fails
            e, mean = _scores(q, kx, mask, masked, scale, mean=True)  # (..., L, S), (..., L, 1)
            den = _exp_rows_(e, mean)
            if den is None:
                e = _scores(q, kx, mask, masked, scale)
                den = _exp_rows_(e)
        else:  # no keys: zeros, as PyTorch
            e = _scores(q, kx, mask, masked, scale)
            den = np.ones(e.shape[:-1] + (1,), e.dtype)
        out = _matmul(e if drop is None else e * drop, vx)  # (..., L, Ev)
        out /= den
        ctx.scale, ctx.groups = scale, groups
        ctx.save_for_backward(q, k, v, mask, e, den, masked, drop)
        return out

    @staticmethod
    def backward(ctx, grad):
        q, k, v, mask, e, den, masked, drop = ctx.saved_tensors
        needs = ctx.needs_input_grad[:4]
        e, den, masked, drop = (None if t is None else t.data for t in (e, den, masked, drop))
        grads = AttentionBackward.apply(
            grad, q, k, v, mask, e, den, masked, drop, ctx.scale, ctx.groups, needs
        )
        grads = iter(grads if isinstance(grads, tuple) else (grads,))
        return (*(next(grads) if n else None for n in needs), None, None, None, None)


class AttentionBackward(Function):
    """(dq, dk, dv, dmask) = attention's gradients in NumPy, from P kept as e / den (only those needed);  backward: their vector-Jacobian product written in mytorch ops"""

    @staticmethod
    def forward(ctx, grad, q, k, v, mask, e, den, masked, drop, scale, groups, needs):
        ctx.scale, ctx.groups, ctx.needs = scale, groups, needs
        ctx.save_for_backward(grad, q, k, v, mask, masked, drop)
        need_q, need_k, need_v, need_mask = needs
        gk, gv = groups
        gn = grad / den  # (..., L, Ev): with e in place of P, every 1/den lands here
        dq = dk = dv = dmask = None
        if need_v:
            ed = e if drop is None else e * drop
            dv = _sum_heads(_matmul(ed.swapaxes(-1, -2), gn), gv)  # (..., S, Ev)
        if need_q or need_k or need_mask:
            vx = _repeat_heads(v, gv)
            ds = _matmul(gn, vx.swapaxes(-1, -2))  # dP / den (..., L, S)
            if drop is not None:
                ds *= drop
            r = np.einsum("...ij,...ij->...i", ds, e)[..., None]  # sum(dP * P) (..., L, 1)
            r /= den
            ds -= r
            ds *= e  # dS = P * (dP - sum(dP * P)): the gradient of the scores
            if need_q:
                dq = _matmul(ds, _repeat_heads(k, gk))  # (..., L, E)
                dq *= scale
            if need_k:
                dk = _sum_heads(_matmul(ds.swapaxes(-1, -2), q), gk)  # (..., S, E)
                dk *= scale
            if need_mask:
                dmask = ds
        out = tuple(g for g, n in zip((dq, dk, dv, dmask), needs) if n)
        return out if len(out) > 1 else out[0]

    @staticmethod
    def backward(ctx, *gouts):
        grad, q, k, v, mask, masked, drop = ctx.saved_tensors
        masked = None if masked is None else masked.data
        drop = None if drop is None else drop.data

        def grads(grad, q, k, v, mask):
            out = _attention_grads(grad, q, k, v, mask, masked, drop, ctx.scale, ctx.groups)
            return tuple(g for g, n in zip(out, ctx.needs) if n)

        d = vjp(grads, (grad, q, k, v, mask), gouts)
        return (*d, None, None, None, None, None, None, None)


# ----------------------------------------------------------------------------------------------
# The same gradients as Tensor ops (for AttentionBackward's own backward)
# ----------------------------------------------------------------------------------------------


def _repeat_heads_t(x: Tensor, n: int) -> Tensor:
    if n == 1:
        return x
    *batch, h, s, e = x.shape
    return x.unsqueeze(-3).expand(*batch, h, n, s, e).reshape(*batch, h * n, s, e)


def _sum_heads_t(g: Tensor, n: int) -> Tensor:
    if n == 1:
        return g
    *batch, h, s, e = g.shape
    return g.reshape(*batch, h // n, n, s, e).sum(-3)


def _attention_grads(grad, q, k, v, mask, masked, drop, scale, groups) -> tuple:
    """(dq, dk, dv, dmask) recomputed from the inputs with Tensor ops (differentiable again)."""
    gk, gv = groups
    kx, vx = _repeat_heads_t(k, gk), _repeat_heads_t(v, gv)
    s = matmul(q, kx.mT) * scale  # (..., L, S)
    if mask is not None:
        s = s + mask
    if masked is not None:
        s = where(Tensor._make(~masked), s, -math.inf)
    if s.shape[-1] == 0:
        p = s
    else:
        e = exp(s - Tensor._make(_row_max(s.data)))
        den = e.sum(-1, keepdim=True)  # (..., L, 1)
        if not den.data.all():
            den = where(Tensor._make(den.data == 0), 1.0, den)
        p = e / den  # (..., L, S)
    drop = None if drop is None else Tensor._make(drop)
    dv = _sum_heads_t(matmul((p if drop is None else p * drop).mT, grad), gv)
    dp = matmul(grad, vx.mT)  # (..., L, S)
    if drop is not None:
        dp = dp * drop
    ds = p * (dp - (dp * p).sum(-1, keepdim=True))
    dq = matmul(ds, kx) * scale
    dk = _sum_heads_t(matmul(ds.mT, q), gk) * scale
    return dq, dk, dv, ds


# ----------------------------------------------------------------------------------------------
# The public function
# ----------------------------------------------------------------------------------------------


def _gqa_groups(query: Tensor, key: Tensor, value: Tensor, enable_gqa: bool) -> tuple:
    """How many times each key and value head repeats to match the query heads (dim -3)."""
    if not enable_gqa:
        return 1, 1
    if min(query.ndim, key.ndim, value.ndim) < 3:
        raise IndexError(
            "scaled_dot_product_attention: enable_gqa=True needs a heads dim (-3) in query, key "
            f"and value, got shapes {list(query.shape)}, {list(key.shape)}, {list(value.shape)}"
        )
    hq, hk, hv = query.shape[-3], key.shape[-3], value.shape[-3]
    if hq % hk or hq % hv:
        raise RuntimeError(
            "Number of heads in key and value must divide the number of heads in query "
            f"(query heads {hq}, key heads {hk}, value heads {hv})"
        )
    return hq // hk, hq // hv


def _check_inputs(query: Tensor, key: Tensor, value: Tensor) -> None:
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise RuntimeError(
            "Expected query, key, and value to all be at least 2 dimensional, but got query.dim: "
            f"{query.ndim} key.dim: {key.ndim} and value.dim: {value.ndim} instead."
        )
    if not query.dtype == key.dtype == value.dtype:
        raise RuntimeError(
            "Expected query, key, and value to have the same dtype, but got query.dtype: "
            f"{query.dtype} key.dtype: {key.dtype} and value.dtype: {value.dtype} instead."
        )
    if query.dtype.kind != "f":
        raise RuntimeError(
            f"scaled_dot_product_attention: expected floating point query, key and value, got "
            f"{query.dtype}"
        )
    if key.shape[-1] != query.shape[-1]:
        raise RuntimeError(
            f"scaled_dot_product_attention: query (..., L, E) and key (..., S, E) must have the "
            f"same E, got query {list(query.shape)} and key {list(key.shape)}"
        )
    if value.shape[-2] != key.shape[-2]:
        raise RuntimeError(
            f"scaled_dot_product_attention: key (..., S, E) and value (..., S, Ev) must have the "
            f"same S, got key {list(key.shape)} and value {list(value.shape)}"
        )


def _batch_shape(query: Tensor, key: Tensor, value: Tensor, groups: tuple) -> tuple:
    """The broadcast batch shape of the scores (query with key) and of the output."""
    kb, vb = list(key.shape[:-2]), list(value.shape[:-2])
    if groups[0] > 1:
        kb[-1] *= groups[0]
    if groups[1] > 1:
        vb[-1] *= groups[1]
    try:
        scores = np.broadcast_shapes(query.shape[:-2], tuple(kb))
        np.broadcast_shapes(scores, tuple(vb))
    except ValueError:
        raise RuntimeError(
            "scaled_dot_product_attention: the batch dims of query, key and value do not "
            f"broadcast: query {list(query.shape)}, key {list(key.shape)}, "
            f"value {list(value.shape)}"
        ) from None
    return scores


def _mask_arrays(attn_mask, is_causal: bool, query: Tensor, scores_shape: tuple) -> tuple:
    """(float mask Tensor or None, bool array of excluded positions or None)."""
    if is_causal:
        L, S = scores_shape[-2:]
        causal = np.triu(np.ones((L, S), np.bool_), 1)  # top-left aligned lower triangle
        if attn_mask is None:
            return None, causal
        # PyTorch takes both for (N, H, L, E) inputs (the mask, then the causal triangle)
        if len(scores_shape) != 4:
            raise RuntimeError(
                "_scaled_dot_product_attention: Explicit attn_mask should not be set when "
                "is_causal=True"
            )
        mask, masked = _mask_arrays(attn_mask, False, query, scores_shape)
        return mask, causal if masked is None else masked | causal
    if attn_mask is None:
        return None, None
    m = attn_mask.data if isinstance(attn_mask, Tensor) else np.asarray(attn_mask)
    if m.dtype != np.bool_ and m.dtype != np.float32 and m.dtype != query.dtype:
        raise RuntimeError(
            "Expected attn_mask dtype to be bool or float or to match query dtype, but got "
            f"attn_mask.dtype: {m.dtype} and query.dtype: {query.dtype} instead."
        )
    try:
        ok = np.broadcast_shapes(m.shape, scores_shape) == scores_shape
    except ValueError:
        ok = False
    if not ok:
        raise RuntimeError(
            f"scaled_dot_product_attention: attn_mask of shape {list(m.shape)} does not "
            f"broadcast to the attention scores' shape {list(scores_shape)} (..., L, S)"
        )
    if m.dtype == np.bool_:
        return None, ~m
    return (attn_mask if isinstance(attn_mask, Tensor) else Tensor._make(m)), None


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """``softmax(query @ key^T * scale + mask) @ value``: (..., L, E), (..., S, E), (..., S, Ev)
    -> (..., L, Ev), as ``torch.nn.functional.scaled_dot_product_attention``.

    ``attn_mask`` (broadcasting to (..., L, S)) is boolean (True: take part in attention) or
    float (added to the scores); ``is_causal`` lets query i attend to keys 0..i (a lower
    triangle aligned at the top left), on top of ``attn_mask`` for 4-D (N, H, L, E) inputs as
    PyTorch allows; ``scale`` defaults to 1/sqrt(E); ``dropout_p`` drops
    attention weights (always, like PyTorch: pass 0.0 in evaluation); ``enable_gqa`` repeats
    each key/value head (dim -3) to match the query heads.

    >>> import mytorch.core as mt
    >>> q = k = v = mt.eye(2)
    >>> scaled_dot_product_attention(q, k, v, scale=0.0).tolist()
    [[0.5, 0.5], [0.5, 0.5]]
    """
    _check_inputs(query, key, value)
    groups = _gqa_groups(query, key, value, enable_gqa)
    L, E = query.shape[-2:]
    scores_shape = _batch_shape(query, key, value, groups) + (L, key.shape[-2])
    mask, masked = _mask_arrays(attn_mask, is_causal, query, scores_shape)
    scale = (1.0 / math.sqrt(E) if E else math.inf) if scale is None else float(scale)
    drop = None
    if dropout_p > 0:
        if dropout_p > 1:
            raise RuntimeError(
                f"dropout probability has to be between 0 and 1, but got {dropout_p}"
            )
        dtype = query.dtype
        drop = (rng().random(scores_shape, dtype=np.float32) >= dropout_p).astype(dtype)
        if dropout_p < 1:
            drop *= dtype.type(1.0 / (1.0 - dropout_p))
    return ScaledDotProductAttention.apply(query, key, value, mask, masked, drop, scale, groups)
