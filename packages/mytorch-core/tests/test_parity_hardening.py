"""Regression tests for differences from PyTorch 2.13 found by fuzzing, each compared with torch."""

from __future__ import annotations

import numpy as np
import pytest

import mytorch.core as mt
import mytorch.core.functional as F

NAN = float("nan")


def _pair(torch, a: np.ndarray, grad: bool = True):
    """The same float64 values in mytorch and in torch."""
    return (
        mt.tensor(a, dtype=mt.float64, requires_grad=grad),
        torch.tensor(a, dtype=torch.float64, requires_grad=grad),
    )


@pytest.mark.parametrize("kind", ["float", "bool"])
def test_sdpa_attn_mask_with_is_causal_on_4d_inputs(torch, kind):
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((2, 2, 3, 4)) for _ in range(3))
    if kind == "float":
        m = rng.standard_normal((3, 3))
    else:
        m = np.array([[True, False, True], [False, True, True], [True, True, False]])
    mq, tq = _pair(torch, q)
    mk, tk = _pair(torch, k)
    mv, tv = _pair(torch, v)
    out = F.scaled_dot_product_attention(mq, mk, mv, attn_mask=mt.tensor(m), is_causal=True)
    ref = torch.nn.functional.scaled_dot_product_attention(
        tq, tk, tv, attn_mask=torch.tensor(m), is_causal=True
    )
    np.testing.assert_allclose(out.data, ref.detach().numpy(), atol=1e-6)
    w = rng.standard_normal(out.shape)
    (out * mt.tensor(w)).sum().backward()
    (ref * torch.tensor(w)).sum().backward()
    for a, b in ((mq, tq), (mk, tk), (mv, tv)):
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), atol=1e-6)


def test_sdpa_attn_mask_with_is_causal_on_3d_inputs_raises_as_torch(torch):
    q = np.zeros((2, 3, 4))
    with pytest.raises(RuntimeError) as theirs:
        t = torch.tensor(q)
        torch.nn.functional.scaled_dot_product_attention(
            t, t, t, attn_mask=torch.zeros(3, 3, dtype=t.dtype), is_causal=True
        )
    with pytest.raises(RuntimeError, match="Explicit attn_mask should not be set") as ours:
        x = mt.tensor(q)
        F.scaled_dot_product_attention(x, x, x, attn_mask=mt.zeros(3, 3), is_causal=True)
    assert str(ours.value) == str(theirs.value)


def test_kl_div_batchmean_on_an_empty_batch_is_nan(torch):
    x, tx = _pair(torch, np.zeros((0, 3)))
    loss = F.kl_div(x, mt.zeros(0, 3, dtype=mt.float64), reduction="batchmean")
    ref = torch.nn.functional.kl_div(tx, torch.zeros(0, 3, dtype=tx.dtype), reduction="batchmean")
    assert np.isnan(loss.item()) and np.isnan(ref.item())
    loss.backward()
    ref.backward()
    assert x.grad.shape == tuple(tx.grad.shape) == (0, 3)


@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_batchmean_on_0d_input_matches_torch(torch, log_target):
    x, tx = _pair(torch, np.array(0.3))
    y, ty = _pair(torch, np.array(0.6))
    loss = F.kl_div(x, y, reduction="batchmean", log_target=log_target)
    ref = torch.nn.functional.kl_div(tx, ty, reduction="batchmean", log_target=log_target)
    np.testing.assert_allclose(loss.item(), ref.item(), rtol=1e-12)
    loss.backward()
    ref.backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(y.grad.data, ty.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", ["relu", "relu6", "hardshrink", "softshrink", "hardswish"])
def test_gradient_at_nan_matches_torch(torch, name):
    a = np.array([NAN, 1.0, -1.0, 0.2, 0.0, 7.0, -4.0])
    x, tx = _pair(torch, a)
    getattr(F, name)(x).sum().backward()
    getattr(torch.nn.functional, name)(tx).sum().backward()
    np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())


@pytest.mark.parametrize("op", ["max", "min", "amax", "amin"])
def test_full_tensor_max_min_gradient_at_nan_matches_torch(torch, op):
    a = np.array([[NAN, 1.0, 3.0], [-1.0, NAN, 3.0]])
    x, tx = _pair(torch, a)
    getattr(x, op)().backward()
    getattr(tx, op)().backward()
    np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())


@pytest.mark.parametrize("base", [0, 1, -1, 2, 3, -2])
def test_int_base_to_negative_int_tensor_powers_matches_torch(torch, base):
    e = np.array([-3, -2, -1, 0, 1, 2])
    got = base ** mt.tensor(e)
    want = base ** torch.tensor(e)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got.data, want.numpy())


def test_int_tensor_powers_with_negative_exponents(torch):
    a, e = np.array([2, 3, -1, 1, 0]), np.array([-1, 2, -3, -5, -2])
    np.testing.assert_array_equal(
        (mt.tensor(a) ** mt.tensor(e)).data, (torch.tensor(a) ** torch.tensor(e)).numpy()
    )
    with pytest.raises(RuntimeError, match="Integers to negative integer powers are not allowed"):
        torch.tensor(a) ** -1
    with pytest.raises(RuntimeError, match="Integers to negative integer powers are not allowed"):
        mt.tensor(a) ** -1


@pytest.mark.parametrize("fn", ["eq", "ne"])
@pytest.mark.parametrize("other", [(1, 2), [1, 2], "12"])
def test_eq_ne_with_a_non_number_raise_type_error(torch, fn, other):
    with pytest.raises(TypeError):
        getattr(torch, fn)(torch.tensor([1, 2]), other)
    with pytest.raises(TypeError, match=f"{fn}\\(\\) received an invalid combination"):
        getattr(mt, fn)(mt.tensor([1, 2]), other)
    # the operators give a plain bool instead, as in PyTorch
    assert (mt.tensor([1, 2]) == other) is (torch.tensor([1, 2]) == other) is False
    assert (mt.tensor([1, 2]) != other) is (torch.tensor([1, 2]) != other) is True


def test_version_error_names_the_op_that_produced_the_tensor(torch):
    def run(lib, no_grad):
        a = lib.tensor([0.5, 1.0], requires_grad=True)
        x = a.exp()
        y = x * x
        with no_grad():
            x.mul_(2)
        with pytest.raises(RuntimeError) as err:
            y.sum().backward()
        return str(err.value)

    ours, theirs = run(mt, mt.no_grad), run(torch, torch.no_grad)
    assert "which is output 0 of Exp," in ours
    assert "which is output 0 of Exp," in theirs
    assert "is at version 1; expected version 0 instead" in ours
