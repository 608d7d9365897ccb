"""IDX reader: the real bundled sample, every IDX dtype, gzip vs plain, and malformed files."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest

from mytorch.vision.datasets import IDXError, read_idx, read_idx_images, read_idx_labels
from mytorch.vision.datasets.idx import IMAGES_MAGIC, LABELS_MAGIC, parse_idx

SAMPLE = resources.files("mytorch.vision.datasets").joinpath("_data", "mnist_sample")


@pytest.fixture(scope="module")
def sample_arrays():
    with resources.as_file(SAMPLE) as d:
        return read_idx_images(d / "images-idx3-ubyte.gz", (28, 28)), read_idx_labels(
            d / "labels-idx1-ubyte.gz"
        )


def test_real_sample_images(sample_arrays):
    images, _ = sample_arrays
    assert images.shape == (5000, 28, 28)
    assert images.dtype == np.uint8
    assert images.flags.writeable and images.flags.c_contiguous
    assert images.min() == 0 and images.max() == 255
    # MNIST digits: mostly black background, mean intensity about 33 of 255
    assert 25 < images.mean() < 40
    assert (images.reshape(5000, -1).max(axis=1) > 100).all()  # every image has ink


def test_real_sample_labels(sample_arrays):
    _, labels = sample_arrays
    assert labels.shape == (5000,)
    assert labels.dtype == np.uint8
    assert np.bincount(labels).tolist() == [500] * 10
    assert (np.diff(labels.astype(np.int64)) >= 0).all()  # stored sorted by label


def test_real_sample_matches_recorded_checksum():
    import hashlib

    with resources.as_file(SAMPLE) as d:
        digest = hashlib.sha256((d / "images-idx3-ubyte.gz").read_bytes()).hexdigest()
        readme = (d / "README.md").read_text()
    assert digest == "35c4442b3738be6b58df4ff21f19341f0368e1c3d24840252fb3ff06ba646387"
    assert "CC BY-SA 3.0" in readme and "LeCun" in readme  # attribution ships with the data


def test_gzip_and_plain_give_same_array(tmp_path, helpers):
    arr = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    raw = helpers.idx_bytes(arr)
    (tmp_path / "plain.gz").write_bytes(raw)  # plain despite the name
    (tmp_path / "packed").write_bytes(helpers.gz(raw))  # gzipped despite the name
    a = read_idx(tmp_path / "plain.gz")
    b = read_idx(tmp_path / "packed")
    np.testing.assert_array_equal(a, arr)
    np.testing.assert_array_equal(b, arr)
    assert a.dtype == b.dtype == np.uint8


@pytest.mark.parametrize(
    "code,dtype",
    [
        (0x08, np.uint8),
        (0x09, np.int8),
        (0x0B, np.int16),
        (0x0C, np.int32),
        (0x0D, np.float32),
        (0x0E, np.float64),
    ],
)
@pytest.mark.parametrize("shape", [(5,), (2, 3), (2, 3, 4), (1, 2, 1, 3)])
def test_every_idx_dtype_and_rank(tmp_path, helpers, code, dtype, shape):
    rng = np.random.default_rng(0)
    if np.dtype(dtype).kind == "f":
        arr = rng.standard_normal(shape).astype(dtype)
    else:
        info = np.iinfo(dtype)
        arr = rng.integers(info.min, info.max, shape, endpoint=True).astype(dtype)
    (tmp_path / "f.idx").write_bytes(helpers.idx_bytes(arr, code))
    out = read_idx(tmp_path / "f.idx")
    assert out.shape == shape
    assert out.dtype == np.dtype(dtype)  # native byte order
    assert out.dtype.isnative
    np.testing.assert_array_equal(out, arr)


def test_magic_numbers_of_mnist_files(helpers):
    images = helpers.idx_bytes(np.zeros((1, 28, 28), np.uint8))
    labels = helpers.idx_bytes(np.zeros((1,), np.uint8))
    assert int.from_bytes(images[:4], "big") == IMAGES_MAGIC == 2051
    assert int.from_bytes(labels[:4], "big") == LABELS_MAGIC == 2049


def test_labels_file_read_as_images_names_both_magics(tmp_path, helpers):
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    path.write_bytes(helpers.gz(helpers.idx_bytes(np.zeros((3,), np.uint8))))
    with pytest.raises(IDXError, match=r"train-labels-idx1-ubyte\.gz.*expected 2051.*got 2049"):
        read_idx_images(path)


def test_images_file_read_as_labels(tmp_path, helpers):
    path = tmp_path / "imgs"
    path.write_bytes(helpers.idx_bytes(np.zeros((3, 28, 28), np.uint8)))
    with pytest.raises(IDXError, match=r"imgs.*expected 2049 \(uint8, 1 dims\).*got 2051"):
        read_idx_labels(path)


def test_nonzero_leading_bytes(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(b"\x01\x00\x08\x01" + (3).to_bytes(4, "big") + b"abc")
    with pytest.raises(IDXError, match=r"bad: not an IDX file: the first two bytes must be zero"):
        read_idx(path)


def test_unknown_dtype_code(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(b"\x00\x00\x0a\x01" + (3).to_bytes(4, "big") + b"abc")
    with pytest.raises(IDXError, match=r"unknown IDX dtype code: expected one of .*got 0x0A"):
        read_idx(path)


def test_zero_dims(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(b"\x00\x00\x08\x00")
    with pytest.raises(IDXError, match="0 dimensions"):
        read_idx(path)


@pytest.mark.parametrize("content", [b"", b"\x00\x00"])
def test_file_shorter_than_magic(tmp_path, content):
    path = tmp_path / "tiny"
    path.write_bytes(content)
    with pytest.raises(IDXError, match=rf"tiny: not an IDX file.*got {len(content)} bytes"):
        read_idx(path)


def test_truncated_header(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(b"\x00\x00\x08\x03" + (3).to_bytes(4, "big"))  # 3 dims, only 1 size
    with pytest.raises(IDXError, match=r"truncated IDX header: 3 dims need 16 header bytes, got 8"):
        read_idx(path)


@pytest.mark.parametrize("compress", [False, True])
def test_truncated_payload(tmp_path, helpers, compress):
    raw = helpers.idx_bytes(np.zeros((10, 28, 28), np.uint8))[:-100]
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(helpers.gz(raw) if compress else raw)
    with pytest.raises(
        IDXError,
        match=r"train-images-idx3-ubyte\.gz: IDX payload truncated: header says shape "
        r"\(10, 28, 28\) of uint8 = 7840 bytes, got 7740 bytes",
    ):
        read_idx_images(path)


def test_payload_too_long(tmp_path, helpers):
    path = tmp_path / "long"
    path.write_bytes(helpers.idx_bytes(np.zeros((4,), np.int32), 0x0C) + b"\x00")
    with pytest.raises(IDXError, match=r"payload too long.*16 bytes, got 17 bytes"):
        read_idx(path)


def test_wrong_dims_for_images(tmp_path, helpers):
    path = tmp_path / "imgs"
    path.write_bytes(helpers.idx_bytes(np.zeros((2, 27, 28), np.uint8)))
    with pytest.raises(
        IDXError, match=r"imgs: wrong image size: expected \(N, 28, 28\), got \(2, 27, 28\)"
    ):
        read_idx_images(path, image_size=(28, 28))
    assert read_idx_images(path).shape == (2, 27, 28)  # no size check unless asked


def test_images_with_wrong_rank(tmp_path, helpers):
    path = tmp_path / "imgs"
    path.write_bytes(helpers.idx_bytes(np.zeros((2, 28 * 28), np.uint8)))  # magic 2050
    with pytest.raises(
        IDXError, match=r"expected 2051 \(uint8, 3 dims\), got 2050 \(uint8, 2 dims\)"
    ):
        read_idx_images(path)


def test_truncated_gzip_stream(tmp_path, helpers):
    data = helpers.gz(helpers.idx_bytes(np.arange(1000, dtype=np.uint8)))
    path = tmp_path / "cut.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(IDXError, match=r"cut\.gz: corrupt or truncated gzip data"):
        read_idx(path)


def test_parse_idx_bytes_directly(helpers):
    arr = np.array([[1, -2], [3, 4]], dtype=np.int16)
    out = parse_idx(helpers.idx_bytes(arr, 0x0B), "mem")
    np.testing.assert_array_equal(out, arr)
    with pytest.raises(IDXError, match=r"mem: wrong IDX magic number: expected 2049"):
        parse_idx(helpers.idx_bytes(arr, 0x0B), "mem", expected_magic=LABELS_MAGIC)
