"""interpolate (every mode, sizes and scale factors, align_corners), pixel_shuffle,
pixel_unshuffle and channel_shuffle against PyTorch and finite differences."""

import numpy as np
import pytest

import mytorch.core as mt
import mytorch.core.functional as F
from mytorch.core.testing import assert_matches_torch, gradcheck, gradgradcheck

TOL = dict(rtol=1e-4, atol=1e-5)


def randn(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def f64(*shape: int, seed: int = 0) -> mt.Tensor:
    data = np.random.default_rng(seed).standard_normal(shape)
    return mt.tensor(data, dtype=mt.float64, requires_grad=True)


def _parity(torch, x: np.ndarray, **kwargs) -> None:
    assert_matches_torch(
        lambda t: F.interpolate(t, **kwargs),
        x,
        torch_fn=lambda t: torch.nn.functional.interpolate(t, **kwargs),
        **TOL,
    )


RESIZE_2D = [
    dict(size=(5, 9)),
    dict(size=(14, 12)),
    dict(size=7),
    dict(size=(7, 6)),  # same size
    dict(size=(1, 1)),
    dict(size=(3, 2)),
    dict(scale_factor=2),
    dict(scale_factor=3.0),
    dict(scale_factor=(1.7, 0.6)),
    dict(scale_factor=0.5),
    dict(scale_factor=2.1),
    dict(scale_factor=1.1),  # output size equals input size, scale not 1
    dict(scale_factor=1.3, recompute_scale_factor=True),
    dict(scale_factor=(2.5, 1.5), recompute_scale_factor=False),
]
ALIGN_MODES = [
    ("nearest", None),
    ("nearest-exact", None),
    ("area", None),
    ("bilinear", False),
    ("bilinear", True),
    ("bicubic", False),
    ("bicubic", True),
]


@pytest.mark.parametrize("kwargs", RESIZE_2D, ids=str)
@pytest.mark.parametrize(("mode", "align_corners"), ALIGN_MODES, ids=str)
def test_interpolate_2d_matches_torch(torch, mode, align_corners, kwargs):
    x = randn(2, 3, 7, 6)
    if mode == "bicubic" and align_corners is False and kwargs == dict(scale_factor=1.1):
        # PyTorch's bicubic backward copies the gradient when the size is unchanged, ignoring
        # the scale its forward uses (its own gradcheck fails): compare outputs, check
        # our gradient by finite differences
        assert_matches_torch(
            lambda t: F.interpolate(t, mode=mode, **kwargs),
            x,
            torch_fn=lambda t: torch.nn.functional.interpolate(t, mode=mode, **kwargs),
            grad=False,
            **TOL,
        )
        assert gradcheck(lambda t: F.interpolate(t, mode=mode, **kwargs), (f64(1, 1, 3, 4),))
        return
    _parity(torch, x, mode=mode, align_corners=align_corners, **kwargs)


RESIZE_1D = [
    dict(size=4),
    dict(size=13),
    dict(size=1),
    dict(scale_factor=2),
    dict(scale_factor=0.7),
    dict(scale_factor=1.5, recompute_scale_factor=True),
]


@pytest.mark.parametrize("kwargs", RESIZE_1D, ids=str)
@pytest.mark.parametrize(
    ("mode", "align_corners"),
    [
        ("nearest", None),
        ("nearest-exact", None),
        ("area", None),
        ("linear", False),
        ("linear", True),
    ],
    ids=str,
)
def test_interpolate_1d_matches_torch(torch, mode, align_corners, kwargs):
    _parity(torch, randn(2, 3, 7), mode=mode, align_corners=align_corners, **kwargs)


@pytest.mark.parametrize(
    "kwargs", [dict(size=(3, 5, 4)), dict(scale_factor=(2, 0.5, 1.5))], ids=str
)
@pytest.mark.parametrize(
    ("mode", "align_corners"),
    [
        ("nearest", None),
        ("nearest-exact", None),
        ("area", None),
        ("trilinear", False),
        ("trilinear", True),
    ],
    ids=str,
)
def test_interpolate_3d_matches_torch(torch, mode, align_corners, kwargs):
    _parity(torch, randn(2, 2, 4, 3, 5), mode=mode, align_corners=align_corners, **kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(scale_factor=2, mode="bilinear"),
        dict(scale_factor=1.5, mode="bilinear", align_corners=True),
        dict(size=(3, 517), mode="bilinear"),
        dict(scale_factor=(1, 0.37), mode="bilinear"),
        dict(scale_factor=3, mode="nearest"),
        dict(scale_factor=(1, 1.7), mode="nearest"),
        dict(size=(2, 90), mode="nearest"),
        dict(scale_factor=(1, 1.3), mode="nearest-exact"),
        dict(scale_factor=2, mode="bicubic"),
        dict(size=(4, 50), mode="area"),
    ],
    ids=str,
)
def test_interpolate_long_axis_matches_torch(torch, kwargs):
    # an axis of 300: the gather/scatter path rather than the dense resampling matrix
    _parity(torch, randn(1, 2, 3, 300, seed=4), **kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(size=(5, 7), mode="nearest"),
        dict(size=(2, 3), mode="nearest-exact"),
        dict(scale_factor=2, mode="bilinear"),
        dict(size=(2, 5), mode="bilinear", align_corners=True),
        dict(size=(5, 3), mode="bicubic"),
        dict(size=(2, 3), mode="area"),
    ],
    ids=str,
)
def test_interpolate_gradcheck(kwargs):
    x = f64(1, 2, 3, 4)
    assert gradcheck(lambda t: F.interpolate(t, **kwargs), (x,))
    assert gradgradcheck(lambda t: F.interpolate(t, **kwargs), (x,))


def test_interpolate_long_axis_gradcheck():
    x = f64(1, 1, 1, 200)
    for kwargs in (
        dict(size=(1, 333), mode="nearest"),
        dict(size=(1, 450), mode="bilinear"),
        dict(size=(1, 77), mode="bilinear", align_corners=True),
    ):
        assert gradcheck(lambda t, kw=kwargs: F.interpolate(t, **kw), (x,), random_directions=6)
        assert gradgradcheck(lambda t, kw=kwargs: F.interpolate(t, **kw), (x,), random_directions=4)


@pytest.mark.filterwarnings("ignore:`nn.functional.upsample")
def test_upsample_aliases_match_torch(torch):
    x = randn(1, 2, 3, 4)
    TF = torch.nn.functional
    for ours, theirs, kwargs in (
        (F.upsample, TF.upsample, dict(scale_factor=2, mode="bilinear")),
        (F.upsample_nearest, TF.upsample_nearest, dict(size=(5, 7))),
        (F.upsample_bilinear, TF.upsample_bilinear, dict(scale_factor=1.5)),
    ):
        assert_matches_torch(
            lambda t, f=ours, kw=kwargs: f(t, **kw),
            x,
            torch_fn=lambda t, f=theirs, kw=kwargs: f(t, **kw),
            **TOL,
        )
        with pytest.warns(UserWarning, match="is deprecated. Use `nn.functional.interpolate`"):
            ours(mt.tensor(x), **kwargs)


def test_interpolate_same_size_returns_a_new_tensor():
    x = mt.randn(1, 1, 3, 3, requires_grad=True)
    y = F.interpolate(x, size=(3, 3))
    assert y is not x and y.requires_grad
    np.testing.assert_array_equal(y.detach().numpy(), x.detach().numpy())


def test_interpolate_nearest_keeps_integer_dtype():
    x = mt.arange(6).reshape(1, 1, 2, 3)
    y = F.interpolate(x, scale_factor=2)
    assert y.dtype == np.int64
    assert y.tolist()[0][0][0] == [0, 0, 1, 1, 2, 2]


x4 = mt.randn(1, 2, 5, 5)
ERRORS = [
    (ValueError, "either size or scale_factor", lambda: F.interpolate(x4)),
    (
        ValueError,
        "only one of size or scale_factor",
        lambda: F.interpolate(x4, size=3, scale_factor=2),
    ),
    (ValueError, "output size of", lambda: F.interpolate(x4, size=(3, 4, 5))),
    (ValueError, "scale_factor of shape", lambda: F.interpolate(x4, scale_factor=(2, 3, 4))),
    (
        ValueError,
        "align_corners option can only be set",
        lambda: F.interpolate(x4, size=3, align_corners=True),
    ),
    (
        NotImplementedError,
        "Got 4D input, but linear mode needs 3D input",
        lambda: F.interpolate(x4, size=3, mode="linear"),
    ),
    (
        NotImplementedError,
        "Got 3D input, but bilinear mode needs 4D input",
        lambda: F.interpolate(x4[0], size=3, mode="bilinear"),
    ),
    (NotImplementedError, r"\(got foo\)", lambda: F.interpolate(x4, size=3, mode="foo")),
    (NotImplementedError, r"\(got 2D\)", lambda: F.interpolate(x4[0, 0], size=3)),
    (RuntimeError, "sizes should be greater than 0", lambda: F.interpolate(x4, size=0)),
    (RuntimeError, "sizes should be greater than 0", lambda: F.interpolate(x4, scale_factor=0.1)),
    (
        ValueError,
        "not meaningful with an explicit size",
        lambda: F.interpolate(x4, size=3, recompute_scale_factor=True),
    ),
    (TypeError, "expected size to be one of int", lambda: F.interpolate(x4, size=(2.5, 3))),
    (
        ValueError,
        "Anti-alias option is restricted",
        lambda: F.interpolate(x4, size=3, antialias=True),
    ),
]


@pytest.mark.parametrize(("error", "match", "fn"), ERRORS, ids=[m for _, m, _ in ERRORS])
def test_interpolate_errors(error, match, fn):
    with pytest.raises(error, match=match):
        fn()


# ----------------------------------------------------------------------------------------------
# pixel and channel shuffles
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "r"),
    [
        ((1, 4, 2, 3), 2),
        ((2, 18, 3, 2), 3),
        ((8, 2, 2), 2),
        ((2, 3, 4, 1, 2), 2),
        ((1, 5, 2, 2), 1),
    ],
    ids=str,
)
def test_pixel_shuffle_matches_torch(torch, shape, r):
    x = randn(*shape)
    TF = torch.nn.functional
    assert_matches_torch(
        lambda t: F.pixel_shuffle(t, r), x, torch_fn=lambda t: TF.pixel_shuffle(t, r)
    )
    y = F.pixel_shuffle(mt.tensor(x), r)
    assert_matches_torch(
        lambda t: F.pixel_unshuffle(t, r), y.numpy(), torch_fn=lambda t: TF.pixel_unshuffle(t, r)
    )
    np.testing.assert_array_equal(F.pixel_unshuffle(y, r).numpy(), x)  # exact inverse


@pytest.mark.parametrize(
    ("shape", "groups"),
    [((1, 6, 2, 2), 2), ((2, 6, 3), 3), ((2, 4, 1, 2, 2), 4), ((3, 5, 2), 1), ((1, 6, 2), 6)],
    ids=str,
)
def test_channel_shuffle_matches_torch(torch, shape, groups):
    x = randn(*shape)
    assert_matches_torch(
        lambda t: F.channel_shuffle(t, groups),
        x,
        torch_fn=lambda t: torch.nn.functional.channel_shuffle(t, groups),
    )


def test_shuffles_gradgradcheck():
    x = f64(1, 8, 2, 3)
    assert gradgradcheck(lambda t: F.pixel_shuffle(t, 2), (x,))
    assert gradgradcheck(lambda t: F.pixel_unshuffle(t, 2) * 1.5, (f64(1, 2, 4, 6),))
    assert gradgradcheck(lambda t: F.channel_shuffle(t, 4) * t, (x,))


SHUFFLE_ERRORS = [
    (
        "divisible by the square of upscale_factor, but input.size(-3)=5 is not divisible by 4",
        lambda: F.pixel_shuffle(mt.randn(1, 5, 2, 2), 2),
    ),
    ("at least 3 dimensions", lambda: F.pixel_shuffle(mt.randn(5, 2), 2)),
    ("positive upscale_factor", lambda: F.pixel_shuffle(mt.randn(8, 2, 2), 0)),
    (
        "height to be divisible by downscale_factor",
        lambda: F.pixel_unshuffle(mt.randn(1, 1, 3, 4), 2),
    ),
    (
        "width to be divisible by downscale_factor",
        lambda: F.pixel_unshuffle(mt.randn(1, 1, 4, 3), 2),
    ),
    ("positive downscale_factor", lambda: F.pixel_unshuffle(mt.randn(8, 2, 2), 0)),
    ("Got 6 channels and 4 groups", lambda: F.channel_shuffle(mt.randn(1, 6, 2, 2), 4)),
    ("must be positive", lambda: F.channel_shuffle(mt.randn(1, 6, 2, 2), 0)),
    ("expects input with > 2 dims", lambda: F.channel_shuffle(mt.randn(1, 6), 3)),
]


@pytest.mark.parametrize(("match", "fn"), SHUFFLE_ERRORS, ids=[m[:30] for m, _ in SHUFFLE_ERRORS])
def test_shuffle_errors(match, fn):
    with pytest.raises(RuntimeError, match=match.replace("(", r"\(").replace(")", r"\)")):
        fn()
