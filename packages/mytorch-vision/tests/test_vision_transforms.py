"""Transforms: values, shapes and dtypes on Tensors and NumPy arrays, batches, error messages."""

from __future__ import annotations

import numpy as np
import pytest

from mytorch.core import Tensor, from_numpy
from mytorch.vision import transforms as T
from mytorch.vision.datasets import MNIST

rng = np.random.default_rng(0)
GRAY = rng.integers(0, 256, (5, 7), dtype=np.uint8)  # (H, W)
RGB = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)  # (H, W, C)


@pytest.mark.parametrize("as_tensor", [False, True])
def test_to_tensor_gray(as_tensor):
    out = T.ToTensor()(from_numpy(GRAY) if as_tensor else GRAY)
    assert isinstance(out, Tensor)
    assert out.shape == (1, 5, 7) and out.dtype == np.float32
    np.testing.assert_allclose(out.numpy()[0], GRAY.astype(np.float64) / 255, rtol=1e-6)
    assert out.numpy().min() >= 0 and out.numpy().max() <= 1
    assert not out.requires_grad


def test_to_tensor_extremes_exact():
    out = T.ToTensor()(np.array([[0, 255]], dtype=np.uint8)).numpy()
    assert out.tolist() == [[[0.0, 1.0]]]


def test_to_tensor_matches_torchvision_formula_bitwise(torch):
    x = np.arange(256, dtype=np.uint8).reshape(16, 16)
    expected = torch.from_numpy(x)[None].float().div(255).numpy()  # torchvision's ToTensor
    np.testing.assert_array_equal(T.ToTensor()(x).numpy(), expected)


@pytest.mark.parametrize("as_tensor", [False, True])
def test_to_tensor_hwc_to_chw(as_tensor):
    out = T.ToTensor()(from_numpy(RGB) if as_tensor else RGB)
    assert out.shape == (3, 5, 7) and out.dtype == np.float32
    for c in range(3):
        np.testing.assert_allclose(out.numpy()[c], RGB[:, :, c] / 255, rtol=1e-6)
    assert out.numpy().flags.c_contiguous


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_to_tensor_non_uint8_keeps_values_and_dtype(dtype):
    x = rng.standard_normal((4, 6, 2)).astype(dtype)
    out = T.ToTensor()(x)
    assert out.shape == (2, 4, 6) and out.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(out.numpy(), x.transpose(2, 0, 1))
    out.numpy()[0, 0, 0] = 123
    assert x[0, 0, 0] != 123  # a copy, not a view of the input


@pytest.mark.parametrize("shape", [(5,), (1, 2, 3, 4)])
def test_to_tensor_bad_rank(shape):
    with pytest.raises(
        ValueError,
        match=rf"ToTensor: pic should be 2 or 3 dimensional. Got {len(shape)} dimensions",
    ):
        T.ToTensor()(np.zeros(shape, np.uint8))


def test_to_tensor_bad_type():
    with pytest.raises(
        TypeError, match="ToTensor: expected a mytorch Tensor or a NumPy array, got list"
    ):
        T.ToTensor()([[1, 2]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch", [(), (4,)])
def test_normalize_per_channel(dtype, batch):
    x = rng.random((*batch, 3, 5, 7)).astype(dtype)
    mean, std = (0.1, 0.5, 0.9), (0.2, 0.3, 0.4)
    out = T.Normalize(mean, std)(from_numpy(x))
    assert out.shape == x.shape and out.dtype == np.dtype(dtype)
    expected = (x - np.array(mean)[:, None, None]) / np.array(std)[:, None, None]
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5 if dtype == np.float32 else 1e-12)
    assert not np.shares_memory(out.numpy(), x)


def test_normalize_single_value_broadcasts_and_accepts_numpy():
    x = rng.random((2, 4, 4)).astype(np.float32)
    out = T.Normalize((0.1307,), (0.3081,))(x)
    assert isinstance(out, Tensor)
    np.testing.assert_allclose(out.numpy(), (x - 0.1307) / 0.3081, rtol=1e-5)
    np.testing.assert_allclose(T.Normalize(0.5, 0.5)(x).numpy(), 2 * x - 1, rtol=1e-5, atol=1e-6)


def test_normalize_inplace():
    x = from_numpy(rng.random((1, 3, 3)).astype(np.float32))
    before = x.numpy().copy()
    out = T.Normalize((0.5,), (0.25,), inplace=True)(x)
    assert out is x
    np.testing.assert_allclose(x.numpy(), (before - 0.5) / 0.25, rtol=1e-6)


def test_normalize_errors():
    with pytest.raises(
        TypeError, match="Normalize: input tensor should be a float tensor. Got uint8"
    ):
        T.Normalize((0.5,), (0.5,))(np.zeros((1, 2, 2), np.uint8))
    with pytest.raises(
        ValueError, match=r"size \(\.\.\., C, H, W\). Got tensor.size\(\) = \(2, 2\)"
    ):
        T.Normalize((0.5,), (0.5,))(np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match="mean has 2 values but the input has 3 channels"):
        T.Normalize((0.5, 0.5), (0.5,))(np.zeros((3, 2, 2), np.float32))
    with pytest.raises(ValueError, match="std evaluated to zero after conversion to float32"):
        T.Normalize((0.5,), (0.0,))(np.zeros((1, 2, 2), np.float32))


def test_flatten():
    x = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    out = T.Flatten()(from_numpy(x))
    assert out.shape == (24,) and out.dtype == np.float32
    np.testing.assert_array_equal(out.numpy(), x.ravel())
    assert T.Flatten(start_dim=1)(x).shape == (2, 12)
    assert T.Flatten(0, 1)(x).shape == (6, 4)
    assert T.Flatten(-2, -1)(x).shape == (2, 12)
    assert T.Flatten()(np.array(3.0, np.float32)).shape == (1,)


def test_flatten_errors():
    x = np.zeros((2, 3))
    with pytest.raises(
        IndexError, match=r"dimension out of range \(expected to be in range of \[-2, 1\]"
    ):
        T.Flatten(start_dim=2)(x)
    with pytest.raises(ValueError, match=r"start_dim \(1\) cannot come after end_dim \(0\)"):
        T.Flatten(1, 0)(x)


def test_lambda_and_compose_order():
    t = T.Compose([T.Lambda(lambda v: v + 1), T.Lambda(lambda v: v * 10)])
    assert t(1) == 20
    with pytest.raises(TypeError, match="Argument lambd should be callable, got 'int'"):
        T.Lambda(3)


def test_compose_repr():
    t = T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.25,)), T.Flatten()])
    assert repr(t) == (
        "Compose(\n    ToTensor()\n    Normalize(mean=(0.5,), std=(0.25,))\n"
        "    Flatten(start_dim=0, end_dim=-1)\n)"
    )


def test_mnist_pipeline(tmp_path):
    tf = T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,)), T.Flatten()])
    ds = MNIST(tmp_path, train=False, source="sample", transform=tf)
    x, y = ds[0]
    assert x.shape == (784,) and x.dtype == np.float32 and isinstance(y, int)
    raw = ds.data.numpy()[0].reshape(-1) / 255
    np.testing.assert_allclose(x.numpy(), (raw - 0.1307) / 0.3081, rtol=1e-5, atol=1e-5)
    assert x.numpy().min() == pytest.approx(-0.1307 / 0.3081, rel=1e-5)
    assert "Normalize(mean=(0.1307,), std=(0.3081,))" in repr(ds)
