"""Batch, layer, group, instance and RMS norm: outputs, gradients and running statistics
against PyTorch (in float64, so its float32 rounding is not the reference), finite differences
of the first and second derivatives, and error messages."""

import numpy as np
import pytest

import mytorch.core as mt
import mytorch.core.functional as F
from mytorch.core.testing import gradcheck, gradgradcheck

TOL = dict(rtol=1e-4, atol=1e-5)


def randn(*shape: int, seed: int = 0, scale: float = 1.0, shift: float = 0.0) -> np.ndarray:
    data = np.random.default_rng(seed).standard_normal(shape) * scale + shift
    return data.astype(np.float32)


def f64(*shape: int, seed: int = 0) -> mt.Tensor:
    data = np.random.default_rng(seed).standard_normal(shape)
    return mt.tensor(data, dtype=mt.float64, requires_grad=True)


def _both(torch, arrays: dict, grad: tuple = ()) -> tuple[dict, dict]:
    """mytorch float32 tensors and torch float64 tensors of the same arrays."""
    ours = {k: mt.tensor(a, requires_grad=k in grad) for k, a in arrays.items()}
    theirs = {
        k: torch.tensor(a.astype(np.float64), requires_grad=k in grad) for k, a in arrays.items()
    }
    return ours, theirs


def _compare(torch, my, ty, ours: dict, theirs: dict, grad: tuple, seed: int = 7) -> None:
    """Outputs equal; then the gradients of sum(out * v) for every name in ``grad``."""
    assert my.shape == tuple(ty.shape)
    assert my.dtype == np.float32
    np.testing.assert_allclose(my.detach().numpy(), ty.detach().numpy(), **TOL, err_msg="out")
    if not grad:
        return
    v = randn(*my.shape, seed=seed)
    (my * mt.tensor(v)).sum().backward()
    (ty * torch.tensor(v.astype(np.float64))).sum().backward()
    for k in grad:
        np.testing.assert_allclose(
            ours[k].grad.numpy(), theirs[k].grad.numpy(), **TOL, err_msg=f"grad of {k}"
        )


# ----------------------------------------------------------------------------------------------
# batch norm
# ----------------------------------------------------------------------------------------------

SHAPES = [(8, 4), (6, 4, 5), (3, 4, 5, 6), (2, 4, 3, 2, 3)]


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("momentum", [0.1, 0.3])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_batch_norm_training_steps_then_eval_match_torch(torch, shape, momentum, affine):
    c = shape[1]
    rm, rv = mt.zeros(c), mt.ones(c)
    trm, trv = torch.zeros(c, dtype=torch.float64), torch.ones(c, dtype=torch.float64)
    grad = ("x", "w", "b") if affine else ("x",)
    for step in range(3):
        arrays = dict(
            x=randn(*shape, seed=step, scale=step + 1, shift=step),
            w=randn(c, seed=10 + step) + 1,
            b=randn(c, seed=20 + step),
        )
        ours, theirs = _both(torch, arrays, grad)
        w, b = (ours["w"], ours["b"]) if affine else (None, None)
        tw, tb = (theirs["w"], theirs["b"]) if affine else (None, None)
        my = F.batch_norm(ours["x"], rm, rv, w, b, True, momentum, 1e-5)
        ty = torch.nn.functional.batch_norm(theirs["x"], trm, trv, tw, tb, True, momentum, 1e-5)
        _compare(torch, my, ty, ours, theirs, grad, seed=step)
        np.testing.assert_allclose(rm.numpy(), trm.numpy(), **TOL, err_msg="running_mean")
        np.testing.assert_allclose(rv.numpy(), trv.numpy(), **TOL, err_msg="running_var")
    ours, theirs = _both(torch, dict(x=randn(*shape, seed=9, shift=1)), ("x",))
    my = F.batch_norm(ours["x"], rm, rv, training=False)
    ty = torch.nn.functional.batch_norm(theirs["x"], trm, trv, training=False)
    _compare(torch, my, ty, ours, theirs, ("x",))


def test_batch_norm_training_without_running_stats(torch):
    ours, theirs = _both(torch, dict(x=randn(5, 3, 4, seed=1)), ("x",))
    my = F.batch_norm(ours["x"], None, None, training=True)
    ty = torch.nn.functional.batch_norm(theirs["x"], None, None, training=True)
    _compare(torch, my, ty, ours, theirs, ("x",))


def test_batch_norm_updates_running_stats_in_place_and_bumps_versions():
    rm, rv = mt.zeros(3), mt.ones(3)
    data_mean, data_var = rm.data, rv.data
    v0 = rm._version
    x = mt.tensor(randn(6, 3, 4, seed=2))
    F.batch_norm(x, rm, rv, training=True, momentum=0.5)
    assert rm.data is data_mean and rv.data is data_var
    assert rm._version == v0 + 1
    flat = x.numpy().transpose(1, 0, 2).reshape(3, -1)
    np.testing.assert_allclose(rm.numpy(), 0.5 * flat.mean(1), rtol=1e-5)
    np.testing.assert_allclose(rv.numpy(), 0.5 + 0.5 * flat.var(1, ddof=1), rtol=1e-5)


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradcheck(training):
    x, w, b = f64(4, 3, 5), f64(3, seed=1), f64(3, seed=2)
    rm = mt.tensor(np.zeros(3), dtype=mt.float64)
    rv = mt.tensor(np.full(3, 2.0), dtype=mt.float64)

    def fn(x, w, b):
        return F.batch_norm(x, rm.clone(), rv.clone(), w, b, training, 0.1, 1e-5)

    assert gradcheck(fn, (x, w, b))
    assert gradgradcheck(fn, (x, w, b))


# ----------------------------------------------------------------------------------------------
# layer norm and RMS norm
# ----------------------------------------------------------------------------------------------

LAYER = [((4, 6), (6,)), ((2, 3, 5), (5,)), ((2, 3, 5), (3, 5)), ((2, 3, 4, 4), (4, 4))]


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize(("shape", "normalized"), LAYER, ids=str)
def test_layer_norm_matches_torch(torch, shape, normalized, affine):
    arrays = dict(
        x=randn(*shape, seed=1, scale=3, shift=2),
        w=randn(*normalized) + 1,
        b=randn(*normalized, seed=2),
    )
    grad = ("x", "w", "b") if affine else ("x",)
    ours, theirs = _both(torch, arrays, grad)
    my = F.layer_norm(ours["x"], normalized, *((ours["w"], ours["b"]) if affine else ()))
    ty = torch.nn.functional.layer_norm(
        theirs["x"], normalized, *((theirs["w"], theirs["b"]) if affine else ())
    )
    _compare(torch, my, ty, ours, theirs, grad)


@pytest.mark.parametrize("eps", [None, 1e-3])
@pytest.mark.parametrize(("shape", "normalized"), LAYER, ids=str)
def test_rms_norm_matches_torch(torch, shape, normalized, eps):
    arrays = dict(x=randn(*shape, seed=1, scale=3), w=randn(*normalized) + 1)
    ours, theirs = _both(torch, arrays, ("x", "w"))
    my = F.rms_norm(ours["x"], normalized, ours["w"], eps)
    ty = torch.nn.functional.rms_norm(
        theirs["x"],
        normalized,
        theirs["w"],
        float(np.finfo(np.float32).eps) if eps is None else eps,
    )
    _compare(torch, my, ty, ours, theirs, ("x", "w"))


def test_layer_and_rms_norm_gradcheck():
    x, w, b = f64(3, 2, 4), f64(2, 4, seed=1), f64(2, 4, seed=2)
    assert gradcheck(lambda x, w, b: F.layer_norm(x, (2, 4), w, b), (x, w, b))
    assert gradgradcheck(lambda x, w, b: F.layer_norm(x, (2, 4), w, b), (x, w, b))
    assert gradcheck(lambda x, w: F.rms_norm(x, (4,), w[0]), (x, w))
    assert gradgradcheck(lambda x, w: F.rms_norm(x, (4,), w[0], 1e-6), (x, w))


# ----------------------------------------------------------------------------------------------
# group norm
# ----------------------------------------------------------------------------------------------

GROUPS = [
    ((4, 6, 5), 1),
    ((4, 6, 5), 2),
    ((4, 6, 5), 6),
    ((2, 6, 3, 4), 3),
    ((5, 8), 2),
    ((2, 4, 2, 3, 2), 4),
]


@pytest.mark.parametrize("affine", ["both", "weight", "none"])
@pytest.mark.parametrize(("shape", "groups"), GROUPS, ids=str)
def test_group_norm_matches_torch(torch, shape, groups, affine):
    c = shape[1]
    arrays = dict(x=randn(*shape, seed=3, scale=2, shift=1), w=randn(c) + 1, b=randn(c, seed=4))
    grad = {"both": ("x", "w", "b"), "weight": ("x", "w"), "none": ("x",)}[affine]
    ours, theirs = _both(torch, arrays, grad)
    w, tw = (ours["w"], theirs["w"]) if affine != "none" else (None, None)
    b, tb = (ours["b"], theirs["b"]) if affine == "both" else (None, None)
    my = F.group_norm(ours["x"], groups, w, b, 1e-5)
    ty = torch.nn.functional.group_norm(theirs["x"], groups, tw, tb, 1e-5)
    _compare(torch, my, ty, ours, theirs, grad)


def test_group_norm_gradcheck():
    x, w, b = f64(2, 4, 3), f64(4, seed=1), f64(4, seed=2)
    fn = lambda x, w, b: F.group_norm(x, 2, w, b)  # noqa: E731
    assert gradcheck(fn, (x, w, b))
    assert gradgradcheck(fn, (x, w, b))
    assert gradgradcheck(lambda x: F.group_norm(x, 4), (x,))


# ----------------------------------------------------------------------------------------------
# instance norm
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(3, 4, 5), (2, 4, 3, 5)], ids=str)
@pytest.mark.parametrize("affine", [True, False])
def test_instance_norm_running_stats_over_steps_then_eval(torch, shape, affine):
    c = shape[1]
    rm, rv = mt.zeros(c), mt.ones(c)
    trm, trv = torch.zeros(c, dtype=torch.float64), torch.ones(c, dtype=torch.float64)
    grad = ("x", "w", "b") if affine else ("x",)
    for step in range(3):
        arrays = dict(
            x=randn(*shape, seed=step, scale=step + 1, shift=step),
            w=randn(c, seed=5) + 1,
            b=randn(c, seed=6),
        )
        ours, theirs = _both(torch, arrays, grad)
        w, b = (ours["w"], ours["b"]) if affine else (None, None)
        tw, tb = (theirs["w"], theirs["b"]) if affine else (None, None)
        my = F.instance_norm(ours["x"], rm, rv, w, b, True, 0.2, 1e-5)
        ty = torch.nn.functional.instance_norm(theirs["x"], trm, trv, tw, tb, True, 0.2, 1e-5)
        _compare(torch, my, ty, ours, theirs, grad, seed=step)
        np.testing.assert_allclose(rm.numpy(), trm.numpy(), **TOL, err_msg="running_mean")
        np.testing.assert_allclose(rv.numpy(), trv.numpy(), **TOL, err_msg="running_var")
    ours, theirs = _both(torch, dict(x=randn(*shape, seed=8)), ("x",))
    my = F.instance_norm(ours["x"], rm, rv, use_input_stats=False)
    ty = torch.nn.functional.instance_norm(theirs["x"], trm, trv, use_input_stats=False)
    _compare(torch, my, ty, ours, theirs, ("x",))


def test_instance_norm_without_running_stats(torch):
    ours, theirs = _both(torch, dict(x=randn(2, 3, 7, seed=1, scale=4)), ("x",))
    my = F.instance_norm(ours["x"])
    ty = torch.nn.functional.instance_norm(theirs["x"])
    _compare(torch, my, ty, ours, theirs, ("x",))


def test_instance_norm_gradcheck():
    x, w, b = f64(2, 3, 4), f64(3, seed=1), f64(3, seed=2)
    fn = lambda x, w, b: F.instance_norm(x, weight=w, bias=b)  # noqa: E731
    assert gradcheck(fn, (x, w, b))
    assert gradgradcheck(fn, (x, w, b))


# ----------------------------------------------------------------------------------------------
# errors
# ----------------------------------------------------------------------------------------------

x3 = mt.randn(2, 6, 4)
ERRORS = [
    (RuntimeError, "divisible by num_groups", lambda: F.group_norm(x3, 4)),
    (RuntimeError, "num_groups must be positive", lambda: F.group_norm(x3, 0)),
    (RuntimeError, r"weight of shape \[5\]", lambda: F.group_norm(x3, 3, mt.ones(5))),
    (RuntimeError, r"bias of shape \[5\]", lambda: F.group_norm(x3, 3, None, mt.ones(5))),
    (RuntimeError, "at least 2 dimensions", lambda: F.group_norm(mt.randn(6), 3)),
    (ValueError, "more than 1 spatial element", lambda: F.instance_norm(mt.randn(2, 6, 1))),
    (ValueError, "both be None or neither", lambda: F.instance_norm(x3, mt.zeros(6), None)),
    (
        RuntimeError,
        "running_mean should contain 12 elements not 10",
        lambda: F.instance_norm(x3, mt.zeros(5), mt.ones(5)),
    ),
    (
        RuntimeError,
        "to be defined when use_input_stats is false",
        lambda: F.instance_norm(x3, use_input_stats=False),
    ),
    (
        ValueError,
        "more than 1 value per channel",
        lambda: F.batch_norm(mt.randn(1, 6), mt.zeros(6), mt.ones(6), training=True),
    ),
    (
        RuntimeError,
        "running_mean should contain 6 elements not 5",
        lambda: F.batch_norm(x3, mt.zeros(5), mt.ones(5)),
    ),
    (RuntimeError, "required in eval mode", lambda: F.batch_norm(x3, None, None)),
    (RuntimeError, r"normalized_shape=\[5\]", lambda: F.layer_norm(x3, (5,))),
    (
        RuntimeError,
        "Expected weight to be of same shape",
        lambda: F.layer_norm(x3, (4,), mt.ones(5)),
    ),
]


@pytest.mark.parametrize(("error", "match", "fn"), ERRORS, ids=[m for _, m, _ in ERRORS])
def test_normalization_errors(error, match, fn):
    with pytest.raises(error, match=match):
        fn()
