"""MultiheadAttention against PyTorch (torch's state_dict loaded into ours): outputs, attention
weights, gradients of inputs and every parameter, for every mask kind, layout and projection
path; plus state_dict keys, initialization, dropout, errors and the causal mask helper."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mytorch.core as mt
import mytorch.seq as seq
from mytorch.core.testing import gradcheck
from mytorch.seq import attention as attention_module

TOL = dict(rtol=1e-4, atol=1e-5)
E, H = 8, 2  # embed_dim, num_heads
B, L, S = 3, 4, 5  # batch, target length, source length


def randn(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def bool_mask(*shape: int, seed: int = 1, p: float = 0.3) -> np.ndarray:
    """Random True (= masked) entries; the first key position always stays visible."""
    m = np.random.default_rng(seed).random(shape) < p
    m[..., 0] = False
    return m


def float_mask(*shape: int, seed: int = 2) -> np.ndarray:
    """An additive mask: -inf where bool_mask is True, small finite values elsewhere."""
    m = np.random.default_rng(seed).standard_normal(shape).astype(np.float32) * 0.5
    m[bool_mask(*shape, seed=seed)] = -np.inf
    return m


def parity(torch, make, call, *inputs, train=False, rtol=1e-4, atol=1e-5, seed=0):
    """``make(ns)`` builds the module from ``torch.nn`` or ``mytorch.seq``; torch's state_dict
    is loaded into ours. ``call(module, *tensors)`` returns a tensor or a tuple (None entries
    allowed). ``inputs`` are arrays; float ones require grad unless wrapped as ``(array,
    False)``. Compares outputs, input gradients and all parameter gradients."""
    theirs = make(torch.nn)
    ours = make(seq)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(theirs.state_dict())
    theirs.train(train)
    ours.train(train)
    t_in, m_in = [], []
    for item in inputs:
        a, rg = item if isinstance(item, tuple) else (item, item.dtype.kind == "f")
        t_in.append(torch.tensor(a, requires_grad=rg))
        m_in.append(mt.tensor(a, requires_grad=rg))
    t_out, m_out = call(theirs, *t_in), call(ours, *m_in)
    t_out = list(t_out) if isinstance(t_out, tuple) else [t_out]
    m_out = list(m_out) if isinstance(m_out, tuple) else [m_out]
    assert len(m_out) == len(t_out)
    rng = np.random.default_rng(seed)
    t_loss, m_loss = 0, 0
    for k, (m, t) in enumerate(zip(m_out, t_out)):
        if t is None:
            assert m is None, f"output {k}: expected None"
            continue
        expected = t.detach().numpy()
        assert m.shape == expected.shape, f"output {k}: {m.shape} != {expected.shape}"
        assert m.dtype == expected.dtype
        np.testing.assert_allclose(m.data, expected, rtol=rtol, atol=atol, err_msg=f"output {k}")
        v = rng.standard_normal(expected.shape).astype(np.float32)
        t_loss = t_loss + (t * torch.from_numpy(v)).sum()
        m_loss = m_loss + (m * mt.tensor(v)).sum()
    t_loss.backward()
    m_loss.backward()
    for i, (m, t) in enumerate(zip(m_in, t_in)):
        if t.requires_grad:
            np.testing.assert_allclose(
                m.grad.data, t.grad.numpy(), rtol=rtol, atol=atol, err_msg=f"grad of input {i}"
            )
    t_params, m_params = dict(theirs.named_parameters()), dict(ours.named_parameters())
    assert list(m_params) == list(t_params)
    for name, tp in t_params.items():
        assert tp.grad is not None and m_params[name].grad is not None, name
        np.testing.assert_allclose(
            m_params[name].grad.data, tp.grad.numpy(), rtol=rtol, atol=atol, err_msg=name
        )
    return ours, theirs, m_out


def qkv(batch_first: bool, e_k: int = E, e_v: int = E) -> tuple:
    shape = (lambda n, e: (B, n, e)) if batch_first else (lambda n, e: (n, B, e))
    return (
        randn(*shape(L, E), seed=10),
        randn(*shape(S, e_k), seed=11),
        randn(*shape(S, e_v), seed=12),
    )


# --------------------------------------------------------------------- projections and layouts


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("average", [True, False])
@pytest.mark.parametrize("kind", ["self", "kv_shared", "distinct"])
def test_mha_matches_torch(torch, batch_first, need_weights, average, kind):
    q, k, v = qkv(batch_first)
    make = lambda ns: ns.MultiheadAttention(E, H, batch_first=batch_first)  # noqa: E731

    def call(mod, q, k=None, v=None):
        key, value = {"self": (q, q), "kv_shared": (k, k), "distinct": (k, v)}[kind]
        return mod(q, key, value, need_weights=need_weights, average_attn_weights=average)

    inputs = {"self": (q,), "kv_shared": (q, k), "distinct": (q, k, v)}[kind]
    _, _, (out, weights) = parity(torch, make, call, *inputs, **TOL)
    if need_weights:
        n = L if kind == "self" else S
        assert weights.shape == ((B, L, n) if average else (B, H, L, n))
        np.testing.assert_allclose(weights.data.sum(-1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batch_first", [False, True])
def test_mha_kdim_vdim_matches_torch(torch, bias, batch_first):
    q, k, v = qkv(batch_first, e_k=6, e_v=3)
    make = lambda ns: ns.MultiheadAttention(  # noqa: E731
        E, H, bias=bias, kdim=6, vdim=3, batch_first=batch_first
    )
    ours, _, _ = parity(torch, make, lambda m, q, k, v: m(q, k, v), q, k, v, **TOL)
    assert ours.in_proj_weight is None
    assert ours.k_proj_weight.shape == (E, 6) and ours.v_proj_weight.shape == (E, 3)


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_without_bias_matches_torch(torch, need_weights):
    q, k, v = qkv(False)
    make = lambda ns: ns.MultiheadAttention(E, H, bias=False)  # noqa: E731
    ours, _, _ = parity(
        torch, make, lambda m, q, k, v: m(q, k, v, need_weights=need_weights), q, k, v, **TOL
    )
    assert ours.in_proj_bias is None and ours.out_proj.bias is None


def test_fused_projection_is_one_gemm_for_self_attention(monkeypatch):
    calls = []
    linear = attention_module.F.linear

    def counting(x, w, b=None):
        calls.append(tuple(w.shape))
        return linear(x, w, b)

    monkeypatch.setattr(attention_module.F, "linear", counting)
    mha = seq.MultiheadAttention(E, H)
    x = mt.randn(L, B, E)
    mha(x, x, x)
    assert calls == [(3 * E, E), (E, E)]  # fused q/k/v GEMM, then out_proj
    calls.clear()
    mem = mt.randn(S, B, E)
    mha(x, mem, mem)
    assert calls == [(E, E), (2 * E, E), (E, E)]  # q, fused k/v, out_proj
    calls.clear()
    mha(x, mem, mt.randn(S, B, E))
    assert calls == [(E, E)] * 4


# ------------------------------------------------------------------------------------- masks

MASKS = {
    "kpm_bool": dict(kpm="bool"),
    "kpm_float": dict(kpm="float"),
    "attn2d_bool": dict(attn="bool2"),
    "attn2d_float": dict(attn="float2"),
    "attn3d_bool": dict(attn="bool3"),
    "attn3d_float": dict(attn="float3"),
    "attn2d_and_kpm_bool": dict(attn="bool2", kpm="bool"),
    "attn3d_and_kpm_float": dict(attn="float3", kpm="float"),
}


def make_masks(spec: dict, batched: bool = True) -> tuple:
    kpm = attn = None
    if "kpm" in spec:
        shape = (B, S) if batched else (S,)
        kpm = bool_mask(*shape, seed=3) if spec["kpm"] == "bool" else float_mask(*shape, seed=3)
    if "attn" in spec:
        kind = spec["attn"]
        n = B * H if batched else H
        shape = (L, S) if kind.endswith("2") else (n, L, S)
        attn = bool_mask(*shape, seed=4) if kind.startswith("bool") else float_mask(*shape, seed=4)
    return kpm, attn


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("masks", list(MASKS))
def test_mha_masks_match_torch(torch, batch_first, need_weights, masks):
    q, k, v = qkv(batch_first)
    kpm, attn = make_masks(MASKS[masks])
    make = lambda ns: ns.MultiheadAttention(E, H, batch_first=batch_first)  # noqa: E731

    def call(mod, q, k, v, *masks):
        it = iter(masks)
        kp = next(it) if kpm is not None else None
        am = next(it) if attn is not None else None
        return mod(q, k, v, key_padding_mask=kp, attn_mask=am, need_weights=need_weights)

    extra = [(m, False) for m in (kpm, attn) if m is not None]
    _, _, (out, weights) = parity(torch, make, call, q, k, v, *extra, **TOL)
    if need_weights:  # masked keys get exactly zero weight
        masked = np.zeros((B, L, S), dtype=bool)
        if kpm is not None:
            masked |= (kpm if kpm.dtype == bool else np.isneginf(kpm))[:, None, :]
        if attn is not None:
            a = attn if attn.dtype == bool else np.isneginf(attn)
            masked |= a if a.ndim == 2 else a.reshape(B, H, L, S).all(1)
        assert np.all(weights.data[masked] == 0)


@pytest.mark.filterwarnings("ignore:invalid value encountered")
@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_fully_masked_rows_match_torch(torch, need_weights):
    """A query with every key masked: NaN with need_weights (explicit softmax), else zero
    attention (the output row is out_proj.bias), as in PyTorch."""
    q, k, v = qkv(True)
    kpm = np.zeros((B, S), dtype=bool)
    kpm[1] = True
    theirs = torch.nn.MultiheadAttention(E, H, batch_first=True)
    torch.nn.init.normal_(theirs.out_proj.bias)
    ours = seq.MultiheadAttention(E, H, batch_first=True)
    ours.load_state_dict(theirs.state_dict())
    t = theirs(
        *map(torch.tensor, (q, k, v)), key_padding_mask=torch.tensor(kpm), need_weights=need_weights
    )
    m = ours(*map(mt.tensor, (q, k, v)), key_padding_mask=mt.tensor(kpm), need_weights=need_weights)
    np.testing.assert_allclose(m[0].detach().numpy(), t[0].detach().numpy(), **TOL)
    assert np.isnan(m[0].data[1]).all() == need_weights


def test_mha_self_attention_with_causal_mask_matches_torch(torch):
    x = randn(L, B, E)
    mask = np.triu(np.ones((L, L), dtype=bool), 1)
    make = lambda ns: ns.MultiheadAttention(E, H)  # noqa: E731
    _, _, (_, w) = parity(torch, make, lambda m, x, am: m(x, x, x, attn_mask=am), x, mask, **TOL)
    assert np.all(np.triu(w.data[0], 1) == 0)


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("with_kpm", [False, True])
@pytest.mark.parametrize("mask_kind", ["float", "bool"])
def test_mha_is_causal_matches_torch(torch, need_weights, with_kpm, mask_kind):
    x = randn(B, L, E)
    causal = seq.generate_square_subsequent_mask(L).numpy()
    mask = causal if mask_kind == "float" else np.isneginf(causal)
    kpm = np.zeros((B, L), dtype=bool)
    kpm[1, 2:] = True
    if mask_kind == "float":  # the same mask type for both, as torch asks
        kpm = np.where(kpm, -np.inf, 0.0).astype(np.float32)
    make = lambda ns: ns.MultiheadAttention(E, H, batch_first=True)  # noqa: E731

    def call(mod, x, am, kp):
        return mod(
            x,
            x,
            x,
            attn_mask=am,
            key_padding_mask=kp if with_kpm else None,
            need_weights=need_weights,
            is_causal=True,
        )

    parity(torch, make, call, x, (mask, False), (kpm, False), **TOL)


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("masks", ["none", "kpm_bool", "attn3d_float", "attn2d_and_kpm_bool"])
@pytest.mark.parametrize("average", [True, False])
def test_mha_unbatched_matches_torch(torch, need_weights, masks, average):
    q, k, v = randn(L, E, seed=5), randn(S, E, seed=6), randn(S, E, seed=7)
    kpm, attn = make_masks(MASKS.get(masks, {}), batched=False)
    make = lambda ns: ns.MultiheadAttention(E, H, batch_first=True)  # noqa: E731

    def call(mod, q, k, v):
        km = None if kpm is None else (torch.tensor(kpm) if mod_is_torch(mod) else mt.tensor(kpm))
        am = (
            None if attn is None else (torch.tensor(attn) if mod_is_torch(mod) else mt.tensor(attn))
        )
        return mod(
            q,
            k,
            v,
            key_padding_mask=km,
            attn_mask=am,
            need_weights=need_weights,
            average_attn_weights=average,
        )

    _, _, (out, w) = parity(torch, make, call, q, k, v, **TOL)
    assert out.shape == (L, E)
    if need_weights:
        assert w.shape == ((L, S) if average else (H, L, S))


def mod_is_torch(mod) -> bool:
    return type(mod).__module__.startswith("torch")


@pytest.mark.parametrize("add_bias_kv", [False, True])
@pytest.mark.parametrize("add_zero_attn", [False, True])
@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_bias_kv_and_zero_attn_match_torch(torch, add_bias_kv, add_zero_attn, need_weights):
    q, k, v = qkv(False)
    kpm, attn = make_masks(MASKS["attn2d_and_kpm_bool"])
    make = lambda ns: ns.MultiheadAttention(  # noqa: E731
        E, H, add_bias_kv=add_bias_kv, add_zero_attn=add_zero_attn
    )

    def call(mod, q, k, v, kp, am):
        return mod(q, k, v, key_padding_mask=kp, attn_mask=am, need_weights=need_weights)

    ours, _, (_, w) = parity(torch, make, call, q, k, v, (kpm, False), (attn, False), **TOL)
    if need_weights:
        assert w.shape == (B, L, S + add_bias_kv + add_zero_attn)
    assert (ours.bias_k is not None) == add_bias_kv


def test_mha_functional_matches_torch(torch):
    q, k, v = qkv(False)
    mod = torch.nn.MultiheadAttention(E, H)
    params = [mod.in_proj_weight, mod.in_proj_bias, mod.out_proj.weight, mod.out_proj.bias]
    arrays = [p.detach().numpy() for p in params]
    attn = bool_mask(L, S, seed=8)

    def fn(lib, q, k, v, w_in, b_in, w_out, b_out, am):
        mha = lib.nn.functional.multi_head_attention_forward if lib is torch else None
        mha = mha or seq.multi_head_attention_forward
        return mha(q, k, v, E, H, w_in, b_in, None, None, False, 0.0, w_out, b_out, attn_mask=am)

    from mytorch.core.testing import assert_matches_torch

    assert_matches_torch(
        lambda *a: fn(None, *a),
        q,
        k,
        v,
        *arrays,
        attn,
        torch_fn=lambda *a: fn(torch, *a),
        **TOL,
    )


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_gradcheck_float64(need_weights):
    mha = seq.MultiheadAttention(4, 2, kdim=3, batch_first=True).double()
    q = mt.randn(2, 3, 4, dtype=mt.float64, requires_grad=True)
    k = mt.randn(2, 5, 3, dtype=mt.float64, requires_grad=True)
    v = mt.randn(2, 5, 4, dtype=mt.float64, requires_grad=True)
    kpm = mt.tensor([[False, False, True, False, True], [False] * 5])
    assert gradcheck(
        lambda q, k, v: mha(q, k, v, key_padding_mask=kpm, need_weights=need_weights)[0], (q, k, v)
    )


# ------------------------------------------------------------------- modes, init and errors


def test_mha_dropout_only_in_training():
    mt.manual_seed(0)
    mha = seq.MultiheadAttention(E, H, dropout=0.5)
    x = mt.randn(L, B, E)
    mha.eval()
    out_eval, w_eval = mha(x, x, x)
    np.testing.assert_allclose(w_eval.data.sum(-1), 1.0, rtol=1e-5)
    mha.train()
    _, w = mha(x, x, x, average_attn_weights=False)
    dropped = w.data == 0
    assert 0.2 < dropped.mean() < 0.8
    kept = w.data[~dropped]  # kept weights are scaled by 1 / (1 - p)
    assert np.all(kept <= 2.0 + 1e-6) and kept.max() > 1.0 / L


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        dict(bias=False),
        dict(kdim=3, vdim=5),
        dict(add_bias_kv=True),
        dict(kdim=3, bias=False, add_bias_kv=True),
    ],
)
def test_mha_state_dict_keys_and_shapes_match_torch(torch, kwargs):
    theirs = torch.nn.MultiheadAttention(E, H, **kwargs).state_dict()
    ours = seq.MultiheadAttention(E, H, **kwargs).state_dict()
    assert list(ours) == list(theirs)
    assert {k: v.shape for k, v in ours.items()} == {k: tuple(v.shape) for k, v in theirs.items()}


def test_mha_initialization():
    mt.manual_seed(0)
    mha = seq.MultiheadAttention(64, 4)
    w = mha.in_proj_weight.data
    bound = math.sqrt(6.0 / (64 + 3 * 64))  # xavier_uniform_ on the (3E, E) matrix
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert np.abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound
    assert not np.any(mha.in_proj_bias.data) and not np.any(mha.out_proj.bias.data)
    assert isinstance(mha.out_proj, seq.attention.NonDynamicallyQuantizableLinear)
    assert isinstance(mha.out_proj, mt_nn().Linear)
    assert mha.head_dim == 16 and mha._qkv_same_embed_dim
    kv = seq.MultiheadAttention(8, 2, add_bias_kv=True)
    assert kv.bias_k.shape == (1, 1, 8) and np.any(kv.bias_k.data)


def mt_nn():
    import mytorch.nn as nn

    return nn


def test_mha_errors():
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        seq.MultiheadAttention(10, 3)
    with pytest.raises(ValueError, match="must be greater than 0"):
        seq.MultiheadAttention(0, 2)
    mha = seq.MultiheadAttention(E, H)
    x = mt.randn(L, B, E)
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        mha(x, x, x, is_causal=True)
    with pytest.raises(RuntimeError, match=r"The shape of the 2D attn_mask is \(4, 3\)"):
        mha(x, x, x, attn_mask=mt.zeros(4, 3))
    with pytest.raises(RuntimeError, match=r"The shape of the 3D attn_mask is \(2, 4, 4\)"):
        mha(x, x, x, attn_mask=mt.zeros(2, 4, 4))
    with pytest.raises(AssertionError, match="only bool and floating types of attn_mask"):
        mha(x, x, x, attn_mask=mt.zeros(4, 4, dtype=mt.int64))
    with pytest.raises(AssertionError, match="Expected key_padded_mask.shape\\[1\\] to be 4"):
        mha(x, x, x, key_padding_mask=mt.zeros(B, 3, dtype=mt.bool))
    with pytest.raises(AssertionError, match="was expecting embedding dimension of 8, but got 6"):
        y = mt.randn(L, B, 6)
        mha(y, y, y)
    with pytest.raises(AssertionError, match="expected `key` and `value` to be 3-D"):
        mha(x, x[0], x[0])
    with pytest.raises(AssertionError, match="query should be unbatched 2D or batched 3D"):
        mha(x[0, 0], x[0, 0], x[0, 0])
    with pytest.warns(UserWarning, match="mismatched key_padding_mask and attn_mask"):
        mha(x, x, x, key_padding_mask=mt.zeros(B, L), attn_mask=mt.zeros(L, L, dtype=mt.bool))


# ------------------------------------------------------------------------------ causal mask


@pytest.mark.parametrize("sz", [1, 4, 7])
def test_generate_square_subsequent_mask_matches_torch(torch, sz):
    expected = torch.nn.Transformer.generate_square_subsequent_mask(sz).numpy()
    got = seq.generate_square_subsequent_mask(sz)
    assert got.dtype == np.float32 and not got.requires_grad
    np.testing.assert_array_equal(got.numpy(), expected)
    np.testing.assert_array_equal(
        seq.Transformer.generate_square_subsequent_mask(sz).numpy(), expected
    )
    assert seq.generate_square_subsequent_mask(sz, dtype=mt.float64).dtype == np.float64
