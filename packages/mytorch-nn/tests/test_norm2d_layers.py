"""BatchNorm2d, GroupNorm, InstanceNorm1d/2d and LayerNorm over (C, H, W) against PyTorch:
training and eval outputs, gradients and running statistics over several steps, state_dict
keys, reprs and input checks."""

from __future__ import annotations

import numpy as np
import pytest

import mytorch.core as mt
import mytorch.nn as nn

TOL = dict(rtol=1e-4, atol=1e-5)


def randn(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _pair_with_random_affine(torch, make):
    """(ours, theirs) with torch's non-trivial affine parameters copied into ours."""
    theirs = make(torch.nn)
    with torch.no_grad():
        for i, p in enumerate(theirs.parameters()):
            p.copy_(torch.from_numpy(randn(*p.shape, seed=20 + i) + (1 if i == 0 else 0)))
    ours = make(nn)
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def _step(torch, ours, theirs, x: np.ndarray, seed: int) -> None:
    """One forward/backward on both; compare outputs and input gradients."""
    mx, tx = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    my, ty = ours(mx), theirs(tx)
    assert my.shape == tuple(ty.shape)
    np.testing.assert_allclose(my.data, ty.detach().numpy(), **TOL, err_msg="output")
    v = randn(*x.shape, seed=seed)
    (my * mt.tensor(v)).sum().backward()
    (ty * torch.from_numpy(v)).sum().backward()
    np.testing.assert_allclose(mx.grad.data, tx.grad.numpy(), **TOL, err_msg="input grad")


def _compare_state(ours, theirs) -> None:
    """Parameter gradients (accumulated over the steps) and buffers."""
    for name, tp in theirs.named_parameters():
        mp = ours.get_parameter(name)
        np.testing.assert_allclose(mp.grad.data, tp.grad.numpy(), **TOL, err_msg=name)
    t_buffers = dict(theirs.named_buffers())
    assert list(dict(ours.named_buffers())) == list(t_buffers)
    for name, tb in t_buffers.items():
        mb = ours.get_buffer(name)
        assert mb.dtype == tb.numpy().dtype, name
        np.testing.assert_allclose(mb.data, tb.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)


def _run_train_then_eval(torch, make, shape, steps: int = 3) -> tuple:
    ours, theirs = _pair_with_random_affine(torch, make)
    for step in range(steps):
        _step(torch, ours, theirs, randn(*shape, seed=step) * (step + 1) + step, 100 + step)
    _compare_state(ours, theirs)
    ours.eval()
    theirs.eval()
    _step(torch, ours, theirs, randn(*shape, seed=50) * 2 - 1, 51)
    _compare_state(ours, theirs)  # eval leaves the running statistics alone
    return ours, theirs


# ---------------------------------------------------------------------------------- BatchNorm2d

BN_CONFIGS = {
    "default": dict(),
    "momentum_none": dict(momentum=None),
    "momentum_0.3_eps": dict(momentum=0.3, eps=1e-3),
    "affine_false": dict(affine=False),
    "no_bias": dict(bias=False),
    "no_running_stats": dict(track_running_stats=False),
}


@pytest.mark.parametrize("config", list(BN_CONFIGS))
def test_batchnorm2d_steps_match_torch(torch, config):
    kwargs = BN_CONFIGS[config]
    ours, _ = _run_train_then_eval(torch, lambda m: m.BatchNorm2d(4, **kwargs), (3, 4, 5, 6))
    if ours.track_running_stats:
        assert ours.num_batches_tracked.item() == 3


def test_batchnorm2d_input_check():
    with pytest.raises(ValueError, match=r"expected 4D input \(got 2D input\)"):
        nn.BatchNorm2d(3)(mt.randn(2, 3))
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input\)"):
        nn.BatchNorm2d(3)(mt.randn(3, 4, 4))


# ---------------------------------------------------------------------------------- GroupNorm

GN_CASES = {
    "g2_4d": ((2, 6), dict(), (4, 6, 5, 5)),
    "g1_layer_like": ((1, 6), dict(), (3, 6, 4, 3)),
    "g6_instance_like": ((6, 6), dict(), (3, 6, 4, 3)),
    "affine_false": ((3, 6), dict(affine=False), (2, 6, 4, 4)),
    "no_bias": ((3, 6), dict(bias=False), (2, 6, 4, 4)),
    "eps_3d": ((2, 4), dict(eps=1e-3), (3, 4, 7)),
    "2d_input": ((2, 8), dict(), (5, 8)),
    "batch1": ((4, 8), dict(), (1, 8, 3, 3)),
}


@pytest.mark.parametrize("case", list(GN_CASES))
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_groupnorm_matches_torch(torch, case, training):
    (groups, channels), kwargs, shape = GN_CASES[case]
    ours, theirs = _pair_with_random_affine(
        torch, lambda m: m.GroupNorm(groups, channels, **kwargs)
    )
    ours.train(training)
    theirs.train(training)
    for step in range(2):
        _step(torch, ours, theirs, randn(*shape, seed=step) * 3 + 1, 10 + step)
    _compare_state(ours, theirs)


def test_groupnorm_errors():
    with pytest.raises(ValueError, match=r"num_channels \(5\) must be divisible by num_groups"):
        nn.GroupNorm(2, 5)


# ---------------------------------------------------------------------------------- InstanceNorm

IN_CONFIGS = {
    "default": dict(),
    "affine": dict(affine=True),
    "affine_no_bias": dict(affine=True, bias=False),
    "track": dict(track_running_stats=True),
    "track_momentum_none": dict(track_running_stats=True, momentum=None),
    "track_affine_momentum_0.3": dict(track_running_stats=True, affine=True, momentum=0.3),
    "eps": dict(eps=1e-2),
}


@pytest.mark.parametrize("config", list(IN_CONFIGS))
@pytest.mark.parametrize(
    "layer, shape",
    [("InstanceNorm2d", (3, 4, 5, 6)), ("InstanceNorm1d", (3, 4, 9))],
    ids=["2d", "1d"],
)
def test_instancenorm_steps_match_torch(torch, layer, shape, config):
    kwargs = IN_CONFIGS[config]
    ours, _ = _run_train_then_eval(torch, lambda m: getattr(m, layer)(4, **kwargs), shape)
    if ours.track_running_stats:
        assert ours.num_batches_tracked.item() == 0  # as in PyTorch: instance norm never counts


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda m: m.InstanceNorm2d(3, affine=True), (3, 5, 4)),
        (lambda m: m.InstanceNorm2d(3, track_running_stats=True), (3, 5, 4)),
        (lambda m: m.InstanceNorm1d(3, affine=True), (3, 7)),
    ],
    ids=["2d_affine", "2d_track", "1d_affine"],
)
def test_instancenorm_unbatched_input(torch, make, shape):
    _run_train_then_eval(torch, make, shape, steps=2)


def test_instancenorm_input_checks():
    with pytest.raises(ValueError, match=r"expected 3D or 4D input \(got 2D input\)"):
        nn.InstanceNorm2d(3)(mt.randn(2, 3))
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        nn.InstanceNorm1d(3)(mt.randn(2, 3, 4, 4))
    with pytest.raises(
        ValueError, match=r"expected input's size at dim=1 to match num_features \(3\), but got: 4"
    ):
        nn.InstanceNorm2d(3, affine=True)(mt.randn(2, 4, 5, 5))
    with pytest.warns(UserWarning, match="input's size at dim=0 does not match num_features"):
        y = nn.InstanceNorm2d(3)(mt.randn(4, 5, 5))  # unbatched, num_features unused
    assert y.shape == (4, 5, 5)


# ---------------------------------------------------------------------------------- LayerNorm (C,H,W)


@pytest.mark.parametrize("affine", [True, False])
def test_layernorm_over_chw_matches_torch(torch, affine):
    make = lambda m: m.LayerNorm([3, 4, 5], elementwise_affine=affine)  # noqa: E731
    ours, theirs = _pair_with_random_affine(torch, make)
    _step(torch, ours, theirs, randn(2, 3, 4, 5) * 2 + 1, 7)
    _compare_state(ours, theirs)


# ---------------------------------------------------------------------------------- state, repr

LAYERS = [
    lambda m: m.BatchNorm2d(64),
    lambda m: m.BatchNorm2d(8, eps=1e-3, momentum=None, affine=False),
    lambda m: m.BatchNorm2d(8, track_running_stats=False, bias=False),
    lambda m: m.GroupNorm(2, 4),
    lambda m: m.GroupNorm(4, 8, eps=1e-3, affine=False),
    lambda m: m.GroupNorm(1, 8, bias=False),
    lambda m: m.InstanceNorm2d(3),
    lambda m: m.InstanceNorm2d(3, affine=True, track_running_stats=True, momentum=None),
    lambda m: m.InstanceNorm1d(5, eps=1e-3, affine=True, bias=False),
    lambda m: m.LayerNorm([3, 4, 5]),
]


@pytest.mark.parametrize("make", LAYERS)
def test_repr_and_state_dict_match_torch(torch, make):
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    assert list(ours_sd) == list(theirs_sd)
    for key, value in theirs_sd.items():
        np.testing.assert_array_equal(ours_sd[key].data, value.numpy(), err_msg=key)
        assert ours_sd[key].dtype == value.numpy().dtype, key


def test_repr_examples():
    assert repr(nn.BatchNorm2d(64)) == (
        "BatchNorm2d(64, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)"
    )
    assert repr(nn.GroupNorm(2, 4)) == "GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)"
