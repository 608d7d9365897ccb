"""Losses: torch parity over shapes, reductions, weights, ignore_index, label smoothing and
probability targets; gradcheck and double backward; argument errors."""

import itertools
import warnings

import numpy as np
import pytest

import mytorch.core as mt
import mytorch.core.functional as F
from mytorch.core.testing import assert_matches_torch, gradcheck, gradgradcheck

RNG = np.random.default_rng(0)
REDUCTIONS = ["none", "mean", "sum"]


def _f64(a) -> mt.Tensor:
    return mt.tensor(a, dtype=mt.float64, requires_grad=True)


def _const(lib, a, like):
    """``a`` as a constant tensor of ``like``'s dtype in library ``lib`` (mytorch or torch)."""
    if a is None:
        return None
    if lib is mt:
        return mt.tensor(a, dtype=like.dtype)
    return lib.tensor(a, dtype=like.dtype)


# ------------------------------------------------------------------------------- cross entropy

# input shape, class count is dim 1 (dim 0 for 1-D input)
CE_SHAPES = [(5,), (6, 4), (3, 4, 5), (2, 3, 2, 3)]


def _class_problem(shape, ignore_index):
    c = shape[0] if len(shape) == 1 else shape[1]
    tshape = () if len(shape) == 1 else shape[:1] + shape[2:]
    x = RNG.standard_normal(shape) * 2
    t = np.asarray(RNG.integers(0, c, tshape))
    if t.size > 2:
        t.flat[1] = ignore_index
    w = RNG.random(c) + 0.5
    return x, t, w


@pytest.mark.parametrize("shape", CE_SHAPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
@pytest.mark.parametrize("ignore_index", [-100, 1])
def test_cross_entropy_class_indices_match_torch(
    torch, shape, reduction, weighted, smoothing, ignore_index, dtype=np.float64
):
    x, t, w = _class_problem(shape, ignore_index)
    w = w if weighted else None

    def run(lib, fn):
        def call(a, b):
            return fn(
                a,
                b,
                weight=_const(lib, w, a),
                ignore_index=ignore_index,
                reduction=reduction,
                label_smoothing=smoothing,
            )

        return call

    assert_matches_torch(
        run(mt, F.cross_entropy),
        x.astype(dtype),
        t,
        torch_fn=run(torch, torch.nn.functional.cross_entropy),
    )


@pytest.mark.parametrize("shape", CE_SHAPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_float32_matches_torch(torch, shape, reduction, weighted):
    test_cross_entropy_class_indices_match_torch(
        torch, shape, reduction, weighted, 0.1, -100, dtype=np.float32
    )
    assert F.cross_entropy(mt.randn(*shape), mt.tensor(_class_problem(shape, 0)[1])).dtype == (
        mt.float32
    )


@pytest.mark.parametrize("shape", CE_SHAPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore_index, dtype", [(-100, np.float32), (0, np.float64)])
def test_nll_loss_matches_torch(torch, shape, reduction, weighted, ignore_index, dtype):
    x, t, w = _class_problem(shape, ignore_index)
    w = w if weighted else None

    def run(lib, fn):
        def call(a, b):
            return fn(
                a, b, weight=_const(lib, w, a), ignore_index=ignore_index, reduction=reduction
            )

        return call

    assert_matches_torch(
        run(mt, F.nll_loss), x.astype(dtype), t, torch_fn=run(torch, torch.nn.functional.nll_loss)
    )


@pytest.mark.parametrize("shape", CE_SHAPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing, dtype", [(0.0, np.float32), (0.3, np.float64)])
def test_cross_entropy_probability_targets_match_torch(
    torch, shape, reduction, weighted, smoothing, dtype
):
    x, _, w = _class_problem(shape, -100)
    w = w if weighted else None
    q = RNG.random(shape)
    q /= q.sum(axis=0 if len(shape) == 1 else 1, keepdims=True)

    def run(lib, fn):
        def call(a, b):
            return fn(
                a, b, weight=_const(lib, w, a), reduction=reduction, label_smoothing=smoothing
            )

        return call

    # both the logits and the target probabilities get gradients
    assert_matches_torch(
        run(mt, F.cross_entropy),
        x.astype(dtype),
        q.astype(dtype),
        torch_fn=run(torch, torch.nn.functional.cross_entropy),
    )


@pytest.mark.parametrize(
    "shape, reduction, weighted, smoothing, ignore_index",
    [
        ((6, 4), "mean", False, 0.0, -100),
        ((6, 4), "mean", True, 0.2, 2),
        ((6, 4), "none", True, 0.0, 1),
        ((3, 4, 5), "sum", True, 0.1, -100),
        ((2, 3, 2, 3), "mean", False, 0.3, 0),
        ((5,), "none", False, 0.1, -100),
    ],
)
def test_cross_entropy_gradchecks(shape, reduction, weighted, smoothing, ignore_index):
    x, t, w = _class_problem(shape, ignore_index)
    w = mt.tensor(w, dtype=mt.float64) if weighted else None
    tt = mt.tensor(t)

    def ce(a):
        return F.cross_entropy(
            a,
            tt,
            weight=w,
            ignore_index=ignore_index,
            reduction=reduction,
            label_smoothing=smoothing,
        )

    def nll(a):
        return F.nll_loss(a, tt, weight=w, ignore_index=ignore_index, reduction=reduction)

    for fn in (ce, nll):
        assert gradcheck(fn, (_f64(x),))
        assert gradgradcheck(fn, (_f64(x),))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_probability_targets_gradcheck(reduction, smoothing):
    x = RNG.standard_normal((3, 4, 2))
    q = RNG.random((3, 4, 2))
    w = mt.tensor(RNG.random(4) + 0.5, dtype=mt.float64)

    def fn(a, b):
        return F.cross_entropy(a, b, weight=w, reduction=reduction, label_smoothing=smoothing)

    assert gradcheck(fn, (_f64(x), _f64(q)))
    assert gradgradcheck(fn, (_f64(x), _f64(q)))


def test_cross_entropy_equals_log_softmax_then_nll():
    x = mt.randn(7, 5, dtype=mt.float64)
    t = mt.tensor(RNG.integers(0, 5, 7))
    a = F.cross_entropy(x, t)
    b = F.nll_loss(F.log_softmax(x, 1), t)
    np.testing.assert_allclose(a.item(), b.item(), rtol=1e-12)


def test_cross_entropy_hand_computed():
    # uniform logits over 4 classes: every sample costs log(4)
    loss = F.cross_entropy(mt.zeros(3, 4), mt.tensor([0, 3, 1]))
    assert loss.item() == pytest.approx(np.log(4), rel=1e-6)
    # weighted mean divides by the summed weights of the chosen targets
    x = mt.tensor([[0.0, 0.0], [0.0, 0.0]])
    w = mt.tensor([1.0, 3.0])
    loss = F.cross_entropy(x, mt.tensor([0, 1]), weight=w)
    assert loss.item() == pytest.approx(np.log(2), rel=1e-6)  # (1 + 3) log2 / (1 + 3)


def test_cross_entropy_is_stable_for_huge_logits(torch):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], np.float32)
    t = np.array([1, 0])
    loss = F.cross_entropy(mt.tensor(x), mt.tensor(t))
    assert np.isfinite(loss.item())
    assert_matches_torch(F.cross_entropy, x, t, torch_fn=torch.nn.functional.cross_entropy)


def test_all_targets_ignored_gives_nan_mean_and_zero_grads(torch):
    x = np.random.default_rng(1).standard_normal((4, 3))
    t = np.full(4, -100)
    for smoothing in (0.0, 0.1):
        assert_matches_torch(
            lambda a, b, s=smoothing: F.cross_entropy(a, b, label_smoothing=s),
            x,
            t,
            torch_fn=lambda a, b, s=smoothing: torch.nn.functional.cross_entropy(
                a, b, label_smoothing=s
            ),
        )
    xm = mt.tensor(x, requires_grad=True)
    loss = F.cross_entropy(xm, mt.tensor(t))
    assert np.isnan(loss.item())
    loss.backward()
    assert not np.any(xm.grad.data)
    assert F.nll_loss(mt.tensor(x), mt.tensor(t), reduction="sum").item() == 0.0


def test_empty_batch(torch):
    assert np.isnan(F.cross_entropy(mt.zeros(0, 5), mt.zeros(0, dtype=mt.int64)).item())
    assert np.isnan(F.cross_entropy(mt.zeros(0, 5), mt.zeros(0, 5)).item())
    assert F.cross_entropy(mt.zeros(0, 5), mt.zeros(0, dtype=mt.int64), reduction="sum").item() == 0


def test_cross_entropy_errors():
    x = mt.randn(3, 5)
    with pytest.raises(ValueError, match=r"Expected input batch_size \(3\) to match target "):
        F.cross_entropy(x, mt.tensor([0, 1]))
    with pytest.raises(IndexError, match=r"Target 5 is out of bounds.*< 5 classes"):
        F.cross_entropy(x, mt.tensor([0, 1, 5]))
    with pytest.raises(IndexError, match="Target -2 is out of bounds"):
        F.nll_loss(x, mt.tensor([0, 1, -2]))
    with pytest.raises(RuntimeError, match="integer type .*got float32"):
        F.cross_entropy(x, mt.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(RuntimeError, match="Expected floating point type for target"):
        F.cross_entropy(x, mt.zeros(3, 5, dtype=mt.int64))
    with pytest.raises(RuntimeError, match=r"Expected target size \[2, 4\], got \[2, 5\]"):
        F.cross_entropy(mt.randn(2, 3, 4), mt.zeros(2, 5, dtype=mt.int64))
    with pytest.raises(RuntimeError, match="for all 5 classes .* shape: \\[4\\]"):
        F.cross_entropy(x, mt.tensor([0, 1, 2]), weight=mt.ones(4))
    with pytest.raises(RuntimeError, match="ignore_index is not supported for floating point"):
        F.cross_entropy(x, mt.rand(3, 5), ignore_index=1)
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0"):
        F.cross_entropy(x, mt.tensor([0, 1, 2]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="avg is not a valid value for reduction"):
        F.cross_entropy(x, mt.tensor([0, 1, 2]), reduction="avg")
    with pytest.raises(ValueError, match=r"Expected 1 or more dimensions \(got 0\)"):
        F.nll_loss(mt.tensor(1.0), mt.tensor(0))


def test_legacy_size_average_and_reduce(torch):
    x = RNG.standard_normal((4, 3)).astype(np.float32)
    t = RNG.integers(0, 3, 4)
    for size_average, reduce in itertools.product([None, True, False], repeat=2):
        if size_average is None and reduce is None:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert_matches_torch(
                lambda a, b, s=size_average, r=reduce: F.cross_entropy(
                    a, b, size_average=s, reduce=r
                ),
                x,
                t,
                torch_fn=lambda a, b, s=size_average, r=reduce: torch.nn.functional.cross_entropy(
                    a, b, size_average=s, reduce=r
                ),
            )


# ------------------------------------------------------------------------------- regression

REGRESSION = {
    "mse": (F.mse_loss, "mse_loss", {}),
    "l1": (F.l1_loss, "l1_loss", {}),
    "smooth_l1": (F.smooth_l1_loss, "smooth_l1_loss", {}),
    "smooth_l1_beta0.5": (F.smooth_l1_loss, "smooth_l1_loss", {"beta": 0.5}),
    "smooth_l1_beta0": (F.smooth_l1_loss, "smooth_l1_loss", {"beta": 0.0}),
    "huber": (F.huber_loss, "huber_loss", {}),
    "huber_delta2": (F.huber_loss, "huber_loss", {"delta": 2.0}),
    "soft_margin": (F.soft_margin_loss, "soft_margin_loss", {}),
}


@pytest.mark.parametrize("name", sorted(REGRESSION))
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "shape, dtype", [((5,), np.float64), ((2, 3, 4), np.float32), ((), np.float64)]
)
def test_regression_losses_match_torch(torch, name, reduction, shape, dtype):
    fn, torch_name, kw = REGRESSION[name]
    x = np.asarray(RNG.standard_normal(shape) * 2, dtype)
    y = np.asarray(RNG.standard_normal(shape), dtype)
    if name == "soft_margin":  # targets are +-1 and torch gives them no gradient
        y = np.sign(y)
        assert_matches_torch(
            lambda a: fn(a, mt.tensor(y), reduction=reduction, **kw),
            x,
            torch_fn=lambda a: getattr(torch.nn.functional, torch_name)(
                a, torch.tensor(y), reduction=reduction, **kw
            ),
        )
        return
    assert_matches_torch(
        lambda a, b: fn(a, b, reduction=reduction, **kw),
        x,
        y,
        torch_fn=lambda a, b: getattr(torch.nn.functional, torch_name)(
            a, b, reduction=reduction, **kw
        ),
    )


@pytest.mark.parametrize("name", ["mse", "l1", "huber_delta2"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses_with_weight_match_torch(torch, name, reduction):
    fn, torch_name, kw = REGRESSION[name]
    x, y = RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4))
    w = RNG.random((3, 4)) + 0.5
    assert_matches_torch(
        lambda a, b: fn(a, b, reduction=reduction, weight=mt.tensor(w, dtype=a.dtype), **kw),
        x,
        y,
        torch_fn=lambda a, b: getattr(torch.nn.functional, torch_name)(
            a, b, reduction=reduction, weight=torch.tensor(w), **kw
        ),
    )
    with pytest.raises(ValueError, match="Weights and input must have the same size"):
        fn(mt.tensor(x), mt.tensor(y), weight=mt.ones(4), **kw)


@pytest.mark.parametrize("name", ["mse", "l1", "smooth_l1"])
def test_regression_losses_broadcast_with_warning(torch, name):
    fn, torch_name, kw = REGRESSION[name]
    x, y = RNG.standard_normal((3, 4)), RNG.standard_normal((4,))
    with pytest.warns(UserWarning, match="different to the input size"):
        fn(mt.tensor(x), mt.tensor(y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_matches_torch(
            fn, x, y, torch_fn=lambda a, b: getattr(torch.nn.functional, torch_name)(a, b)
        )


@pytest.mark.parametrize("name", sorted(REGRESSION))
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses_gradcheck(name, reduction):
    fn, _, kw = REGRESSION[name]
    x = RNG.standard_normal((3, 4)) * 2
    y = x + RNG.choice([-1, 1], (3, 4)) * RNG.uniform(0.1, 3, (3, 4))  # |x - y| off the kinks
    if name == "soft_margin":
        yt = mt.tensor(np.sign(y), dtype=mt.float64)
        inputs = (_f64(x),)

        def f(a):
            return fn(a, yt, reduction=reduction, **kw)
    else:
        for k in (0.5, 1.0, 2.0):  # keep |x - y| away from beta / delta
            near = np.abs(np.abs(x - y) - k) < 0.05
            y[near] += 0.2
        inputs = (_f64(x), _f64(y))

        def f(a, b):
            return fn(a, b, reduction=reduction, **kw)

    assert gradcheck(f, inputs)
    assert gradgradcheck(f, inputs)


def test_regression_argument_errors():
    x = mt.randn(3)
    with pytest.raises(RuntimeError, match="negative values for beta"):
        F.smooth_l1_loss(x, x, beta=-1.0)
    with pytest.raises(RuntimeError, match="non-positive values for delta"):
        F.huber_loss(x, x, delta=0.0)
    with pytest.raises(ValueError, match="max is not a valid value for reduction"):
        F.mse_loss(x, x, reduction="max")


def test_mse_hand_computed():
    x, y = mt.tensor([1.0, 2.0, 4.0]), mt.tensor([1.0, 0.0, 1.0])
    assert F.mse_loss(x, y).item() == pytest.approx(13 / 3)
    assert F.mse_loss(x, y, reduction="sum").item() == pytest.approx(13.0)
    assert F.mse_loss(x, y, reduction="none").tolist() == [0.0, 4.0, 9.0]
    assert F.mse_loss(x, y).dtype == mt.float32
    assert F.l1_loss(x, mt.tensor([0, 0, 0])).item() == pytest.approx(7 / 3)  # integer target


# ------------------------------------------------------------------------------- binary


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight_shape", [None, (3, 4), (4,)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binary_cross_entropy_matches_torch(torch, reduction, weight_shape, dtype):
    p = RNG.uniform(0.02, 0.98, (3, 4)).astype(dtype)
    t = RNG.uniform(0, 1, (3, 4)).astype(dtype)
    w = None if weight_shape is None else RNG.random(weight_shape) + 0.5

    def run(lib, fn):
        return lambda a, b: fn(a, b, weight=_const(lib, w, a), reduction=reduction)

    assert_matches_torch(
        run(mt, F.binary_cross_entropy),
        p,
        t,
        torch_fn=run(torch, torch.nn.functional.binary_cross_entropy),
        rtol=2e-5,
    )


def test_binary_cross_entropy_clamps_logs_at_minus_100(torch):
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5], np.float32)
    t = np.array([1.0, 0.0, 0.0, 1.0, 0.3], np.float32)
    out = F.binary_cross_entropy(mt.tensor(p), mt.tensor(t), reduction="none")
    np.testing.assert_allclose(out.data[:4], [100.0, 100.0, 0.0, 0.0])
    expected = torch.nn.functional.binary_cross_entropy(
        torch.tensor(p), torch.tensor(t), reduction="none"
    )
    np.testing.assert_allclose(out.data, expected.numpy(), rtol=1e-6)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("pos_weighted", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_with_logits_matches_torch(torch, reduction, weighted, pos_weighted, dtype):
    x = (RNG.standard_normal((3, 4)) * 4).astype(dtype)
    t = RNG.uniform(0, 1, (3, 4)).astype(dtype)
    w = RNG.random((3, 4)) + 0.5 if weighted else None
    pw = RNG.uniform(0.5, 3, 4) if pos_weighted else None

    def run(lib, fn):
        return lambda a, b: fn(
            a, b, weight=_const(lib, w, a), pos_weight=_const(lib, pw, a), reduction=reduction
        )

    assert_matches_torch(
        run(mt, F.binary_cross_entropy_with_logits),
        x,
        t,
        torch_fn=run(torch, torch.nn.functional.binary_cross_entropy_with_logits),
        rtol=2e-5,
    )


def test_bce_with_logits_is_stable(torch):
    x = np.array([-1e4, -100.0, -20.0, 0.0, 20.0, 100.0, 1e4], np.float32)
    t = np.array([1.0, 0.0, 1.0, 0.5, 0.0, 1.0, 0.0], np.float32)
    out = F.binary_cross_entropy_with_logits(mt.tensor(x), mt.tensor(t), reduction="none")
    assert np.all(np.isfinite(out.data))
    assert_matches_torch(
        lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction="none"),
        x,
        t,
        torch_fn=lambda a, b: torch.nn.functional.binary_cross_entropy_with_logits(
            a, b, reduction="none"
        ),
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_losses_gradcheck(reduction):
    p = RNG.uniform(0.05, 0.95, (3, 4))
    x = RNG.standard_normal((3, 4)) * 3
    t = RNG.uniform(0, 1, (3, 4))
    w = mt.tensor(RNG.random((3, 4)) + 0.5, dtype=mt.float64)
    pw = mt.tensor(RNG.uniform(0.5, 3, 4), dtype=mt.float64)

    def bce(a, b):
        return F.binary_cross_entropy(a, b, weight=w, reduction=reduction)

    def bcel(a, b):
        return F.binary_cross_entropy_with_logits(
            a, b, weight=w, pos_weight=pw, reduction=reduction
        )

    def bcel_plain(a, b):
        return F.binary_cross_entropy_with_logits(a, b, reduction=reduction)

    for fn, inp in ((bce, p), (bcel, x), (bcel_plain, x)):
        assert gradcheck(fn, (_f64(inp), _f64(t)))
        assert gradgradcheck(fn, (_f64(inp), _f64(t)))


@pytest.mark.parametrize(
    "name", ["binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div"]
)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_scalar_operands(torch, name, reduction):
    x, y = np.array(0.3), np.array(0.8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_matches_torch(
            lambda a, b: getattr(F, name)(a, b, reduction=reduction),
            x,
            y,
            torch_fn=lambda a, b: getattr(torch.nn.functional, name)(a, b, reduction=reduction),
        )


def test_binary_argument_errors():
    with pytest.raises(ValueError, match=r"target size \(\[4\]\) that is different to the"):
        F.binary_cross_entropy(mt.rand(3), mt.rand(4))
    with pytest.raises(RuntimeError, match="should be between 0 and 1"):
        F.binary_cross_entropy(mt.rand(3) + 1, mt.rand(3))
    with pytest.raises(ValueError, match=r"Target size \(\[4\]\) must be the same as input"):
        F.binary_cross_entropy_with_logits(mt.rand(3), mt.rand(4))


# ------------------------------------------------------------------------------- kl_div


@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kl_div_matches_torch(torch, reduction, log_target, dtype):
    inp = np.log(RNG.dirichlet(np.ones(5), size=4)).astype(dtype)
    tgt = RNG.dirichlet(np.ones(5), size=4)
    tgt = (np.log(tgt) if log_target else tgt).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_matches_torch(
            lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
            inp,
            tgt,
            torch_fn=lambda a, b: torch.nn.functional.kl_div(
                a, b, reduction=reduction, log_target=log_target
            ),
        )
        assert gradcheck(
            lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
            (_f64(inp), _f64(tgt)),
        )
        assert gradgradcheck(
            lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
            (_f64(inp), _f64(tgt)),
        )


def test_kl_div_zero_target_contributes_nothing():
    out = F.kl_div(mt.tensor([-1.0, -2.0]), mt.tensor([0.0, 1.0]), reduction="none")
    assert out.tolist() == [0.0, 2.0]


def test_kl_div_mean_warns():
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(mt.randn(2, 3), mt.rand(2, 3))


# ------------------------------------------------------------------------------- others


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_and_hinge_losses_match_torch(torch, reduction):
    x1, x2 = RNG.standard_normal(6), RNG.standard_normal(6)
    y = np.array([1, -1, 1, 1, -1, -1])
    assert_matches_torch(
        lambda a, b: F.margin_ranking_loss(a, b, mt.tensor(y), margin=0.2, reduction=reduction),
        x1,
        x2,
        torch_fn=lambda a, b: torch.nn.functional.margin_ranking_loss(
            a, b, torch.tensor(y), margin=0.2, reduction=reduction
        ),
    )
    assert_matches_torch(
        lambda a: F.hinge_embedding_loss(a, mt.tensor(y), margin=0.5, reduction=reduction),
        x1,
        torch_fn=lambda a: torch.nn.functional.hinge_embedding_loss(
            a, torch.tensor(y), margin=0.5, reduction=reduction
        ),
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("log_input, full", list(itertools.product([True, False], repeat=2)))
def test_poisson_nll_loss_matches_torch(torch, reduction, log_input, full):
    x = RNG.standard_normal((3, 4)) if log_input else RNG.uniform(0.1, 3, (3, 4))
    t = RNG.uniform(0, 4, (3, 4))

    def run(fn):
        return lambda a, b: fn(a, b, log_input=log_input, full=full, reduction=reduction)

    assert_matches_torch(
        run(F.poisson_nll_loss), x, t, torch_fn=run(torch.nn.functional.poisson_nll_loss)
    )
    assert gradcheck(run(F.poisson_nll_loss), (_f64(x), _f64(t)))


def test_losses_exported():
    from mytorch.core.ops import loss

    for name in loss.__all__:
        assert getattr(F, name) is getattr(loss, name)
