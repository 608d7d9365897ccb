"""Activations and softmax: torch parity (values, dtypes, grads), gradcheck, double backward."""

import warnings

import numpy as np
import pytest

import mytorch.core as mt
import mytorch.core.functional as F
from mytorch.core.testing import assert_matches_torch, gradcheck, gradgradcheck

RNG = np.random.default_rng(0)


def _away_from(values, kinks, gap=0.05):
    """Push values that sit within ``gap`` of a kink out of the way (finite differences)."""
    v = values.copy()
    for k in kinks:
        near = np.abs(v - k) < gap
        v[near] = k + np.where(v[near] >= k, gap, -gap) * 2
    return v


# name -> (mytorch fn, torch fn taking (torch, x), kinks to avoid in gradcheck)
ACTIVATIONS = {
    "relu": (F.relu, lambda th, x: th.nn.functional.relu(x), [0]),
    "relu6": (F.relu6, lambda th, x: th.nn.functional.relu6(x), [0, 6]),
    "leaky_relu": (F.leaky_relu, lambda th, x: th.nn.functional.leaky_relu(x), [0]),
    "leaky_relu_0.2": (
        lambda x: F.leaky_relu(x, 0.2),
        lambda th, x: th.nn.functional.leaky_relu(x, 0.2),
        [0],
    ),
    "leaky_relu_neg": (
        lambda x: F.leaky_relu(x, -0.3),
        lambda th, x: th.nn.functional.leaky_relu(x, -0.3),
        [0],
    ),
    "leaky_relu_steep": (
        lambda x: F.leaky_relu(x, 2.5),
        lambda th, x: th.nn.functional.leaky_relu(x, 2.5),
        [0],
    ),
    "elu": (F.elu, lambda th, x: th.nn.functional.elu(x), [0]),
    "elu_0.5": (lambda x: F.elu(x, 0.5), lambda th, x: th.nn.functional.elu(x, 0.5), [0]),
    "selu": (F.selu, lambda th, x: th.nn.functional.selu(x), [0]),
    "celu": (lambda x: F.celu(x, 1.5), lambda th, x: th.nn.functional.celu(x, 1.5), [0]),
    "gelu": (F.gelu, lambda th, x: th.nn.functional.gelu(x), []),
    "gelu_tanh": (
        lambda x: F.gelu(x, approximate="tanh"),
        lambda th, x: th.nn.functional.gelu(x, approximate="tanh"),
        [],
    ),
    "silu": (F.silu, lambda th, x: th.nn.functional.silu(x), []),
    "mish": (F.mish, lambda th, x: th.nn.functional.mish(x), []),
    "softplus": (F.softplus, lambda th, x: th.nn.functional.softplus(x), []),
    "softplus_beta": (
        lambda x: F.softplus(x, beta=2.0, threshold=3.0),
        lambda th, x: th.nn.functional.softplus(x, beta=2.0, threshold=3.0),
        [1.5],
    ),
    "hardtanh": (F.hardtanh, lambda th, x: th.nn.functional.hardtanh(x), [-1, 1]),
    "hardtanh_range": (
        lambda x: F.hardtanh(x, -0.5, 2.0),
        lambda th, x: th.nn.functional.hardtanh(x, -0.5, 2.0),
        [-0.5, 2],
    ),
    "hardsigmoid": (F.hardsigmoid, lambda th, x: th.nn.functional.hardsigmoid(x), [-3, 3]),
    "hardswish": (F.hardswish, lambda th, x: th.nn.functional.hardswish(x), [-3, 3]),
    "sigmoid": (F.sigmoid, lambda th, x: th.sigmoid(x), []),
    "tanh": (F.tanh, lambda th, x: th.tanh(x), []),
    "logsigmoid": (F.logsigmoid, lambda th, x: th.nn.functional.logsigmoid(x), []),
    "softsign": (F.softsign, lambda th, x: th.nn.functional.softsign(x), [0]),
    "tanhshrink": (F.tanhshrink, lambda th, x: th.nn.functional.tanhshrink(x), []),
    "hardshrink": (F.hardshrink, lambda th, x: th.nn.functional.hardshrink(x), [-0.5, 0.5]),
    "softshrink": (
        lambda x: F.softshrink(x, 1.0),
        lambda th, x: th.nn.functional.softshrink(x, 1.0),
        [-1, 1],
    ),
    "threshold": (
        lambda x: F.threshold(x, 0.5, -2.0),
        lambda th, x: th.nn.functional.threshold(x, 0.5, -2.0),
        [0.5],
    ),
    "rrelu_eval": (F.rrelu, lambda th, x: th.nn.functional.rrelu(x), [0]),
}

SHAPES = [(), (7,), (3, 4), (2, 3, 4)]


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_torch(torch, name, shape, dtype):
    fn, torch_fn, _ = ACTIVATIONS[name]
    x = np.asarray(RNG.standard_normal(shape) * 4, dtype=dtype)
    assert_matches_torch(fn, x, torch_fn=lambda t: torch_fn(torch, t), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_matches_torch_at_kinks(torch, name):
    """Values and the gradient torch picks exactly at the non-smooth points."""
    fn, torch_fn, kinks = ACTIVATIONS[name]
    x = np.array([-6.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 3.0, 6.0] + list(kinks))
    assert_matches_torch(fn, x, torch_fn=lambda t: torch_fn(torch, t))


def test_extreme_inputs_match_torch(torch):
    x = np.array([-1e4, -100.0, -30.0, -20.0, 20.0, 30.0, 100.0, 1e4], dtype=np.float32)
    for name in ("gelu", "silu", "mish", "softplus", "logsigmoid", "elu", "selu", "sigmoid"):
        fn, torch_fn, _ = ACTIVATIONS[name]
        out = fn(mt.tensor(x))
        assert np.all(np.isfinite(out.data)), name
        assert_matches_torch(fn, x, torch_fn=lambda t, f=torch_fn: f(torch, t))


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_gradcheck(name):
    fn, _, kinks = ACTIVATIONS[name]
    x = _away_from(RNG.standard_normal((3, 4)) * 3, kinks)
    t = mt.tensor(x, dtype=mt.float64, requires_grad=True)
    assert gradcheck(fn, (t,))
    assert gradgradcheck(fn, (t,))


def test_prelu_matches_torch_and_gradchecks(torch):
    x = RNG.standard_normal((2, 3, 4))
    w = np.array([0.25, -0.5, 1.5])
    assert_matches_torch(F.prelu, x, w, torch_fn=torch.nn.functional.prelu)
    assert_matches_torch(F.prelu, x[:, :, 0], w, torch_fn=torch.nn.functional.prelu)
    assert_matches_torch(F.prelu, x, np.array([0.3]), torch_fn=torch.nn.functional.prelu)
    assert_matches_torch(
        F.prelu, np.array(-2.0), np.array([0.3]), torch_fn=torch.nn.functional.prelu
    )
    xt = mt.tensor(_away_from(x, [0]), dtype=mt.float64, requires_grad=True)
    wt = mt.tensor(w, dtype=mt.float64, requires_grad=True)
    assert gradcheck(F.prelu, (xt, wt))
    assert gradgradcheck(F.prelu, (xt, wt))


def test_prelu_rejects_wrong_weight_count():
    with pytest.raises(RuntimeError, match="weight has 2 elements, input has 3 channels"):
        F.prelu(mt.randn(2, 3, 4), mt.ones(2))


def test_rrelu_training_uses_random_slopes_in_range():
    mt.manual_seed(0)
    x = mt.full((2000,), -1.0, requires_grad=True)
    y = F.rrelu(x, 0.1, 0.3, training=True)
    slopes = -y.data
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and slopes.std() > 0.03
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, slopes)  # d(a x)/dx = a
    pos = F.rrelu(mt.ones(5), training=True)
    assert pos.tolist() == [1.0] * 5


def test_glu_matches_torch(torch):
    x = RNG.standard_normal((4, 6, 2))
    for dim in (0, 1, -1):
        assert_matches_torch(
            lambda t, d=dim: F.glu(t, d), x, torch_fn=lambda t, d=dim: torch.nn.functional.glu(t, d)
        )
    t = mt.tensor(x, dtype=mt.float64, requires_grad=True)
    assert gradcheck(lambda a: F.glu(a, 1), (t,))
    with pytest.raises(RuntimeError, match="Halving dimension must be even"):
        F.glu(mt.randn(3, 5))


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(RuntimeError, match="either none or tanh"):
        F.gelu(mt.randn(3), approximate="fast")


def test_float_only_activations_reject_integers():
    with pytest.raises(RuntimeError, match='"elu" not implemented for int64'):
        F.elu(mt.tensor([1, 2]))


def test_hardtanh_rejects_inverted_range():
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        F.hardtanh(mt.randn(3), 1.0, -1.0)


# ------------------------------------------------------------------------------- in-place


@pytest.mark.parametrize(
    "inplace_fn, fn",
    [
        (F.relu_, F.relu),
        (lambda x: F.relu(x, inplace=True), F.relu),
        (F.leaky_relu_, F.leaky_relu),
        (F.elu_, F.elu),
        (F.selu_, F.selu),
        (F.celu_, F.celu),
        (F.hardtanh_, F.hardtanh),
        (lambda x: F.relu6(x, inplace=True), F.relu6),
        (lambda x: F.silu(x, inplace=True), F.silu),
        (lambda x: F.hardswish(x, inplace=True), F.hardswish),
        (lambda x: F.threshold_(x, 0.1, 5.0), lambda x: F.threshold(x, 0.1, 5.0)),
    ],
)
def test_inplace_variants_write_into_input(inplace_fn, fn):
    x = mt.randn(3, 4)
    expected = fn(x).data.copy()
    out = inplace_fn(x)
    assert out is x
    np.testing.assert_allclose(x.data, expected)


def test_inplace_on_non_leaf_keeps_gradients():
    a = mt.randn(3, 4, dtype=mt.float64, requires_grad=True)
    h = a * 2
    F.relu_(h)
    h.sum().backward()
    np.testing.assert_allclose(a.grad.data, 2.0 * (a.data > 0))


def test_inplace_on_leaf_requiring_grad_raises():
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        F.relu(mt.randn(3, requires_grad=True), inplace=True)


def test_tensor_methods_delegate():
    x = mt.randn(2, 3)
    np.testing.assert_allclose(x.relu().data, F.relu(x).data)
    np.testing.assert_allclose(x.softmax(1).data, F.softmax(x, 1).data)
    np.testing.assert_allclose(x.log_softmax(0).data, F.log_softmax(x, 0).data)


def test_exported_from_core_namespace():
    assert mt.relu is F.relu and mt.softmax is F.softmax and mt.selu is F.selu
    assert F.sigmoid is mt.sigmoid and F.tanh is mt.tanh


# ------------------------------------------------------------------------------- softmax


SOFTMAX_CASES = [((5,), 0), ((5,), -1), ((3, 4), 0), ((3, 4), 1), ((2, 3, 4), 0),
                 ((2, 3, 4), 1), ((2, 3, 4), 2), ((2, 3, 4), -2), ((), 0)]  # fmt: skip


@pytest.mark.parametrize("shape, dim", SOFTMAX_CASES)
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_family_matches_torch(torch, shape, dim, name, dtype):
    x = np.asarray(RNG.standard_normal(shape) * 3, dtype=dtype)
    assert_matches_torch(
        lambda t: getattr(F, name)(t, dim),
        x,
        torch_fn=lambda t: getattr(torch.nn.functional, name)(t, dim),
    )


@pytest.mark.parametrize("shape, dim", SOFTMAX_CASES)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_family_gradchecks(shape, dim, name):
    x = mt.randn(*shape, dtype=mt.float64, requires_grad=True)
    fn = getattr(F, name)
    assert gradcheck(lambda t: fn(t, dim), (x,))
    assert gradgradcheck(lambda t: fn(t, dim), (x,))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_is_stable_for_huge_logits(torch, name):
    x = np.array([[1e4, 0.0, -1e4], [1e4, 1e4, 1e4], [-1e4, -1e4 + 1.0, 5.0]], np.float32)
    out = getattr(F, name)(mt.tensor(x), 1)
    assert np.all(np.isfinite(out.data))
    assert_matches_torch(
        lambda t: getattr(F, name)(t, 1), x, torch_fn=lambda t: getattr(torch, name)(t, 1)
    )


def test_softmax_rows_sum_to_one():
    p = F.softmax(mt.randn(5, 7) * 10, dim=1)
    np.testing.assert_allclose(p.data.sum(1), np.ones(5), rtol=1e-6)
    lp = F.log_softmax(mt.randn(5, 7) * 10, dim=0)
    np.testing.assert_allclose(np.exp(lp.data).sum(0), np.ones(7), rtol=1e-5)


@pytest.mark.parametrize("ndim, implied", [(1, 0), (2, 1), (3, 0), (4, 1)])
def test_softmax_without_dim_warns_and_uses_legacy_dim(ndim, implied):
    x = mt.randn(*([2] * ndim))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        out = F.softmax(x)
    np.testing.assert_allclose(out.data, F.softmax(x, implied).data)
    with pytest.warns(UserWarning, match="log_softmax"):
        F.log_softmax(x)


def test_softmax_dtype_argument_casts_first(torch):
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    assert_matches_torch(
        lambda t: F.softmax(t, 1, dtype=mt.float64),
        x,
        torch_fn=lambda t: torch.softmax(t, 1, dtype=torch.float64),
    )
    out = F.log_softmax(mt.tensor([[1, 2, 3]]), 1, dtype=mt.float32)
    assert out.dtype == mt.float32


def test_softmax_errors():
    with pytest.raises(RuntimeError, match="expected a floating point input, got int64"):
        F.softmax(mt.tensor([1, 2]), 0)
    with pytest.raises(IndexError, match=r"range of \[-2, 1\], but got 2"):
        F.softmax(mt.randn(2, 3), 2)


def test_softmax_on_empty_tensor():
    assert F.softmax(mt.zeros(0, 3), 1).shape == (0, 3)
    assert F.log_softmax(mt.zeros(2, 0), 1).shape == (2, 0)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "gelu", "silu", "mish", "elu"])
def test_double_backward_matches_torch(torch, name):
    """grad of ||d sum(f(x) * v) / dx||^2 with respect to x, against torch."""
    x = RNG.standard_normal((2, 5))
    v = RNG.standard_normal((2, 5))
    args = (1,) if "softmax" in name else ()

    def second(lib, fn, xt, vt, grad):
        (g,) = grad((fn(xt, *args) * vt).sum(), xt, create_graph=True)
        (gg,) = grad((g * g).sum(), xt)
        return gg

    xm = mt.tensor(x, dtype=mt.float64, requires_grad=True)
    ours = second(mt, getattr(F, name), xm, mt.tensor(v, dtype=mt.float64), mt.autograd.grad)
    xt = torch.tensor(x, requires_grad=True)
    theirs = second(
        torch, getattr(torch.nn.functional, name), xt, torch.tensor(v), torch.autograd.grad
    )
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-7, atol=1e-9)


def test_implicit_dim_warning_points_at_caller():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        F.softmax(mt.randn(3))
    assert caught and caught[0].filename == __file__
