"""Conv1d, Conv2d, ConvTranspose1d and ConvTranspose2d against PyTorch: outputs, input and parameter gradients,
state_dict keys, default initialization, reprs and argument errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mytorch.core as mt
import mytorch.nn as nn

TOL = dict(rtol=1e-4, atol=1e-5)
# torch's own note on padding='same' with even kernels (it pads a copy, as we do)
SAME_EVEN = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")


def randn(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# ---------------------------------------------------------------------------------- Conv2d

CONV2D_CONFIGS = {
    "default": dict(kernel_size=3),
    "rect_kernel_stride_padding": dict(kernel_size=(3, 5), stride=(2, 1), padding=(1, 2)),
    "stride2_pad1_no_bias": dict(kernel_size=3, stride=2, padding=1, bias=False),
    "stride3_uneven": dict(kernel_size=4, stride=3),
    "pointwise_stride2": dict(kernel_size=1, stride=2),
    "same": dict(kernel_size=3, padding="same"),
    "same_even_kernel_dilated": dict(kernel_size=4, padding="same", dilation=2),
    "same_rect_even": dict(kernel_size=(2, 3), padding="same"),
    "valid": dict(kernel_size=3, padding="valid"),
    "dilation": dict(kernel_size=3, dilation=(2, 1), padding=2),
    "groups2": dict(kernel_size=3, padding=1, groups=2),
    "reflect": dict(kernel_size=3, padding=2, padding_mode="reflect"),
    "replicate": dict(kernel_size=(3, 2), padding=(1, 2), padding_mode="replicate"),
    "circular_stride2": dict(kernel_size=3, padding=1, stride=2, padding_mode="circular"),
    "reflect_same": dict(kernel_size=4, padding="same", padding_mode="reflect"),
}


@SAME_EVEN
@pytest.mark.parametrize("config", list(CONV2D_CONFIGS))
def test_conv2d_matches_torch(check_layer, config):
    kwargs = CONV2D_CONFIGS[config]
    check_layer(lambda m: m.Conv2d(4, 6, **kwargs), randn(2, 4, 9, 10), **TOL)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("multiplier", [1, 2])
def test_conv2d_depthwise_matches_torch(check_layer, bias, multiplier):
    make = lambda m: m.Conv2d(4, 4 * multiplier, 3, padding=1, groups=4, bias=bias)  # noqa: E731
    check_layer(make, randn(3, 4, 7, 6), **TOL)


def test_conv2d_unbatched_input(check_layer):
    ours, _ = check_layer(lambda m: m.Conv2d(3, 5, 3, padding=1), randn(3, 6, 7), **TOL)
    assert ours.weight.grad is not None


# ---------------------------------------------------------------------------------- Conv1d

CONV1D_CONFIGS = {
    "default": dict(kernel_size=3),
    "stride2_pad2": dict(kernel_size=5, stride=2, padding=2),
    "no_bias_dilation": dict(kernel_size=3, dilation=3, bias=False),
    "same": dict(kernel_size=4, padding="same"),
    "valid": dict(kernel_size=2, padding="valid"),
    "groups3": dict(kernel_size=3, groups=3, padding=1),
    "reflect": dict(kernel_size=3, padding=1, padding_mode="reflect"),
    "circular": dict(kernel_size=3, padding=2, padding_mode="circular"),
    "replicate_same": dict(kernel_size=5, padding="same", padding_mode="replicate"),
}


@SAME_EVEN
@pytest.mark.parametrize("config", list(CONV1D_CONFIGS))
def test_conv1d_matches_torch(check_layer, config):
    kwargs = CONV1D_CONFIGS[config]
    check_layer(lambda m: m.Conv1d(3, 6, **kwargs), randn(2, 3, 17), **TOL)


def test_conv1d_unbatched_input(check_layer):
    check_layer(lambda m: m.Conv1d(3, 2, 3), randn(3, 11), **TOL)


# ---------------------------------------------------------------------------------- ConvTranspose2d

CONVT_CONFIGS = {
    "default": dict(kernel_size=3),
    "stride2_pad1_outpad1": dict(kernel_size=3, stride=2, padding=1, output_padding=1),
    "rect": dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 0), output_padding=(1, 2)),
    "groups2_no_bias": dict(kernel_size=3, stride=2, groups=2, bias=False),
    "dilation": dict(kernel_size=3, dilation=2, padding=1),
    "dilation_outpad": dict(kernel_size=2, stride=2, dilation=3, output_padding=2),
    "kernel_eq_stride": dict(kernel_size=2, stride=2),
}


@pytest.mark.parametrize("config", list(CONVT_CONFIGS))
def test_conv_transpose2d_matches_torch(check_layer, config):
    kwargs = CONVT_CONFIGS[config]
    check_layer(lambda m: m.ConvTranspose2d(4, 6, **kwargs), randn(2, 4, 5, 6), **TOL)


def test_conv_transpose2d_depthwise_and_unbatched(check_layer):
    check_layer(lambda m: m.ConvTranspose2d(4, 8, 3, stride=2, groups=4), randn(2, 4, 5, 5), **TOL)
    check_layer(lambda m: m.ConvTranspose2d(4, 3, 3, stride=2), randn(4, 5, 5), **TOL)


@pytest.mark.parametrize("output_size", [(9, 9), (10, 10), (10, 9), [1, 6, 10, 10]])
def test_conv_transpose2d_output_size(torch, output_size):
    theirs = torch.nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1)
    ours = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1)
    ours.load_state_dict(theirs.state_dict())
    x = randn(1, 4, 5, 5)
    mx, tx = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    my, ty = ours(mx, output_size=output_size), theirs(tx, output_size=output_size)
    assert my.shape == tuple(ty.shape) == (1, 6, *tuple(output_size)[-2:])
    np.testing.assert_allclose(my.data, ty.detach().numpy(), **TOL)
    my.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(mx.grad.data, tx.grad.numpy(), **TOL)


def test_conv_transpose2d_output_size_errors():
    layer = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1)
    x = mt.randn(1, 4, 5, 5)
    with pytest.raises(ValueError, match=r"requested an output size of \[11, 9\], but valid"):
        layer(x, output_size=(11, 9))
    with pytest.raises(ValueError, match="output_size must have 2 or 4 elements \\(got 3\\)"):
        layer(x, output_size=(6, 10, 10))


# ---------------------------------------------------------------------------------- ConvTranspose1d

CONVT1D_CONFIGS = {
    "default": dict(kernel_size=3),
    "stride2_pad1_outpad1": dict(kernel_size=4, stride=2, padding=1, output_padding=1),
    "groups3_dilation_no_bias": dict(kernel_size=3, groups=3, dilation=2, bias=False),
}


@pytest.mark.parametrize("config", list(CONVT1D_CONFIGS))
def test_conv_transpose1d_matches_torch(check_layer, config):
    kwargs = CONVT1D_CONFIGS[config]
    check_layer(lambda m: m.ConvTranspose1d(3, 6, **kwargs), randn(2, 3, 9), **TOL)


def test_conv_transpose1d_output_size(check_layer, torch):
    theirs = torch.nn.ConvTranspose1d(3, 2, 3, stride=3)
    ours = nn.ConvTranspose1d(3, 2, 3, stride=3)
    ours.load_state_dict(theirs.state_dict())
    x = randn(2, 3, 4)
    my, ty = ours(mt.tensor(x), output_size=[14]), theirs(torch.tensor(x), output_size=[14])
    assert my.shape == tuple(ty.shape) == (2, 2, 14)
    np.testing.assert_allclose(my.data, ty.detach().numpy(), **TOL)


# ---------------------------------------------------------------------------------- a small CNN


def test_small_cnn_matches_torch(check_layer):
    def make(m):
        return m.Sequential(
            m.Conv2d(1, 8, 3, padding=1),
            m.BatchNorm2d(8),
            m.ReLU(),
            m.MaxPool2d(2),
            m.Conv2d(8, 8, 3, groups=2, bias=False),
            m.AdaptiveAvgPool2d(1),
            m.Flatten(),
            m.Linear(8, 3),
        )

    check_layer(make, randn(4, 1, 10, 10), **TOL)


# ---------------------------------------------------------------------------------- state, init, repr

LAYERS = {
    "conv1d": lambda m: m.Conv1d(3, 5, 4),
    "conv1d_no_bias": lambda m: m.Conv1d(3, 5, 4, bias=False),
    "conv2d": lambda m: m.Conv2d(4, 6, (3, 2), groups=2),
    "conv2d_no_bias": lambda m: m.Conv2d(4, 6, 3, bias=False),
    "convt2d": lambda m: m.ConvTranspose2d(4, 6, 3, groups=2),
    "convt2d_no_bias": lambda m: m.ConvTranspose2d(4, 6, 3, bias=False),
    "convt1d": lambda m: m.ConvTranspose1d(4, 6, 3, groups=2),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_state_dict_keys_and_shapes_match_torch(torch, name):
    ours, theirs = LAYERS[name](nn), LAYERS[name](torch.nn)
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    assert list(ours_sd) == list(theirs_sd)
    for key, value in theirs_sd.items():
        assert ours_sd[key].shape == tuple(value.shape), key
        assert ours_sd[key].dtype == value.numpy().dtype, key


@pytest.mark.parametrize(
    "make, fan_in",
    [
        (lambda m: m.Conv2d(16, 32, 5, groups=2), 8 * 5 * 5),
        (lambda m: m.Conv2d(8, 64, (3, 2), groups=8), 1 * 3 * 2),
        (lambda m: m.Conv1d(12, 64, 7), 12 * 7),
        (lambda m: m.ConvTranspose2d(16, 32, 3, groups=4), 8 * 3 * 3),  # weight (16, 8, 3, 3)
        (lambda m: m.ConvTranspose2d(64, 8, 2), 8 * 2 * 2),
        (lambda m: m.ConvTranspose1d(8, 48, 5, groups=2), 24 * 5),  # weight (8, 24, 5)
    ],
    ids=["conv2d_groups", "depthwise", "conv1d", "convt2d_groups", "convt2d", "convt1d"],
)
def test_default_init_follows_torch_formula(torch, make, fan_in):
    """weight: kaiming_uniform_(a=sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)); bias the same."""
    mt.manual_seed(0)
    torch.manual_seed(0)
    ours, theirs = make(nn), make(torch.nn)
    gain = math.sqrt(2.0 / (1 + 5))  # leaky_relu gain with a = sqrt(5)
    bound = gain * math.sqrt(3.0 / fan_in)
    assert bound == pytest.approx(1 / math.sqrt(fan_in))
    for name in ("weight", "bias"):
        ours_p = ours.get_parameter(name).data
        theirs_p = theirs.get_parameter(name).detach().numpy()
        assert ours_p.shape == theirs_p.shape
        assert ours_p.dtype == np.float32
        for values in (ours_p, theirs_p):  # our formula is torch's formula
            assert np.abs(values).max() <= bound * (1 + 1e-6)
            if values.size >= 30:  # the bound is reached, not just respected
                assert np.abs(values).max() > 0.8 * bound
        if ours_p.size >= 500:  # the spread of U(-b, b): std b / sqrt(3), mean 0
            assert ours_p.std() == pytest.approx(bound / math.sqrt(3), rel=0.08)
            assert abs(ours_p.mean()) < 0.1 * bound


def test_reset_parameters_redraws():
    conv = nn.Conv2d(3, 4, 3)
    before = conv.weight.data.copy()
    conv.reset_parameters()
    assert not np.array_equal(conv.weight.data, before)


REPRS = [
    lambda m: m.Conv2d(1, 32, 3),
    lambda m: m.Conv2d(16, 33, (3, 5), stride=(2, 1), padding=(4, 2), dilation=(3, 1)),
    lambda m: m.Conv2d(4, 8, 3, padding="same", groups=4, bias=False, padding_mode="reflect"),
    lambda m: m.Conv2d(4, 8, 3, padding="valid", padding_mode="circular"),
    lambda m: m.Conv1d(16, 33, 3, stride=2, padding=1, dilation=2, padding_mode="replicate"),
    lambda m: m.Conv1d(2, 4, 5),
    lambda m: m.ConvTranspose2d(4, 8, 3, stride=2, output_padding=1),
    lambda m: m.ConvTranspose2d(4, 8, (3, 2), padding=1, groups=2, bias=False, dilation=2),
    lambda m: m.ConvTranspose1d(4, 8, 3, stride=2, padding=1, output_padding=1),
]


@pytest.mark.parametrize("make", REPRS)
def test_repr_matches_torch(torch, make):
    assert repr(make(nn)) == repr(make(torch.nn))


def test_conv_repr_examples():
    assert repr(nn.Conv2d(1, 32, 3)) == "Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1))"
    assert repr(nn.Conv2d(1, 2, 3, padding="same")) == (
        "Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1), padding=same)"
    )


def test_argument_errors():
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        nn.Conv2d(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match="groups must be a positive integer"):
        nn.Conv1d(4, 4, 3, groups=0)
    with pytest.raises(ValueError, match="Invalid padding string 'full'"):
        nn.Conv2d(4, 4, 3, padding="full")
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv2d(4, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode must be one of .* padding_mode='zero'"):
        nn.Conv1d(4, 4, 3, padding_mode="zero")
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported for ConvT'):
        nn.ConvTranspose2d(4, 4, 3, padding_mode="reflect")
