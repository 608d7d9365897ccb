"""Pooling and resampling layers against PyTorch: MaxPool/AvgPool and adaptive pooling 1d and 2d,
Upsample, PixelShuffle/PixelUnshuffle and ChannelShuffle (outputs, input gradients, reprs)."""

from __future__ import annotations

import numpy as np
import pytest

import mytorch.core as mt
import mytorch.nn as nn

TOL = dict(rtol=1e-4, atol=1e-5)


def randn(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# ---------------------------------------------------------------------------------- max pooling

MAXPOOL2D_CONFIGS = {
    "k2": dict(kernel_size=2),
    "k3_s2": dict(kernel_size=3, stride=2),
    "k3_s2_p1": dict(kernel_size=3, stride=2, padding=1),
    "rect_dilated": dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1), dilation=(2, 1)),
    "ceil": dict(kernel_size=3, stride=2, ceil_mode=True),
    "ceil_padded": dict(kernel_size=2, padding=1, ceil_mode=True),
    "overlapping_s1": dict(kernel_size=3, stride=1),
}


@pytest.mark.parametrize("config", list(MAXPOOL2D_CONFIGS))
def test_maxpool2d_matches_torch(check_layer, config):
    kwargs = MAXPOOL2D_CONFIGS[config]
    check_layer(lambda m: m.MaxPool2d(**kwargs), randn(2, 3, 9, 11), **TOL)


MAXPOOL1D_CONFIGS = {
    "k2": dict(kernel_size=2),
    "k3_s2_p1": dict(kernel_size=3, stride=2, padding=1),
    "dilated_ceil": dict(kernel_size=2, stride=3, dilation=2, ceil_mode=True),
}


@pytest.mark.parametrize("config", list(MAXPOOL1D_CONFIGS))
def test_maxpool1d_matches_torch(check_layer, config):
    kwargs = MAXPOOL1D_CONFIGS[config]
    check_layer(lambda m: m.MaxPool1d(**kwargs), randn(2, 3, 13), **TOL)


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda m: m.MaxPool2d(3, 2, 1, return_indices=True), (2, 3, 9, 8)),
        (lambda m: m.MaxPool1d(3, 2, return_indices=True), (2, 3, 12)),
        (lambda m: m.AdaptiveMaxPool2d((3, 4), return_indices=True), (2, 3, 9, 10)),
        (lambda m: m.AdaptiveMaxPool1d(5, return_indices=True), (2, 3, 12)),
    ],
    ids=["maxpool2d", "maxpool1d", "adaptive_max2d", "adaptive_max1d"],
)
def test_return_indices_matches_torch(torch, make, shape):
    x = randn(*shape)
    mx, tx = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (my, mi), (ty, ti) = make(nn)(mx), make(torch.nn)(tx)
    np.testing.assert_allclose(my.data, ty.detach().numpy(), **TOL)
    assert mi.dtype == mt.int64
    np.testing.assert_array_equal(mi.data, ti.numpy())
    assert not mi.requires_grad
    v = randn(*ty.shape, seed=1)
    (my * mt.tensor(v)).sum().backward()
    (ty * torch.from_numpy(v)).sum().backward()
    np.testing.assert_allclose(mx.grad.data, tx.grad.numpy(), **TOL)


# ---------------------------------------------------------------------------------- average pooling

AVGPOOL2D_CONFIGS = {
    "k2": dict(kernel_size=2),
    "k3_s2_p1": dict(kernel_size=3, stride=2, padding=1),
    "exclude_pad": dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    "ceil_padded": dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    "ceil_exclude_pad": dict(kernel_size=2, padding=1, ceil_mode=True, count_include_pad=False),
    "divisor_override": dict(kernel_size=3, stride=2, divisor_override=4),
    "rect": dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 0)),
}


@pytest.mark.parametrize("config", list(AVGPOOL2D_CONFIGS))
def test_avgpool2d_matches_torch(check_layer, config):
    kwargs = AVGPOOL2D_CONFIGS[config]
    check_layer(lambda m: m.AvgPool2d(**kwargs), randn(2, 3, 9, 11), **TOL)


AVGPOOL1D_CONFIGS = {
    "k2": dict(kernel_size=2),
    "k3_s2_p1": dict(kernel_size=3, stride=2, padding=1),
    "exclude_pad_ceil": dict(kernel_size=4, stride=3, padding=2, count_include_pad=False,
                             ceil_mode=True),
}  # fmt: skip


@pytest.mark.parametrize("config", list(AVGPOOL1D_CONFIGS))
def test_avgpool1d_matches_torch(check_layer, config):
    kwargs = AVGPOOL1D_CONFIGS[config]
    check_layer(lambda m: m.AvgPool1d(**kwargs), randn(2, 3, 13), **TOL)


# ---------------------------------------------------------------------------------- adaptive pooling

ADAPTIVE_SIZES = [1, (3, 4), (None, 2), 5, (9, 11), (2, None)]


@pytest.mark.parametrize("output_size", ADAPTIVE_SIZES, ids=str)
@pytest.mark.parametrize("layer", ["AdaptiveAvgPool2d", "AdaptiveMaxPool2d"])
def test_adaptive_pool2d_matches_torch(check_layer, layer, output_size):
    check_layer(lambda m: getattr(m, layer)(output_size), randn(2, 3, 9, 11), **TOL)


@pytest.mark.parametrize("output_size", [1, 4, 6, 13])
@pytest.mark.parametrize("layer", ["AdaptiveAvgPool1d", "AdaptiveMaxPool1d"])
def test_adaptive_pool1d_matches_torch(check_layer, layer, output_size):
    check_layer(lambda m: getattr(m, layer)(output_size), randn(2, 3, 13), **TOL)


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.MaxPool2d(2),
        lambda m: m.AvgPool2d(3, 2, 1),
        lambda m: m.AdaptiveAvgPool2d((2, 3)),
        lambda m: m.AdaptiveMaxPool2d(2),
    ],
    ids=["max", "avg", "adaptive_avg", "adaptive_max"],
)
def test_pool2d_unbatched_input(check_layer, make):
    check_layer(make, randn(3, 8, 7), **TOL)


def test_pool1d_unbatched_input(check_layer):
    check_layer(lambda m: m.MaxPool1d(3, 2), randn(3, 11), **TOL)
    check_layer(lambda m: m.AvgPool1d(3, 2, 1), randn(3, 11), **TOL)


# ---------------------------------------------------------------------------------- resampling

UPSAMPLE_CASES = {
    "nearest_x2": (lambda m: m.Upsample(scale_factor=2), (2, 3, 4, 5)),
    "nearest_size": (lambda m: m.Upsample(size=(7, 9)), (2, 3, 4, 5)),
    "nearest_tuple_scale": (lambda m: m.Upsample(scale_factor=(2, 3)), (1, 2, 3, 4)),
    "bilinear": (lambda m: m.Upsample(scale_factor=2, mode="bilinear"), (2, 3, 4, 5)),
    "bilinear_align": (
        lambda m: m.Upsample(size=(6, 7), mode="bilinear", align_corners=True),
        (2, 3, 4, 5),
    ),
    "bilinear_down": (lambda m: m.Upsample(size=(3, 2), mode="bilinear"), (1, 2, 7, 6)),
    "linear_1d": (lambda m: m.Upsample(scale_factor=3, mode="linear"), (2, 3, 5)),
    "nearest_1d": (lambda m: m.Upsample(size=8), (2, 3, 5)),
    "upsampling_nearest2d": (lambda m: m.UpsamplingNearest2d(scale_factor=2), (1, 2, 3, 4)),
    "upsampling_bilinear2d": (lambda m: m.UpsamplingBilinear2d(size=(5, 8)), (1, 2, 3, 4)),
}


@pytest.mark.parametrize("case", list(UPSAMPLE_CASES))
def test_upsample_matches_torch(check_layer, case):
    make, shape = UPSAMPLE_CASES[case]
    check_layer(make, randn(*shape), **TOL)


@pytest.mark.parametrize("factor, shape", [(2, (2, 8, 3, 4)), (3, (1, 18, 2, 3)), (2, (4, 3, 5))])
def test_pixel_shuffle_matches_torch(check_layer, factor, shape):
    check_layer(lambda m: m.PixelShuffle(factor), randn(*shape), **TOL)


@pytest.mark.parametrize("factor, shape", [(2, (2, 2, 6, 8)), (3, (1, 3, 6, 9)), (2, (2, 4, 6))])
def test_pixel_unshuffle_matches_torch(check_layer, factor, shape):
    check_layer(lambda m: m.PixelUnshuffle(factor), randn(*shape), **TOL)


def test_pixel_shuffle_round_trip():
    x = mt.randn(2, 12, 3, 4)
    y = nn.PixelUnshuffle(2)(nn.PixelShuffle(2)(x))
    np.testing.assert_array_equal(y.data, x.data)


@pytest.mark.parametrize("groups, shape", [(2, (2, 4, 3, 3)), (3, (2, 6, 4, 5)), (2, (3, 6, 7))])
def test_channel_shuffle_matches_torch(check_layer, groups, shape):
    check_layer(lambda m: m.ChannelShuffle(groups), randn(*shape), **TOL)


def test_channel_shuffle_moves_channels():
    x = mt.arange(6.0).reshape(1, 6, 1, 1)
    assert nn.ChannelShuffle(2)(x).flatten().tolist() == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]


# ---------------------------------------------------------------------------------- repr

REPRS = [
    lambda m: m.MaxPool2d(2),
    lambda m: m.MaxPool2d((3, 2), stride=(2, 1), padding=1, dilation=2, ceil_mode=True),
    lambda m: m.MaxPool1d(3, 2),
    lambda m: m.AvgPool2d(2),
    lambda m: m.AvgPool2d((3, 2), stride=1, padding=(1, 0), count_include_pad=False),
    lambda m: m.AvgPool1d(3),
    lambda m: m.AvgPool1d(4, 2, 1, ceil_mode=True),
    lambda m: m.AdaptiveAvgPool2d((1, None)),
    lambda m: m.AdaptiveAvgPool2d(7),
    lambda m: m.AdaptiveMaxPool2d(3, return_indices=True),
    lambda m: m.AdaptiveAvgPool1d(4),
    lambda m: m.AdaptiveMaxPool1d(2),
    lambda m: m.Upsample(scale_factor=2),
    lambda m: m.Upsample(size=(4, 5), mode="bilinear", align_corners=True),
    lambda m: m.Upsample(scale_factor=(2, 3), mode="nearest"),
    lambda m: m.UpsamplingNearest2d(size=4),
    lambda m: m.UpsamplingBilinear2d(scale_factor=2),
    lambda m: m.PixelShuffle(2),
    lambda m: m.PixelUnshuffle(3),
    lambda m: m.ChannelShuffle(4),
]


@pytest.mark.parametrize("make", REPRS)
def test_repr_matches_torch(torch, make):
    assert repr(make(nn)) == repr(make(torch.nn))


def test_repr_examples():
    assert repr(nn.MaxPool2d(kernel_size=2, stride=2)) == (
        "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    )
    assert repr(nn.AvgPool1d(3)) == "AvgPool1d(kernel_size=(3,), stride=(3,), padding=(0,))"


def test_pooling_layers_have_no_state():
    for layer in (nn.MaxPool2d(2), nn.AvgPool2d(2), nn.AdaptiveAvgPool2d(1), nn.Upsample(size=3)):
        assert layer.state_dict() == {} or len(layer.state_dict()) == 0
        assert list(layer.parameters()) == []
