"""Multi-head attention: ``MultiheadAttention`` (PyTorch's parameters, masks and shapes) and its
functional form ``multi_head_attention_forward``.

Shapes: B batch, L target (query) length, S source (key/value) length, E embed_dim,
H num_heads, hd = E // H head dim.

>>> import mytorch.core as mt
>>> mha = MultiheadAttention(16, 4, batch_first=True)
>>> x = mt.randn(2, 5, 16)
>>> out, weights = mha(x, x, x)
>>> out.shape, weights.shape
((2, 5, 16), (2, 5, 5))
"""

from __future__ import annotations

import math

import numpy as np

from mytorch.core import functional as F
from mytorch.core.creation import empty, from_numpy
from mytorch.core.ops.attention import scaled_dot_product_attention
from mytorch.core.ops.movement import cat
from mytorch.core.tensor import Tensor
from mytorch.nn import init
from mytorch.nn.linear import Linear
from mytorch.nn.module import Module
from mytorch.nn.parameter import Parameter
from mytorch.seq.masks import _canonical_mask, _check_device, _none_or_dtype

__all__ = ["MultiheadAttention", "NonDynamicallyQuantizableLinear", "multi_head_attention_forward"]


class NonDynamicallyQuantizableLinear(Linear):
    """A plain ``Linear``; the class of ``MultiheadAttention.out_proj``, as in PyTorch."""


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads: int) -> bool:
    """Check the ranks of the inputs and masks; True when the input is batched (3-D)."""
    if query.ndim == 3:
        if key.ndim != 3 or value.ndim != 3:
            raise AssertionError(
                "For batched (3-D) `query`, expected `key` and `value` to be 3-D but found "
                f"{key.ndim}-D and {value.ndim}-D tensors respectively"
            )
        if key_padding_mask is not None and key_padding_mask.ndim != 2:
            raise AssertionError(
                "For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D but "
                f"found {key_padding_mask.ndim}-D tensor instead"
            )
        if attn_mask is not None and attn_mask.ndim not in (2, 3):
            raise AssertionError(
                "For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but "
                f"found {attn_mask.ndim}-D tensor instead"
            )
        return True
    if query.ndim == 2:
        if key.ndim != 2 or value.ndim != 2:
            raise AssertionError(
                "For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found "
                f"{key.ndim}-D and {value.ndim}-D tensors respectively"
            )
        if key_padding_mask is not None and key_padding_mask.ndim != 1:
            raise AssertionError(
                "For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D but "
                f"found {key_padding_mask.ndim}-D tensor instead"
            )
        if attn_mask is not None:
            if attn_mask.ndim not in (2, 3):
                raise AssertionError(
                    "For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D "
                    f"but found {attn_mask.ndim}-D tensor instead"
                )
            expected = (num_heads, query.shape[0], key.shape[0])
            if attn_mask.ndim == 3 and attn_mask.shape != expected:
                raise AssertionError(
                    f"Expected `attn_mask` shape to be {expected} but got {attn_mask.shape}"
                )
        return False
    raise AssertionError(
        "query should be unbatched 2D or batched 3D tensor but received "
        f"{query.ndim}-D query tensor"
    )


def _to_heads(x: Tensor, num_heads: int, batch_first: bool) -> Tensor:
    """(B, T, E) if batch_first else (T, B, E) -> (B, H, T, hd)."""
    if batch_first:
        B, T, E = x.shape
        return x.reshape(B, T, num_heads, E // num_heads).transpose(1, 2)  # (B, H, T, hd)
    T, B, E = x.shape
    return x.reshape(T, B, num_heads, E // num_heads).permute(1, 2, 0, 3)  # (B, H, T, hd)


def _to_heads_packed(x: Tensor, parts: int, num_heads: int, batch_first: bool) -> tuple:
    """(B, T, parts*E) if batch_first else (T, B, parts*E) -> ``parts`` tensors (B, H, T, hd)."""
    if batch_first:
        B, T, PE = x.shape
        x = x.reshape(B, T, parts, num_heads, PE // (parts * num_heads))  # (B, T, P, H, hd)
        return x.permute(2, 0, 3, 1, 4).unbind(0)  # P x (B, H, T, hd)
    T, B, PE = x.shape
    x = x.reshape(T, B, parts, num_heads, PE // (parts * num_heads))  # (T, B, P, H, hd)
    return x.permute(2, 1, 3, 0, 4).unbind(0)  # P x (B, H, T, hd)


def _pad_last(mask: Tensor | None) -> Tensor | None:
    """Append one zero (= attend) column on the last (key) dim of a float mask."""
    return None if mask is None else F.pad(mask, (0, 1))  # (..., S + 1)


def multi_head_attention_forward(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    embed_dim_to_check: int,
    num_heads: int,
    in_proj_weight: Tensor | None,
    in_proj_bias: Tensor | None,
    bias_k: Tensor | None,
    bias_v: Tensor | None,
    add_zero_attn: bool,
    dropout_p: float,
    out_proj_weight: Tensor,
    out_proj_bias: Tensor | None,
    training: bool = True,
    key_padding_mask: Tensor | None = None,
    need_weights: bool = True,
    attn_mask: Tensor | None = None,
    use_separate_proj_weight: bool = False,
    q_proj_weight: Tensor | None = None,
    k_proj_weight: Tensor | None = None,
    v_proj_weight: Tensor | None = None,
    static_k: Tensor | None = None,
    static_v: Tensor | None = None,
    average_attn_weights: bool = True,
    is_causal: bool = False,
    *,
    batch_first: bool = False,
) -> tuple[Tensor, Tensor | None]:
    """Multi-head attention on (L, B, E) query and (S, B, E*) key/value, as
    ``torch.nn.functional.multi_head_attention_forward``; ``batch_first=True`` (an extension)
    takes (B, L, E) / (B, S, E*) instead. Returns (attn_output, attn_weights or None).

    Masks: ``key_padding_mask`` (B, S) and ``attn_mask`` (L, S) or (B * H, L, S); for bool
    masks True means "do not attend", float masks are added to the scores.
    """
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:  # unbatched (T, E): a batch of one, laid out batch-first
        batch_first = True
        query, key, value = query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0)  # (1, T, E)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)  # (1, S)
    if batch_first:
        B, L, E = query.shape
        S = key.shape[1]
    else:
        L, B, E = query.shape
        S = key.shape[0]
    H = num_heads
    key_padding_mask = _canonical_mask(
        key_padding_mask,
        "key_padding_mask",
        _none_or_dtype(attn_mask),
        "attn_mask",
        query.dtype,
    )
    if is_causal and attn_mask is None:
        raise RuntimeError(
            "Need attn_mask if specifying the is_causal hint. You may use the Transformer "
            "module method `generate_square_subsequent_mask` to create this mask."
        )
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # the fused kernel applies the causal mask itself
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, False)
        if key_padding_mask is not None:
            is_causal = False
    if E != embed_dim_to_check:
        raise AssertionError(
            f"was expecting embedding dimension of {embed_dim_to_check}, but got {E}"
        )
    hd = E // H
    if hd * H != E:
        raise AssertionError(f"embed_dim {E} not divisible by num_heads {H}")
    if use_separate_proj_weight:
        if key.shape[:2] != value.shape[:2]:
            raise AssertionError(
                f"key's sequence and batch dims {key.shape[:2]} do not match value's "
                f"{value.shape[:2]}"
            )
    elif key.shape != value.shape:
        raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")

    # ---- input projections, split into heads: q (B, H, L, hd), k and v (B, H, S, hd)
    if not use_separate_proj_weight:
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        if key is value and query is key:  # self-attention: one GEMM for q, k and v
            qkv = F.linear(query, in_proj_weight, in_proj_bias)  # (B, L, 3E) or (L, B, 3E)
            q, k, v = _to_heads_packed(qkv, 3, H, batch_first)  # 3 x (B, H, L, hd)
        elif key is value:  # encoder-decoder attention: one GEMM for k and v
            w_q, w_kv = in_proj_weight.split([E, 2 * E])  # (E, E), (2E, E)
            b_q, b_kv = (None, None) if in_proj_bias is None else in_proj_bias.split([E, 2 * E])
            q = _to_heads(F.linear(query, w_q, b_q), H, batch_first)  # (B, H, L, hd)
            kv = F.linear(key, w_kv, b_kv)  # (B, S, 2E) or (S, B, 2E)
            k, v = _to_heads_packed(kv, 2, H, batch_first)  # 2 x (B, H, S, hd)
        else:
            w_q, w_k, w_v = in_proj_weight.chunk(3)  # 3 x (E, E)
            b_q, b_k, b_v = (None,) * 3 if in_proj_bias is None else in_proj_bias.chunk(3)
            q = _to_heads(F.linear(query, w_q, b_q), H, batch_first)  # (B, H, L, hd)
            k = _to_heads(F.linear(key, w_k, b_k), H, batch_first)  # (B, H, S, hd)
            v = _to_heads(F.linear(value, w_v, b_v), H, batch_first)  # (B, H, S, hd)
    else:
        for name, w in (("q", q_proj_weight), ("k", k_proj_weight), ("v", v_proj_weight)):
            if w is None:
                raise AssertionError(
                    f"use_separate_proj_weight is True but {name}_proj_weight is None"
                )
        b_q, b_k, b_v = (None,) * 3 if in_proj_bias is None else in_proj_bias.chunk(3)
        q = _to_heads(F.linear(query, q_proj_weight, b_q), H, batch_first)  # (B, H, L, hd)
        k = _to_heads(F.linear(key, k_proj_weight, b_k), H, batch_first)  # (B, H, S, kdim->hd)
        v = _to_heads(F.linear(value, v_proj_weight, b_v), H, batch_first)  # (B, H, S, hd)

    # ---- attn_mask: (L, S) stays, (B*H, L, S) -> (B, H, L, S); both broadcast over the scores
    if attn_mask is not None:
        if attn_mask.ndim == 2:
            if attn_mask.shape != (L, S):
                raise RuntimeError(
                    f"The shape of the 2D attn_mask is {attn_mask.shape}, but should be {(L, S)}."
                )
        elif attn_mask.ndim == 3:
            if attn_mask.shape != (B * H, L, S):
                raise RuntimeError(
                    f"The shape of the 3D attn_mask is {attn_mask.shape}, but should be "
                    f"{(B * H, L, S)}."
                )
            attn_mask = attn_mask.reshape(B, H, L, S)  # (B, H, L, S)
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.ndim} is not supported")

    # ---- optional extra key/value positions: learned bias_k/bias_v, then an all-zero one
    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise AssertionError("bias cannot be added to static key or value.")
        bk = bias_k.reshape(1, H, 1, hd).expand(B, H, 1, hd)  # (B, H, 1, hd)
        bv = bias_v.reshape(1, H, 1, hd).expand(B, H, 1, hd)  # (B, H, 1, hd)
        k = cat([k, bk], dim=2)  # (B, H, S + 1, hd)
        v = cat([v, bv], dim=2)  # (B, H, S + 1, hd)
        attn_mask = _pad_last(attn_mask)  # (..., L, S + 1)
        key_padding_mask = _pad_last(key_padding_mask)  # (B, S + 1)
    elif bias_k is not None or bias_v is not None:
        raise AssertionError("bias_k and bias_v must both be set or both be None")
    if static_k is not None:
        if static_k.shape[0] != B * H or static_k.shape[2] != hd:
            raise AssertionError(
                f"expecting static_k of shape ({B * H}, S, {hd}), but got {static_k.shape}"
            )
        k = static_k.reshape(B, H, static_k.shape[1], hd)  # (B, H, S, hd)
    if static_v is not None:
        if static_v.shape[0] != B * H or static_v.shape[2] != hd:
            raise AssertionError(
                f"expecting static_v of shape ({B * H}, S, {hd}), but got {static_v.shape}"
            )
        v = static_v.reshape(B, H, static_v.shape[1], hd)  # (B, H, S, hd)
    if add_zero_attn:
        zeros = from_numpy(np.zeros((B, H, 1, hd), dtype=k.dtype))  # (B, H, 1, hd)
        k = cat([k, zeros], dim=2)  # (B, H, S + 1, hd)
        v = cat([v, zeros], dim=2)  # (B, H, S + 1, hd)
        attn_mask = _pad_last(attn_mask)  # (..., L, S + 1)
        key_padding_mask = _pad_last(key_padding_mask)  # (B, S + 1)
    S = k.shape[2]

    # ---- key_padding_mask (B, S) joins attn_mask as (B, 1, 1, S)
    if key_padding_mask is not None:
        if key_padding_mask.shape[0] != B:
            raise AssertionError(
                f"Expected key_padded_mask.shape[0] to be {B}, but got {key_padding_mask.shape[0]}"
            )
        if key_padding_mask.shape[1] != S:
            raise AssertionError(
                f"Expected key_padded_mask.shape[1] to be {S}, but got {key_padding_mask.shape[1]}"
            )
        kpm = key_padding_mask.reshape(B, 1, 1, S)  # (B, 1, 1, S)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm  # (B, H or 1, L, S)
    if not training:
        dropout_p = 0.0

    if need_weights:  # explicit softmax(q k^T / sqrt(hd) + mask) to return the weights
        q = q * math.sqrt(1.0 / hd)  # (B, H, L, hd)
        scores = q.matmul(k.transpose(-2, -1))  # (B, H, L, S)
        if attn_mask is not None:
            scores = scores + attn_mask  # (B, H, L, S)
        weights = F.softmax(scores, dim=-1)  # (B, H, L, S)
        if dropout_p > 0.0:
            weights = F.dropout(weights, p=dropout_p)  # (B, H, L, S)
        y = weights.matmul(v)  # (B, H, L, hd)
    else:
        weights = None
        y = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)  # (B,H,L,hd)

    # ---- merge heads and project out
    if batch_first:
        y = y.transpose(1, 2).reshape(B, L, E)  # (B, L, E)
    else:
        y = y.permute(2, 0, 1, 3).reshape(L, B, E)  # (L, B, E)
    y = F.linear(y, out_proj_weight, out_proj_bias)  # (B, L, E) or (L, B, E)
    if weights is not None and average_attn_weights:
        weights = weights.mean(dim=1)  # (B, L, S)
    if not is_batched:
        y = y.squeeze(0)  # (L, E)
        if weights is not None:
            weights = weights.squeeze(0)  # (L, S) or (H, L, S)
    return y, weights


class MultiheadAttention(Module):
    """Multi-head attention, ``torch.nn.MultiheadAttention``'s parameters, masks and shapes.

    ``out = concat_h(softmax(q_h k_h^T / sqrt(hd) + mask) v_h) W_o^T + b_o`` with
    q = query W_q^T + b_q etc. Parameters: ``in_proj_weight`` (3E, E) and ``in_proj_bias`` (3E)
    (``q_proj_weight`` (E, E), ``k_proj_weight`` (E, kdim), ``v_proj_weight`` (E, vdim) instead
    of ``in_proj_weight`` when kdim or vdim differ from E) and ``out_proj`` (Linear E -> E);
    with ``add_bias_kv``, ``bias_k`` and ``bias_v`` (1, 1, E) are appended to the keys and
    values, and ``add_zero_attn`` appends an all-zero key and value.

    forward(query, key, value) takes (L, B, E), (S, B, kdim), (S, B, vdim) (batch first with
    ``batch_first=True``; or unbatched (L, E), ...) and returns ``(attn_output, attn_weights)``:
    output (L, B, E) and weights (B, L, S) averaged over heads, (B, H, L, S) with
    ``average_attn_weights=False``, or None with ``need_weights=False`` (which runs the fused
    ``scaled_dot_product_attention``).

    >>> import mytorch.core as mt
    >>> mha = MultiheadAttention(8, 2)
    >>> out, w = mha(mt.randn(4, 3, 8), mt.randn(6, 3, 8), mt.randn(6, 3, 8))
    >>> out.shape, w.shape
    ((4, 3, 8), (3, 4, 6))
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        device=None,
        dtype=None,
    ) -> None:
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(
                "embed_dim and num_heads must be greater than 0, got "
                f"embed_dim={embed_dim} and num_heads={num_heads} instead"
            )
        super().__init__()
        _check_device(device)
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(empty(embed_dim, embed_dim, dtype=dtype))
            self.k_proj_weight = Parameter(empty(embed_dim, self.kdim, dtype=dtype))
            self.v_proj_weight = Parameter(empty(embed_dim, self.vdim, dtype=dtype))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(empty(3 * embed_dim, embed_dim, dtype=dtype))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(empty(3 * embed_dim, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(
            embed_dim, embed_dim, bias=bias, dtype=dtype
        )
        if add_bias_kv:
            self.bias_k = Parameter(empty(1, 1, embed_dim, dtype=dtype))
            self.bias_v = Parameter(empty(1, 1, embed_dim, dtype=dtype))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None = None,
        need_weights: bool = True,
        attn_mask: Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        key_padding_mask = _canonical_mask(
            key_padding_mask,
            "key_padding_mask",
            _none_or_dtype(attn_mask),
            "attn_mask",
            query.dtype,
        )
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, False)
        separate = not self._qkv_same_embed_dim
        return multi_head_attention_forward(
            query,
            key,
            value,
            self.embed_dim,
            self.num_heads,
            self.in_proj_weight,
            self.in_proj_bias,
            self.bias_k,
            self.bias_v,
            self.add_zero_attn,
            self.dropout,
            self.out_proj.weight,
            self.out_proj.bias,
            training=self.training,
            key_padding_mask=key_padding_mask,
            need_weights=need_weights,
            attn_mask=attn_mask,
            use_separate_proj_weight=separate,
            q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight,
            v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights,
            is_causal=is_causal,
            batch_first=self.batch_first,
        )
