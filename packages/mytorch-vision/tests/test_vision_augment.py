"""Augmentation transforms: RandomCrop, RandomHorizontalFlip/RandomVerticalFlip and the batched
random_crop_flip_batch: shapes, padding values, flips, seeding, batched vs per-sample."""

from __future__ import annotations

import numpy as np
import pytest

import mytorch.core as mt
from mytorch.core import Tensor, from_numpy
from mytorch.core.data import DataLoader, Dataset
from mytorch.vision import transforms as T

IMG = np.arange(3 * 6 * 7, dtype=np.float32).reshape(3, 6, 7)  # (C, H, W), all values distinct


def np_pad(x: np.ndarray, left: int, top: int, right: int, bottom: int, mode="constant", **kw):
    widths = [(0, 0)] * (x.ndim - 2) + [(top, bottom), (left, right)]
    return np.pad(x, widths, mode=mode, **kw)


def windows(big: np.ndarray, h: int, w: int, flips: bool = False) -> dict[bytes, tuple]:
    """Bytes of every crop (and mirrored crop) of ``big`` -> (top, left[, flipped])."""
    out = {}
    for i in range(big.shape[-2] - h + 1):
        for j in range(big.shape[-1] - w + 1):
            crop = big[..., i : i + h, j : j + w]
            if flips:
                out[np.ascontiguousarray(crop[..., ::-1]).tobytes()] = (i, j, 1)
                out[np.ascontiguousarray(crop).tobytes()] = (i, j, 0)
            else:
                out[np.ascontiguousarray(crop).tobytes()] = (i, j)
    return out


def locate(window: np.ndarray, big: np.ndarray) -> list[tuple[int, int]]:
    """Every (top, left) where ``window`` (.., h, w) equals a crop of ``big`` (.., H, W)."""
    h, w = window.shape[-2:]
    return [
        (i, j)
        for i in range(big.shape[-2] - h + 1)
        for j in range(big.shape[-1] - w + 1)
        if np.array_equal(big[..., i : i + h, j : j + w], window)
    ]


# ---------------------------------------------------------------------------- RandomCrop
@pytest.mark.parametrize(
    ("size", "expected"), [(4, (4, 4)), ((5,), (5, 5)), ((3, 6), (3, 6)), ([6, 7], (6, 7))]
)
@pytest.mark.parametrize("lead", [(), (3,), (2, 3)])
def test_random_crop_shapes(size, expected, lead):
    x = np.random.default_rng(0).random(lead + (6, 7)).astype(np.float32)
    out = T.RandomCrop(size)(x)
    assert isinstance(out, Tensor) and out.shape == lead + expected and out.dtype == np.float32
    assert out.numpy().flags.c_contiguous
    assert len(locate(out.numpy(), x)) == 1  # a real window of the input


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8])
def test_random_crop_keeps_dtype_and_input(dtype):
    x = IMG.astype(dtype)
    before = x.copy()
    out = T.RandomCrop(6, padding=2, fill=1)(from_numpy(x))
    assert out.dtype == dtype and out.shape == (3, 6, 6)
    np.testing.assert_array_equal(x, before)


def test_random_crop_offsets_follow_get_params():
    crop = T.RandomCrop((4, 5), padding=(1, 2))  # left/right 1, top/bottom 2
    padded = np_pad(IMG, 1, 2, 1, 2)  # (3, 10, 9)
    for seed in range(20):
        mt.manual_seed(seed)
        out = crop(IMG).numpy()
        mt.manual_seed(seed)
        i, j, h, w = T.RandomCrop.get_params(padded, (4, 5))
        assert (h, w) == (4, 5)
        np.testing.assert_array_equal(out, padded[:, i : i + 4, j : j + 5])


@pytest.mark.parametrize(
    ("padding", "ltrb"),
    [(2, (2, 2, 2, 2)), ((3,), (3, 3, 3, 3)), ((1, 2), (1, 2, 1, 2)), ((1, 2, 3, 0), (1, 2, 3, 0))],
)
@pytest.mark.parametrize("fill", [0, 7.5, (1.0, 2.0, 3.0)])
def test_constant_padding_values(padding, ltrb, fill):
    l, t, r, b = ltrb
    full = (6 + t + b, 7 + l + r)
    out = T.RandomCrop(full, padding=padding, fill=fill)(IMG).numpy()  # whole padded image
    expected = np.empty((3,) + full, np.float32)
    expected[...] = np.reshape(fill, (-1, 1, 1))
    expected[:, t : t + 6, l : l + 7] = IMG
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize(("mode", "torch_mode"), [("edge", "replicate"), ("reflect", "reflect")])
def test_edge_and_reflect_padding_match_torch(torch, mode, torch_mode):
    out = T.RandomCrop((6 + 2 + 3, 7 + 4 + 1), padding=(4, 2, 1, 3), padding_mode=mode)(IMG)
    expected = torch.nn.functional.pad(torch.from_numpy(IMG)[None], (4, 1, 2, 3), mode=torch_mode)
    np.testing.assert_array_equal(out.numpy(), expected[0].numpy())


def test_symmetric_padding_repeats_the_edge():
    x = np.array([[[1, 2, 3]]], dtype=np.float32)  # (1, 1, 3)
    out = T.RandomCrop((1, 7), padding=(2, 0), padding_mode="symmetric")(x).numpy()
    assert out.tolist() == [[[2, 1, 1, 2, 3, 3, 2]]]
    out = T.RandomCrop((1, 7), padding=(2, 0), padding_mode="reflect")(
        np.array([[[1, 2, 3]]], dtype=np.float32)
    ).numpy()
    assert out.tolist() == [[[3, 2, 1, 2, 3, 2, 1]]]


def test_pad_if_needed():
    x = np.ones((3, 4, 5), np.float32)
    out = T.RandomCrop(8, pad_if_needed=True, fill=-1)(x).numpy()
    assert out.shape == (3, 8, 8)
    assert (out == 1).sum() == 3 * 4 * 5 and (out == -1).sum() == 3 * (64 - 20)
    assert T.RandomCrop((4, 6), pad_if_needed=True)(x).shape == (3, 4, 6)


def test_full_size_crop_draws_nothing():
    mt.manual_seed(11)
    state = mt.random.get_rng_state()
    out = T.RandomCrop((6, 7))(IMG)
    np.testing.assert_array_equal(out.numpy(), IMG)
    assert mt.random.get_rng_state() == state


def test_random_crop_offsets_are_uniform():
    crop = T.RandomCrop(4, padding=2, fill=-1, generator=mt.Generator(0))
    x = np.arange(16, dtype=np.float32).reshape(1, 4, 4)
    padded = np_pad(x, 2, 2, 2, 2, constant_values=-1)
    where = windows(padded, 4, 4)
    assert len(where) == 25  # every window is distinct
    counts = np.zeros((5, 5), int)
    for _ in range(2500):
        counts[where[crop(x).numpy().tobytes()]] += 1
    assert counts.min() > 60 and counts.max() < 140  # 100 expected in each of 25 cells


def test_random_crop_errors():
    with pytest.raises(ValueError, match=r"required crop size \(8, 8\) is larger than the input"):
        T.RandomCrop(8)(IMG)
    with pytest.raises(ValueError, match="padding must be an int or a 1, 2, or 4 element tuple"):
        T.RandomCrop(4, padding=(1, 2, 3))
    with pytest.raises(ValueError, match="padding must be non-negative"):
        T.RandomCrop(4, padding=-1)
    with pytest.raises(ValueError, match="padding mode should be either constant, edge, reflect"):
        T.RandomCrop(4, padding=1, padding_mode="wrap")
    with pytest.raises(ValueError, match=r"two dimensions \(h, w\) for size"):
        T.RandomCrop((1, 2, 3))
    with pytest.raises(ValueError, match="padding size should be less than"):
        T.RandomCrop(4, padding=6, padding_mode="reflect")(IMG)
    with pytest.raises(ValueError, match="fill has 2 values but the image has 3 channels"):
        T.RandomCrop(4, padding=1, fill=(1, 2))(IMG)
    with pytest.raises(TypeError, match="fill must be a number"):
        T.RandomCrop(4, padding=1, fill="red")
    with pytest.raises(TypeError, match="expected a mytorch Tensor or a NumPy array"):
        T.RandomCrop(4)([[1, 2]])


@pytest.mark.parametrize(
    "transform", [T.RandomCrop(4), T.RandomHorizontalFlip(), T.RandomVerticalFlip()]
)
def test_hwc_uint8_images_are_refused_with_a_hint(transform):
    hwc = np.zeros((32, 32, 3), np.uint8)
    with pytest.raises(ValueError, match=r"looks like an \(H, W, C\) image.*Apply ToTensor\(\)"):
        transform(hwc)
    assert transform(T.ToTensor()(hwc)).shape[0] == 3  # the documented order works


# ---------------------------------------------------------------------------- flips
@pytest.mark.parametrize("lead", [(), (3,), (2, 3)])
def test_flips_with_p_one_and_zero(lead):
    x = np.random.default_rng(1).random(lead + (4, 5)).astype(np.float32)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(x).numpy(), x[..., ::-1])
    np.testing.assert_array_equal(T.RandomVerticalFlip(p=1.0)(x).numpy(), x[..., ::-1, :])
    assert T.RandomHorizontalFlip(p=1.0)(x).numpy().flags.c_contiguous
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=0.0)(x).numpy(), x)
    t = from_numpy(x)
    assert T.RandomHorizontalFlip(p=0.0)(t) is t  # unflipped tensors pass through


def test_flip_exact_pixels():
    x = np.array([[[1, 2, 3], [4, 5, 6]]], dtype=np.float32)  # (1, 2, 3)
    assert T.RandomHorizontalFlip(1)(x).numpy().tolist() == [[[3, 2, 1], [6, 5, 4]]]
    assert T.RandomVerticalFlip(1)(x).numpy().tolist() == [[[4, 5, 6], [1, 2, 3]]]


@pytest.mark.parametrize("cls", [T.RandomHorizontalFlip, T.RandomVerticalFlip])
def test_flip_probability(cls):
    flip = cls(p=0.3, generator=mt.Generator(5))
    x = np.array([[[0.0, 1.0], [2.0, 3.0]]], dtype=np.float32)
    flipped = sum(not np.array_equal(flip(x).numpy(), x) for _ in range(4000))
    assert abs(flipped / 4000 - 0.3) < 0.03
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\]"):
        cls(p=1.5)


# ---------------------------------------------------------------------------- seeding
def augment() -> T.Compose:
    return T.Compose(
        [T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.RandomVerticalFlip()]
    )


def run(tf, images) -> np.ndarray:
    return np.stack([tf(img).numpy() for img in images])


def test_manual_seed_reproduces_the_augmentation():
    images = np.random.default_rng(0).random((12, 3, 32, 32)).astype(np.float32)
    mt.manual_seed(123)
    a = run(augment(), images)
    mt.manual_seed(123)
    b = run(augment(), images)
    mt.manual_seed(124)
    c = run(augment(), images)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_generator_argument_is_independent_of_global_state():
    images = np.random.default_rng(0).random((6, 3, 8, 8)).astype(np.float32)

    def tf(seed):
        g = mt.Generator(seed)
        return T.Compose([T.RandomCrop(8, padding=2, generator=g), T.RandomHorizontalFlip(0.5, g)])

    mt.manual_seed(1)
    a = run(tf(7), images)
    mt.manual_seed(2)
    b = run(tf(7), images)
    np.testing.assert_array_equal(a, b)
    c = run(T.RandomCrop(8, padding=2, generator=np.random.default_rng(7)), images)
    assert c.shape == (6, 3, 8, 8)


def test_per_sample_transforms_through_dataloader():
    x = mt.tensor(np.random.default_rng(0).random((10, 3, 8, 8)).astype(np.float32))
    y = mt.arange(10)

    class Augmented(Dataset):
        tf = T.Compose([T.RandomCrop(6, padding=1), T.RandomHorizontalFlip()])

        def __len__(self):
            return 10

        def __getitem__(self, i):
            return self.tf(x[i]), int(y[i])

    mt.manual_seed(0)
    first = [xb.numpy() for xb, _ in DataLoader(Augmented(), batch_size=4, shuffle=True)]
    mt.manual_seed(0)
    again = [xb.numpy() for xb, _ in DataLoader(Augmented(), batch_size=4, shuffle=True)]
    assert [b.shape for b in first] == [(4, 3, 6, 6), (4, 3, 6, 6), (2, 3, 6, 6)]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------- batched path
def reference(images, top, left, size, flip, padding=(0, 0, 0, 0), **pad_kw) -> np.ndarray:
    """Per-sample crop-and-flip with plain NumPy."""
    h, w = size
    out = []
    for k, img in enumerate(images):
        p = np_pad(img, *padding, **pad_kw)
        crop = p[:, top[k] : top[k] + h, left[k] : left[k] + w]
        out.append(crop[..., ::-1] if flip[k] else crop)
    return np.stack(out)


@pytest.mark.parametrize("size", [(6, 7), (4, 5), (1, 1)])
def test_crop_flip_batch_matches_per_sample(size):
    rng = np.random.default_rng(0)
    images = rng.random((9, 3, 6, 7)).astype(np.float32)
    top = rng.integers(0, 6 - size[0] + 1, 9)
    left = rng.integers(0, 7 - size[1] + 1, 9)
    flip = rng.random(9) < 0.5
    out = T.crop_flip_batch(images, top, left, size, flip)
    assert out.shape == (9, 3) + size and out.flags.c_contiguous and out.flags.writeable
    np.testing.assert_array_equal(out, reference(images, top, left, size, flip))
    np.testing.assert_array_equal(
        T.crop_flip_batch(images, top, left, size), reference(images, top, left, size, [0] * 9)
    )


@pytest.mark.parametrize(
    ("mode", "pad_kw"),
    [("constant", {}), ("constant", {"constant_values": 3}), ("edge", {}), ("reflect", {})],
)
@pytest.mark.parametrize("size", [None, (28, 30)])
def test_random_crop_flip_batch_equals_per_sample_with_fixed_rng(mode, pad_kw, size):
    images = np.random.default_rng(1).random((16, 3, 32, 32)).astype(np.float32)
    fill = pad_kw.get("constant_values", 0)
    out = T.random_crop_flip_batch(
        images, 4, np.random.default_rng(9), size=size, fill=fill, padding_mode=mode
    )
    th, tw = size or (32, 32)
    r = np.random.default_rng(9)  # the documented draw order: top, left, then flips
    top, left = r.integers(0, 40 - th + 1, 16), r.integers(0, 40 - tw + 1, 16)
    flip = r.random(16) < 0.5
    expected = reference(images, top, left, (th, tw), flip, (4, 4, 4, 4), mode=mode, **pad_kw)
    assert out.shape == (16, 3, th, tw) and out.dtype == np.float32
    np.testing.assert_array_equal(out, expected)


def test_random_crop_flip_batch_seeding_and_types():
    images = np.random.default_rng(2).random((8, 3, 10, 10)).astype(np.float32)
    mt.manual_seed(3)
    a = T.random_crop_flip_batch(images, padding=2)
    mt.manual_seed(3)
    b = T.random_crop_flip_batch(images, padding=2)
    np.testing.assert_array_equal(a, b)
    c = T.random_crop_flip_batch(images, 2, mt.Generator(3))  # same stream as manual_seed(3)
    np.testing.assert_array_equal(a, c)
    t = T.random_crop_flip_batch(from_numpy(images), 2, mt.Generator(3))
    assert isinstance(t, Tensor)
    np.testing.assert_array_equal(t.numpy(), a)
    u8 = T.random_crop_flip_batch((images * 255).astype(np.uint8), 2, mt.Generator(3))
    assert u8.dtype == np.uint8 and u8.shape == (8, 3, 10, 10)
    none = T.random_crop_flip_batch(images, 0, mt.Generator(0), flip_p=0.0)
    np.testing.assert_array_equal(none, images)


def test_batched_and_per_sample_distributions_agree():
    """Same image N times: the offsets and flips of both paths are uniform / Bernoulli(0.5)."""
    n = 3000
    img = np.arange(64, dtype=np.float32).reshape(1, 8, 8)
    padded = np_pad(img, 2, 2, 2, 2, constant_values=-1)  # (1, 12, 12)
    per_sample = T.Compose([T.RandomCrop(8, padding=2, fill=-1), T.RandomHorizontalFlip()])
    mt.manual_seed(0)
    batched = T.random_crop_flip_batch(np.repeat(img[None], n, 0), 2, fill=-1)
    single = np.stack([per_sample(img).numpy() for _ in range(n)])

    where = windows(padded, 8, 8, flips=True)
    assert len(where) == 50  # every outcome is recognisable

    def outcomes(crops):
        counts = np.zeros((5, 5, 2), int)
        for crop in crops:
            counts[where[crop.tobytes()]] += 1
        return counts

    cb, cs = outcomes(batched), outcomes(single)
    assert cb.sum() == cs.sum() == n
    for counts in (cb, cs):
        assert counts.min() > 25 and counts.max() < 95  # 60 expected in each of 50 outcomes
        assert abs(counts[..., 1].sum() / n - 0.5) < 0.04
        np.testing.assert_allclose(counts.sum((1, 2)) / n, 0.2, atol=0.03)  # top offsets
        np.testing.assert_allclose(counts.sum((0, 2)) / n, 0.2, atol=0.03)  # left offsets


def test_random_crop_flip_batch_errors():
    x = np.zeros((2, 3, 8, 8), np.float32)
    with pytest.raises(ValueError, match=r"expected images \(N, C, H, W\), got shape \(3, 8, 8\)"):
        T.random_crop_flip_batch(x[0])
    with pytest.raises(ValueError, match=r"crop size \(12, 12\) is larger than the padded image"):
        T.random_crop_flip_batch(x, 1, size=12)
    with pytest.raises(ValueError, match=r"flip_p must be in \[0, 1\]"):
        T.random_crop_flip_batch(x, flip_p=2)
    with pytest.raises(TypeError, match="generator must be a mytorch Generator"):
        T.random_crop_flip_batch(x, 1, generator=7)
    with pytest.raises(ValueError, match=r"offsets must be in \[0, 4\] x \[0, 4\]"):
        T.crop_flip_batch(x, np.array([0, 5]), np.array([0, 0]), 4)
    with pytest.raises(ValueError, match=r"top and left must have shape \(2,\)"):
        T.crop_flip_batch(x, np.array([0]), np.array([0, 0]), 4)


# ---------------------------------------------------------------------------- Normalize, RGB
def test_normalize_three_channels_matches_torch(torch):
    x = np.random.default_rng(4).random((5, 3, 4, 4)).astype(np.float32)
    mean, std = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)
    out = T.Normalize(mean, std)(x).numpy()
    tm, ts = torch.tensor(mean).view(3, 1, 1), torch.tensor(std).view(3, 1, 1)
    np.testing.assert_allclose(out, ((torch.from_numpy(x) - tm) / ts).numpy(), rtol=1e-6)
    assert out.dtype == np.float32


def test_reprs():
    assert repr(T.RandomCrop(32, padding=4)) == "RandomCrop(size=(32, 32), padding=4)"
    assert repr(T.RandomHorizontalFlip()) == "RandomHorizontalFlip(p=0.5)"
    assert repr(T.RandomVerticalFlip(0.2)) == "RandomVerticalFlip(p=0.2)"
