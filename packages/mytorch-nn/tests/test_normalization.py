"""BatchNorm, LayerNorm and RMSNorm: PyTorch parity (outputs, grads, running statistics) and
finite-difference checks of the fused ops, first and second order."""

from __future__ import annotations

import numpy as np
import pytest

import mytorch.core as mt
import mytorch.nn as nn
from mytorch.core.testing import gradcheck, gradgradcheck
from mytorch.nn.functional import batch_norm, layer_norm, rms_norm


def randn(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def f64(*shape: int, seed: int = 0) -> mt.Tensor:
    data = np.random.default_rng(seed).standard_normal(shape)
    return mt.tensor(data, dtype=mt.float64, requires_grad=True)


# ---------------------------------------------------------------------------------- batch norm

BN_CONFIGS = {
    "default": dict(),
    "momentum_none": dict(momentum=None),
    "momentum_0.3": dict(momentum=0.3),
    "affine_false": dict(affine=False),
    "no_bias": dict(bias=False),
    "no_running_stats": dict(track_running_stats=False),
    "eps": dict(eps=1e-2),
}


@pytest.mark.parametrize("shape", [(8, 4), (6, 4, 5)], ids=["2d", "3d"])
@pytest.mark.parametrize("config", list(BN_CONFIGS))
def test_batchnorm1d_training_steps_match_torch(torch, shape, config):
    kwargs = BN_CONFIGS[config]
    ours, theirs = nn.BatchNorm1d(4, **kwargs), torch.nn.BatchNorm1d(4, **kwargs)
    if ours.weight is not None:  # non-trivial affine parameters
        w, b = randn(4, seed=7) + 1, randn(4, seed=8)
        with torch.no_grad():
            theirs.weight.copy_(torch.from_numpy(w))
            if theirs.bias is not None:
                theirs.bias.copy_(torch.from_numpy(b))
    ours.load_state_dict(theirs.state_dict())
    for step in range(4):
        x = randn(*shape, seed=step) * (step + 1) + step
        mx, tx = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        my, ty = ours(mx), theirs(tx)
        np.testing.assert_allclose(my.data, ty.detach().numpy(), rtol=1e-5, atol=1e-5)
        v = randn(*shape, seed=100 + step)
        (my * mt.tensor(v)).sum().backward()
        (ty * torch.from_numpy(v)).sum().backward()
        np.testing.assert_allclose(mx.grad.data, tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    for name, tp in theirs.named_parameters():
        np.testing.assert_allclose(
            ours.get_parameter(name).grad.data, tp.grad.numpy(), rtol=1e-4, atol=1e-5
        )
    for name, tb in theirs.named_buffers():
        mb = ours.get_buffer(name)
        assert mb.dtype == tb.numpy().dtype, name
        np.testing.assert_allclose(mb.data, tb.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)
    if ours.track_running_stats:
        assert ours.num_batches_tracked.item() == 4
    # eval mode: the running statistics (or, without them, the batch's) normalize
    ours.eval()
    theirs.eval()
    x = randn(*shape, seed=50) * 2
    mx, tx = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    my, ty = ours(mx), theirs(tx)
    np.testing.assert_allclose(my.data, ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    v = randn(*shape, seed=51)
    (my * mt.tensor(v)).sum().backward()
    (ty * torch.from_numpy(v)).sum().backward()
    np.testing.assert_allclose(mx.grad.data, tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    if ours.track_running_stats:
        assert ours.num_batches_tracked.item() == 4  # eval does not count batches


def test_batchnorm_running_var_is_unbiased_and_momentum_none_averages():
    bn = nn.BatchNorm1d(2, momentum=None)
    xs = [randn(5, 2, seed=s) for s in range(3)]
    for x in xs:
        bn(mt.tensor(x))
    np.testing.assert_allclose(
        bn.running_mean.data, np.mean([x.mean(0) for x in xs], 0), rtol=1e-5, atol=1e-6
    )
    # cumulative average of the unbiased variances, starting from the initial 1 (weight 0)
    np.testing.assert_allclose(
        bn.running_var.data, np.mean([x.var(0, ddof=1) for x in xs], 0), rtol=1e-5
    )


def test_batchnorm2d_matches_torch(check_layer):
    check_layer(lambda m: m.BatchNorm2d(3), randn(4, 3, 5, 5), rtol=1e-5, atol=1e-5,
                grad_rtol=1e-4, grad_atol=1e-5)  # fmt: skip
    check_layer(lambda m: m.BatchNorm2d(3), randn(4, 3, 5, 5), train=False)


def test_batchnorm_errors():
    with pytest.raises(ValueError, match="expected 2D or 3D input \\(got 4D input\\)"):
        nn.BatchNorm1d(3)(mt.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        nn.BatchNorm1d(3)(mt.randn(1, 3))
    with pytest.raises(RuntimeError, match="running_mean should contain 3 elements not 4"):
        nn.BatchNorm1d(4)(mt.randn(2, 3))
    bn = nn.BatchNorm1d(3).eval()
    assert bn(mt.randn(1, 3)).shape == (1, 3)  # one sample is fine in eval mode


def test_batchnorm_does_not_modify_saved_input_and_bumps_versions():
    bn = nn.BatchNorm1d(3)
    x = mt.randn(4, 3, requires_grad=True)
    before = x.data.copy()
    versions = [b._version for b in bn.buffers()]
    y = bn(x)
    assert [b._version for b in bn.buffers()] == [v + 1 for v in versions]
    y.sum().backward()
    np.testing.assert_array_equal(x.data, before)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 2)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_gradcheck(training, shape, affine):
    x = f64(*shape)
    w = f64(3, seed=1) if affine else None
    b = f64(3, seed=2) if affine else None
    rm = mt.tensor(np.random.default_rng(3).standard_normal(3), dtype=mt.float64)
    rv = mt.tensor(np.random.default_rng(4).uniform(0.5, 2, 3), dtype=mt.float64)

    def fn(x, w, b):
        # fresh copies: training updates the running statistics in place
        return batch_norm(x, rm.clone(), rv.clone(), w, b, training, 0.1, 1e-5)

    inputs = (x, w, b)
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


# ---------------------------------------------------------------------------------- layer norm


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda m: m.LayerNorm(6), (4, 6)),
        (lambda m: m.LayerNorm([3, 4]), (2, 5, 3, 4)),
        (lambda m: m.LayerNorm(6, elementwise_affine=False), (3, 6)),
        (lambda m: m.LayerNorm(6, bias=False, eps=1e-3), (2, 3, 6)),
        (lambda m: m.RMSNorm(6), (4, 6)),
        (lambda m: m.RMSNorm([3, 4], eps=1e-4), (2, 5, 3, 4)),
        (lambda m: m.RMSNorm(6, elementwise_affine=False), (3, 6)),
    ],
    ids=["ln", "ln_2d", "ln_no_affine", "ln_no_bias", "rms", "rms_2d", "rms_no_affine"],
)
def test_norm_layers_match_torch(torch, check_layer, make, shape):
    theirs = make(torch.nn)
    for p in theirs.parameters():  # non-trivial affine parameters
        with torch.no_grad():
            p.copy_(torch.from_numpy(randn(*p.shape, seed=9)))

    def build(m):
        return theirs if m is torch.nn else make(m)

    check_layer(build, randn(*shape) * 3 + 1, rtol=1e-5, atol=1e-5, grad_rtol=1e-4,
                grad_atol=1e-5)  # fmt: skip


def test_rms_norm_default_eps_is_dtype_eps(torch):
    x = np.full((2, 4), 1e-4, np.float32)  # tiny inputs make eps matter
    ours = nn.RMSNorm(4)(mt.tensor(x)).data
    theirs = torch.nn.RMSNorm(4)(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    x64 = np.full((2, 4), 1e-9)
    ours64 = nn.RMSNorm(4).double()(mt.tensor(x64, dtype=mt.float64)).data
    theirs64 = torch.nn.RMSNorm(4).double()(torch.tensor(x64)).detach().numpy()
    np.testing.assert_allclose(ours64, theirs64, rtol=1e-7)


def test_norm_shape_errors():
    with pytest.raises(RuntimeError, match=r"expected input with shape \[\*, 4\], but got input"):
        nn.LayerNorm(4)(mt.randn(3, 5))
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[4\]"):
        nn.RMSNorm(4)(mt.randn(3, 5))
    with pytest.raises(RuntimeError, match="Expected weight to be of same shape"):
        layer_norm(mt.randn(2, 3), (3,), mt.ones(4))


@pytest.mark.parametrize("norm_shape, shape", [((4,), (3, 4)), ((2, 3), (2, 2, 3))])
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_gradcheck(norm_shape, shape, affine):
    x = f64(*shape)
    w = f64(*norm_shape, seed=1) if affine else None
    b = f64(*norm_shape, seed=2) if affine else None
    fn = lambda x, w, b: layer_norm(x, norm_shape, w, b, 1e-5)  # noqa: E731
    assert gradcheck(fn, (x, w, b))
    assert gradgradcheck(fn, (x, w, b))


@pytest.mark.parametrize("norm_shape, shape", [((4,), (3, 4)), ((2, 3), (2, 2, 3))])
@pytest.mark.parametrize("affine", [True, False])
def test_rms_norm_gradcheck(norm_shape, shape, affine):
    x = f64(*shape)
    w = f64(*norm_shape, seed=1) if affine else None
    fn = lambda x, w: rms_norm(x, norm_shape, w, 1e-6)  # noqa: E731
    assert gradcheck(fn, (x, w))
    assert gradgradcheck(fn, (x, w))


def test_fused_norms_are_single_nodes():
    x = mt.randn(4, 3, requires_grad=True)
    assert type(layer_norm(x, (3,)).grad_fn).__name__ == "LayerNorm"
    assert type(rms_norm(x, (3,)).grad_fn).__name__ == "RMSNorm"
    assert type(nn.BatchNorm1d(3)(x).grad_fn).__name__ == "BatchNorm"


def test_norm_modules_default_parameters():
    ln, rms, bn = nn.LayerNorm(5), nn.RMSNorm(5), nn.BatchNorm1d(5)
    for p in (ln.weight, rms.weight, bn.weight):
        assert p.tolist() == [1.0] * 5
    for p in (ln.bias, bn.bias):
        assert p.tolist() == [0.0] * 5
    assert bn.running_var.tolist() == [1.0] * 5 and bn.running_mean.tolist() == [0.0] * 5
    bn(mt.randn(4, 5))
    bn.reset_running_stats()
    assert bn.num_batches_tracked.item() == 0 and bn.running_var.tolist() == [1.0] * 5


def test_batchnorm_layer_survives_an_empty_batch():
    bn = nn.BatchNorm1d(3)
    bn(mt.randn(4, 3))
    stats = bn.running_mean.data.copy(), bn.running_var.data.copy()
    bn(mt.zeros(0, 3))  # e.g. the last, empty batch of a filtered data set
    np.testing.assert_array_equal(bn.running_mean.data, stats[0])
    np.testing.assert_array_equal(bn.running_var.data, stats[1])
    assert bn.num_batches_tracked.item() == 2  # counted, as PyTorch does
    bn.eval()
    assert np.isfinite(bn(mt.randn(5, 3)).data).all()
