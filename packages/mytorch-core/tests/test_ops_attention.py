"""scaled_dot_product_attention: finite differences (first and second order), PyTorch parity of
outputs and of the gradients of query, key, value and a float mask, dropout statistics and
error messages."""

import numpy as np
import pytest

import mytorch.core as mt
import mytorch.core.functional as F
from mytorch.core.testing import assert_matches_torch, gradcheck, gradgradcheck

TOL = dict(rtol=1e-4, atol=1e-5)

# name: (query, key, value shapes, mask ("bool"/"float"/None, shape), keyword arguments)
CASES = {
    "plain": ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), None, {}),
    "2d": ((4, 5), (6, 5), (6, 3), None, {}),
    "broadcast_batch": ((2, 1, 4, 5), (3, 6, 5), (1, 3, 6, 2), None, {}),
    "bool_mask": ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), ("bool", (4, 6)), {}),
    "bool_mask_batched": ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 2), ("bool", (2, 1, 4, 6)), {}),
    "float_mask": ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), ("float", (4, 6)), {}),
    "float_mask_batched": ((2, 3, 4, 5), (2, 3, 6, 5), (3, 6, 4), ("float", (2, 1, 4, 6)), {}),
    "causal_l_lt_s": ((2, 4, 5), (2, 6, 5), (2, 6, 3), None, {"is_causal": True}),
    "causal_l_gt_s": ((2, 6, 5), (2, 4, 5), (2, 4, 3), None, {"is_causal": True}),
    "causal_square": ((3, 5, 4), (3, 5, 4), (3, 5, 4), None, {"is_causal": True}),
    "scale": ((2, 4, 5), (2, 6, 5), (2, 6, 3), None, {"scale": 0.3}),
    "scale_float_mask": ((2, 4, 5), (2, 6, 5), (2, 6, 3), ("float", (2, 4, 6)), {"scale": 1.7}),
    "gqa": ((2, 4, 3, 5), (2, 2, 6, 5), (2, 1, 6, 4), None, {"enable_gqa": True}),
    "gqa_causal": (
        (1, 6, 5, 3),
        (2, 3, 5, 3),
        (2, 2, 5, 2),
        None,
        {"enable_gqa": True, "is_causal": True},
    ),
}
# smaller versions of some cases for the (slower) second-order checks
SMALL_CASES = {
    "plain": ((2, 3, 4), (2, 5, 4), (2, 5, 3), None, {}),
    "broadcast_batch": ((2, 1, 3, 4), (2, 5, 4), (1, 2, 5, 2), None, {}),
    "bool_mask": ((2, 3, 4), (2, 5, 4), (2, 5, 3), ("bool", (3, 5)), {}),
    "float_mask": ((2, 3, 4), (2, 5, 4), (2, 5, 3), ("float", (2, 3, 5)), {}),
    "causal_l_gt_s": ((5, 3), (3, 3), (3, 2), None, {"is_causal": True}),
    "gqa": ((1, 4, 2, 3), (1, 2, 3, 3), (1, 1, 3, 2), None, {"enable_gqa": True}),
}


def _mask(kind: str, shape: tuple, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "bool":
        m = rng.random(shape) < 0.6
        m[..., 0] = True  # no fully masked row (tested on its own)
        return m
    return rng.standard_normal(shape)


def _arrays(case: str, dtype=np.float64, seed: int = 0, cases: dict = CASES) -> tuple:
    qs, ks, vs, mask, kwargs = cases[case]
    rng = np.random.default_rng(seed)
    q, k, v = (rng.standard_normal(s).astype(dtype) for s in (qs, ks, vs))
    m = None
    if mask is not None:
        m = _mask(*mask, seed + 1)
        m = m if m.dtype == np.bool_ else m.astype(dtype)
    return q, k, v, m, kwargs


def _f64(a: np.ndarray) -> mt.Tensor:
    return mt.tensor(a, dtype=mt.float64, requires_grad=True)


# ------------------------------------------------------------------------- finite differences


@pytest.mark.parametrize("case", list(CASES))
def test_gradcheck(case):
    q, k, v, m, kwargs = _arrays(case)
    inputs = [_f64(q), _f64(k), _f64(v)]
    if m is not None:
        inputs.append(_f64(m) if m.dtype != np.bool_ else mt.tensor(m))

    def fn(q, k, v, m=None):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=m, **kwargs)

    assert gradcheck(fn, inputs)


@pytest.mark.parametrize("case", list(SMALL_CASES))
def test_gradgradcheck(case):
    q, k, v, m, kwargs = _arrays(case, cases=SMALL_CASES)
    inputs = [_f64(q), _f64(k), _f64(v)]
    if m is not None:
        inputs.append(_f64(m) if m.dtype != np.bool_ else mt.tensor(m))

    def fn(q, k, v, m=None):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=m, **kwargs)

    assert gradgradcheck(fn, inputs)


def test_gradcheck_dropout_with_fixed_seed():
    q, k, v = (_f64(a) for a in _arrays("plain", cases=SMALL_CASES)[:3])

    def fn(q, k, v):
        mt.manual_seed(3)
        return F.scaled_dot_product_attention(q, k, v, dropout_p=0.4)

    assert gradcheck(fn, [q, k, v])
    assert gradgradcheck(fn, [q, k, v])


@pytest.mark.parametrize("case", ["plain", "float_mask_batched", "causal_l_lt_s", "gqa_causal"])
def test_create_graph_gradients_equal_plain_gradients(case):
    """The Tensor-op backward (grad mode on) gives the same first-order gradients."""
    q, k, v, m, kwargs = _arrays(case, np.float32)
    grads = []
    for create_graph in (False, True):
        ins = [mt.tensor(a, requires_grad=True) for a in (q, k, v)]
        if m is not None:
            ins.append(mt.tensor(m, requires_grad=m.dtype != np.bool_))
        out = F.scaled_dot_product_attention(
            *ins[:3], attn_mask=ins[3] if m is not None else None, **kwargs
        )
        w = mt.tensor(np.random.default_rng(5).standard_normal(out.shape).astype(np.float32))
        gs = mt.autograd.grad(
            (out * w).sum(), [t for t in ins if t.requires_grad], create_graph=create_graph
        )
        assert all(g.requires_grad == create_graph for g in gs)
        grads.append([g.detach().numpy() for g in gs])
    for a, b in zip(*grads):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


# -------------------------------------------------------------------------------- torch parity


@pytest.mark.parametrize("case", list(CASES))
def test_matches_torch(torch, case):
    q, k, v, m, kwargs = _arrays(case, np.float32, seed=1)

    def ours(q, k, v, m):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=m, **kwargs)

    def theirs(q, k, v, m):
        return torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m, **kwargs)

    assert_matches_torch(ours, q, k, v, m, torch_fn=theirs, **TOL)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_torch_float32_mask_with_query_dtype(torch, dtype):
    """A float32 mask is accepted for any query dtype (PyTorch: 'bool or float')."""
    q, k, v, _, _ = _arrays("plain", dtype)
    m = _mask("float", (4, 6), 2).astype(np.float32)

    def ours(q, k, v, m):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=m)

    def theirs(q, k, v, m):
        return torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m)

    assert_matches_torch(ours, q, k, v, m, torch_fn=theirs, **TOL)


@pytest.mark.parametrize("kind", ["bool", "float_inf", "float_large"])
def test_fully_masked_rows_match_torch(torch, kind):
    """Rows with no position to attend to: zeros (bool or -inf) or uniform (-1e9), as torch."""
    q, k, v, _, _ = _arrays("plain", np.float32)
    keep = _mask("bool", (4, 6), 3)
    keep[1] = False
    if kind == "bool":
        m = keep
    else:
        m = np.where(keep, 0.0, -np.inf if kind == "float_inf" else -1e9).astype(np.float32)

    def ours(q, k, v, m):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=m)

    def theirs(q, k, v, m):
        return torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m)

    assert_matches_torch(ours, q, k, v, m, torch_fn=theirs, **TOL)
    out = ours(*(mt.tensor(a) for a in (q, k, v, m)))
    assert np.isfinite(out.data).all()
    if kind != "float_large":
        assert not out.data[:, :, 1].any()


@pytest.mark.parametrize("spread", [1.0, 40.0])
def test_large_scores_match_torch(torch, spread):
    """Scores far apart (softmax saturates): stable, like torch."""
    q, k, v, _, _ = _arrays("plain", np.float32, seed=4)
    q = q * np.float32(spread)

    def ours(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)

    def theirs(q, k, v):
        return torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)

    assert_matches_torch(ours, q, k, v, torch_fn=theirs, rtol=1e-4, atol=1e-4)


def test_empty_keys_match_torch(torch):
    q = np.ones((3, 4), np.float32)
    kv = np.ones((0, 4), np.float32)
    out = F.scaled_dot_product_attention(mt.tensor(q), mt.tensor(kv), mt.tensor(kv))
    ref = torch.nn.functional.scaled_dot_product_attention(*(torch.tensor(a) for a in (q, kv, kv)))
    assert out.shape == tuple(ref.shape) == (3, 4)
    np.testing.assert_array_equal(out.data, ref.numpy())


def test_scale_zero_is_a_plain_average():
    q, k, v = (mt.tensor(a) for a in _arrays("2d", np.float32)[:3])
    out = F.scaled_dot_product_attention(q, k, v, scale=0.0)
    np.testing.assert_allclose(out.data, np.broadcast_to(v.data.mean(0), (4, 3)), rtol=1e-6)


def test_output_dtype_and_no_grad():
    q, k, v = (mt.tensor(a) for a in _arrays("plain", np.float32)[:3])
    out = F.scaled_dot_product_attention(q, k, v)
    assert out.dtype == np.float32 and not out.requires_grad and out.shape == (2, 3, 4, 7)


# ------------------------------------------------------------------------------------- dropout


def _dropout_setup(p: float):
    """Uniform attention (q = 0) over S keys and v = identity: out * S is the dropout mask."""
    L, S = 64, 50
    q = mt.zeros(8, L, 4)
    k = mt.tensor(np.random.default_rng(0).standard_normal((8, S, 4)).astype(np.float32))
    v = mt.eye(S)
    mt.manual_seed(11)
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=p)
    return out, S


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics(p):
    out, S = _dropout_setup(p)
    d = out.data * S  # (8, L, S): 0 or 1 / (1 - p)
    kept = d != 0
    np.testing.assert_allclose(d[kept], 1 / (1 - p), rtol=1e-5)
    n = d.size
    assert abs(1 - kept.mean() - p) < 4 * np.sqrt(p * (1 - p) / n)  # dropped fraction ~ p
    assert abs(d.mean() - 1) < 0.05  # unbiased: E[out] = the attention weights


def test_dropout_reproducible_and_zero_p_deterministic():
    a, _ = _dropout_setup(0.3)
    b, _ = _dropout_setup(0.3)
    np.testing.assert_array_equal(a.data, b.data)
    c, S = _dropout_setup(0.0)
    np.testing.assert_allclose(c.data, 1 / S, rtol=1e-6)
    d, _ = _dropout_setup(1.0)
    assert not d.data.any()


def test_dropout_gradients_use_the_forward_mask(torch):
    """Gradients equal those of softmax(q k^T s) * D @ v in torch, D read off the output."""
    rng = np.random.default_rng(2)
    q, k = (rng.standard_normal((2, 5, 3)).astype(np.float32) for _ in range(2))
    S = 5
    v = np.eye(S, dtype=np.float32)
    tensors = [mt.tensor(a, requires_grad=True) for a in (q, k, v)]
    mt.manual_seed(0)
    out = F.scaled_dot_product_attention(*tensors, dropout_p=0.5)
    w = rng.standard_normal(out.shape).astype(np.float32)
    (out * mt.tensor(w)).sum().backward()
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    probs = torch.softmax(tq @ tk.transpose(-1, -2) / np.sqrt(3), -1)
    drop = torch.tensor(out.data) / probs.detach()  # the mask, scaled: 0 or 2
    assert set(np.round(drop.numpy(), 4).ravel()) <= {0.0, 2.0}
    ref = (probs * drop) @ tv
    np.testing.assert_allclose(out.data, ref.detach().numpy(), **TOL)
    (ref * torch.tensor(w)).sum().backward()
    for ours, theirs in zip(tensors, (tq, tk, tv)):
        np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), **TOL)


# -------------------------------------------------------------------------------------- errors


def _t(*shape, dtype=np.float32):
    return mt.from_numpy(np.ones(shape, dtype))


@pytest.mark.parametrize(
    "args, kwargs, error, match",
    [
        ((_t(8), _t(5, 8), _t(5, 6)), {}, RuntimeError, "at least 2 dimensional.*query.dim: 1"),
        (
            (_t(3, 8), _t(5, 8, dtype=np.float64), _t(5, 6)),
            {},
            RuntimeError,
            "same dtype.*key.dtype: float64",
        ),
        ((_t(3, 8, dtype=np.int64),) * 3, {}, RuntimeError, "floating point"),
        ((_t(3, 8), _t(5, 7), _t(5, 6)), {}, RuntimeError, "same E"),
        ((_t(3, 8), _t(5, 8), _t(4, 6)), {}, RuntimeError, "same S"),
        ((_t(2, 3, 8), _t(3, 5, 8), _t(3, 5, 6)), {}, RuntimeError, "do not broadcast"),
        (
            (_t(3, 8), _t(5, 8), _t(5, 6)),
            {"attn_mask": _t(3, 5), "is_causal": True},
            RuntimeError,
            "Explicit attn_mask should not be set when is_causal=True",
        ),
        (
            (_t(3, 8), _t(5, 8), _t(5, 6)),
            {"attn_mask": _t(3, 5, dtype=np.int64)},
            RuntimeError,
            "attn_mask dtype to be bool or float.*int64",
        ),
        (
            (_t(3, 8, dtype=np.float16),) * 3,
            {"attn_mask": _t(3, 3, dtype=np.float64)},
            RuntimeError,
            "attn_mask dtype",
        ),
        (
            (_t(3, 8), _t(5, 8), _t(5, 6)),
            {"attn_mask": _t(4, 5)},
            RuntimeError,
            r"attn_mask of shape \[4, 5\] does not broadcast.*\[3, 5\]",
        ),
        (
            (_t(3, 8), _t(5, 8), _t(5, 6)),
            {"attn_mask": _t(2, 3, 5)},
            RuntimeError,
            r"attn_mask of shape \[2, 3, 5\]",
        ),
        (
            (_t(1, 4, 3, 8), _t(1, 3, 5, 8), _t(1, 3, 5, 6)),
            {"enable_gqa": True},
            RuntimeError,
            "Number of heads in key and value must divide.*key heads 3",
        ),
        ((_t(3, 8), _t(5, 8), _t(5, 6)), {"enable_gqa": True}, IndexError, "heads dim"),
        (
            (_t(3, 8), _t(5, 8), _t(5, 6)),
            {"dropout_p": 1.5},
            RuntimeError,
            "dropout probability has to be between 0 and 1, but got 1.5",
        ),
    ],
)
def test_errors(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        F.scaled_dot_product_attention(*args, **kwargs)


def test_heads_mismatch_without_gqa_does_not_broadcast():
    with pytest.raises(RuntimeError, match="do not broadcast"):
        F.scaled_dot_product_attention(_t(2, 4, 3, 8), _t(2, 2, 5, 8), _t(2, 2, 5, 6))
