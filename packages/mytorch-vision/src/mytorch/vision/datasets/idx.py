"""Reader for the IDX format of the MNIST distribution (gzipped or plain).

An IDX file is a big-endian header followed by a dense array:

- bytes 0-1: zero; byte 2: dtype code (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
  0x0D float32, 0x0E float64); byte 3: number of dimensions ``ndim``;
- ``ndim`` big-endian uint32 sizes;
- the payload: ``prod(sizes)`` items of that dtype, big-endian, C order.

The first four bytes read as one big-endian int are the "magic number": 2051 (0x00000803) for
MNIST images (uint8, 3 dims) and 2049 (0x00000801) for labels (uint8, 1 dim).

>>> images = read_idx_images("train-images-idx3-ubyte.gz")  # doctest: +SKIP
>>> images.shape, images.dtype  # doctest: +SKIP
((60000, 28, 28), dtype('uint8'))
"""

from __future__ import annotations

import gzip
import os
import zlib

import numpy as np

__all__ = [
    "IDX_DTYPES",
    "IDXError",
    "IMAGES_MAGIC",
    "LABELS_MAGIC",
    "parse_idx",
    "read_idx",
    "read_idx_images",
    "read_idx_labels",
]

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049

# dtype code -> big-endian NumPy dtype
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_GZIP_MAGIC = b"\x1f\x8b"


class IDXError(ValueError):
    """An IDX file is malformed or is not the kind of file expected."""


def _describe_magic(magic: int) -> str:
    code, ndim = (magic >> 8) & 0xFF, magic & 0xFF
    dtype = IDX_DTYPES.get(code)
    kind = dtype.newbyteorder("=").name if dtype is not None else f"unknown dtype 0x{code:02X}"
    return f"{magic} ({kind}, {ndim} dims)"


def parse_idx(buf: bytes, name: str = "<bytes>", expected_magic: int | None = None) -> np.ndarray:
    """Parse the (already decompressed) bytes of an IDX file into a native-endian array.

    ``name`` is used in error messages. ``expected_magic`` (e.g. 2051 for images) is checked when
    given. Raises :class:`IDXError` naming the file, the expected and the actual values.
    """
    if len(buf) < 4:
        raise IDXError(
            f"{name}: not an IDX file: expected a header of at least 4 bytes, got {len(buf)} bytes"
        )
    magic = int.from_bytes(buf[:4], "big")
    if expected_magic is not None and magic != expected_magic:
        raise IDXError(
            f"{name}: wrong IDX magic number: expected {_describe_magic(expected_magic)}, "
            f"got {_describe_magic(magic)}"
        )
    if buf[0] != 0 or buf[1] != 0:
        raise IDXError(
            f"{name}: not an IDX file: the first two bytes must be zero, "
            f"got 0x{buf[0]:02X} 0x{buf[1]:02X} (magic number {magic})"
        )
    code, ndim = buf[2], buf[3]
    dtype = IDX_DTYPES.get(code)
    if dtype is None:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise IDXError(f"{name}: unknown IDX dtype code: expected one of {known}, got 0x{code:02X}")
    if ndim == 0:
        raise IDXError(f"{name}: IDX header declares 0 dimensions; expected at least 1")
    header_len = 4 + 4 * ndim
    if len(buf) < header_len:
        raise IDXError(
            f"{name}: truncated IDX header: {ndim} dims need {header_len} header bytes, "
            f"got {len(buf)} bytes"
        )
    shape = tuple(int(d) for d in np.frombuffer(buf, dtype=">u4", count=ndim, offset=4))
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    actual = len(buf) - header_len
    if actual != expected:
        what = "truncated" if actual < expected else "too long"
        raise IDXError(
            f"{name}: IDX payload {what}: header says shape {shape} of {dtype.newbyteorder('=')} "
            f"= {expected} bytes, got {actual} bytes"
        )
    arr = np.frombuffer(buf, dtype=dtype, offset=header_len).reshape(shape)
    return arr.astype(dtype.newbyteorder("="), copy=True)  # writable, native byte order


def read_idx(path: str | os.PathLike, expected_magic: int | None = None) -> np.ndarray:
    """Read an IDX file, gzipped or plain (detected from the content, not the file name)."""
    name = os.fspath(path)
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise IDXError(f"{name}: corrupt or truncated gzip data: {e}") from e
    return parse_idx(raw, name, expected_magic)


def read_idx_images(path: str | os.PathLike, image_size: tuple[int, int] | None = None):
    """Read an IDX image file (magic 2051): a uint8 array of shape (N, H, W).

    ``image_size`` (e.g. ``(28, 28)``) is checked when given.
    """
    arr = read_idx(path, IMAGES_MAGIC)
    if image_size is not None and arr.shape[1:] != tuple(image_size):
        raise IDXError(
            f"{os.fspath(path)}: wrong image size: expected (N, {image_size[0]}, {image_size[1]}), "
            f"got {arr.shape}"
        )
    return arr  # (N, H, W) uint8


def read_idx_labels(path: str | os.PathLike):
    """Read an IDX label file (magic 2049): a uint8 array of shape (N,)."""
    return read_idx(path, LABELS_MAGIC)  # (N,) uint8
