"""CIFAR-10: download (checksummed, from mirrors), safe extraction, cache, parse, index.

The *binary* distribution is used, so nothing downloaded is ever unpickled. Each batch file is a
sequence of 3073-byte records: one label byte (0-9), then 3072 pixel bytes holding the 32x32
red plane, then green, then blue (planar CHW, rows top to bottom). The loader turns them into
uint8 (N, 32, 32, 3) HWC images, as torchvision's ``CIFAR10.data`` holds them.

>>> from mytorch.vision.datasets import CIFAR10
>>> ds = CIFAR10.synthetic(20, seed=0)  # offline stand-in with the same shapes and dtypes
>>> img, label = ds[0]
>>> img.shape, img.dtype, type(label).__name__, ds.source
((32, 32, 3), dtype('uint8'), 'int', 'synthetic')
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from mytorch.core import Tensor
from mytorch.core.data import Dataset
from mytorch.core.data.archive import safe_extract_tar
from mytorch.core.data.download import is_cached
from mytorch.vision.datasets._labelled import LabelledImages
from mytorch.vision.datasets.mnist import default_root

__all__ = [
    "CIFAR10",
    "CIFAR_RECORD_BYTES",
    "CIFARError",
    "load_cifar_arrays",
    "parse_cifar_batch",
    "read_cifar_batch",
]

CIFAR_IMAGE_SHAPE = (3, 32, 32)  # as stored: planar (C, H, W)
CIFAR_RECORD_BYTES = 1 + 3 * 32 * 32  # 3073: label byte + pixels
_SYNTHETIC_TEMPLATE_SEED = 1_000_003  # class patterns are the same for every split and seed


class CIFARError(ValueError):
    """A CIFAR binary batch file is malformed."""


def parse_cifar_batch(
    buf: bytes, name: str = "<bytes>", num_classes: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """Parse the bytes of a CIFAR-10 binary batch: ``(images, labels)``.

    ``images`` is uint8 (N, 32, 32, 3) (HWC), ``labels`` int64 (N,). Raises :class:`CIFARError`
    naming the file when its length is not a positive multiple of 3073 bytes or a label is not
    below ``num_classes``.

    >>> rec = bytes([7]) + bytes([10]) * 1024 + bytes([20]) * 1024 + bytes([30]) * 1024
    >>> x, y = parse_cifar_batch(rec)  # one record: label 7, then the R, G and B planes
    >>> x.shape, y.tolist(), x[0, 5, 9].tolist()
    ((1, 32, 32, 3), [7], [10, 20, 30])
    """
    n, rest = divmod(len(buf), CIFAR_RECORD_BYTES)
    if rest or n == 0:
        raise CIFARError(
            f"{name}: not a CIFAR-10 binary batch: its length {len(buf)} bytes is not a positive "
            f"multiple of the record size {CIFAR_RECORD_BYTES} (1 label byte + 3072 pixel bytes); "
            f"{n} whole records and {rest} extra bytes (truncated or wrong file?)"
        )
    records = np.frombuffer(buf, dtype=np.uint8).reshape(n, CIFAR_RECORD_BYTES)  # (N, 3073)
    labels = records[:, 0].astype(np.int64)  # (N,)
    if int(labels.max()) >= num_classes:
        bad = int(np.flatnonzero(labels >= num_classes)[0])
        raise CIFARError(
            f"{name}: record {bad} has label {int(labels[bad])}; expected labels in "
            f"[0, {num_classes - 1}]"
        )
    planes = records[:, 1:].reshape(n, *CIFAR_IMAGE_SHAPE)  # (N, 3, 32, 32)
    images = np.ascontiguousarray(planes.transpose(0, 2, 3, 1))  # (N, 32, 32, 3)
    return images, labels


def read_cifar_batch(path: str | os.PathLike, num_classes: int = 10) -> tuple[np.ndarray, ...]:
    """Read one CIFAR-10 binary batch file (see :func:`parse_cifar_batch`)."""
    with open(path, "rb") as f:
        buf = f.read()
    return parse_cifar_batch(buf, os.fspath(path), num_classes)


class CIFAR10(LabelledImages, Dataset):
    """CIFAR-10: 50,000 train and 10,000 test 32x32 colour images in 10 classes.

    Args:
        root: cache directory. The archive ``cifar-10-binary.tar.gz`` is stored in it and
            extracted to ``<root>/cifar-10-batches-bin/``. Default: ``default_root()``.
        train: the training split (``data_batch_1..5.bin``) if True, else ``test_batch.bin``.
        download: download the archive when the extracted files are not in ``root``.
        transform: applied to the image (a uint8 (32, 32, 3) HWC Tensor) by ``__getitem__``;
            ``ToTensor()`` turns it into float32 (3, 32, 32) in [0, 1].
        target_transform: applied to the target (an int) by ``__getitem__``.

    Attributes (like :class:`MNIST`, tensors rather than torchvision's NumPy array and list):
    ``data`` (uint8 Tensor (N, 32, 32, 3), HWC), ``targets`` (int64 Tensor (N,)), ``classes``,
    ``source`` (``"full"``, or ``"synthetic"`` for :meth:`synthetic`).

    The archive's MD5 is checked before it is extracted; extraction rejects unsafe members
    (absolute paths, ``..``, links leaving the archive, device files) and is atomic. Class
    attributes configure the download: ``mirrors`` (URL prefixes tried in order), ``filename``,
    ``tgz_md5``, ``download_retries``, ``download_backoff`` (seconds, doubled per retry),
    ``download_timeout``.
    """

    mirrors: list[str] = ["https://www.cs.toronto.edu/~kriz/"]
    filename: str = "cifar-10-binary.tar.gz"
    tgz_md5: str = "c32a1d4ab5d03f1284b67883e8d87530"
    base_folder: str = "cifar-10-batches-bin"
    train_list: list[str] = [f"data_batch_{i}.bin" for i in range(1, 6)]
    test_list: list[str] = ["test_batch.bin"]
    classes: list[str] = [
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ]
    download_retries: int = 3
    download_backoff: float = 0.5
    download_timeout: float | tuple[float, float] = 30.0

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        download: bool = True,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
    ) -> None:
        self.root = os.path.expanduser(os.fspath(root if root is not None else default_root()))
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        self._ensure_files(download)
        parts = [read_cifar_batch(path, len(self.classes)) for path in self._split_paths()]
        images = np.concatenate([p[0] for p in parts]) if len(parts) > 1 else parts[0][0]
        labels = np.concatenate([p[1] for p in parts]) if len(parts) > 1 else parts[0][1]
        self._set_arrays(images, labels, "full")

    @classmethod
    def synthetic(
        cls,
        n: int = 1000,
        seed: int = 0,
        train: bool = True,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
    ) -> CIFAR10:
        """An offline stand-in: ``n`` CIFAR-shaped images, no disk or network access.

        Each class has a fixed blocky colour pattern (the same for every ``seed`` and split,
        left-right symmetric so flips keep it); an image is its class pattern blended half and
        half with uniform noise, so a small network can learn the classes. Labels are balanced
        and shuffled. ``seed`` and ``train`` choose the noise and the order.

        >>> ds = CIFAR10.synthetic(50, seed=1)
        >>> len(ds), ds.data.shape, sorted(set(ds.targets.tolist())) == list(range(10))
        (50, (50, 32, 32, 3), True)
        """
        if n < 0:
            raise ValueError(f"CIFAR10.synthetic: n must be non-negative, got {n}")
        k = len(cls.classes)
        half = np.random.default_rng(_SYNTHETIC_TEMPLATE_SEED).integers(
            0, 256, (k, 4, 2, 3), dtype=np.uint8
        )  # (K, 4, 2, 3)
        coarse = np.concatenate([half, half[:, :, ::-1]], axis=2)  # (K, 4, 4, 3) symmetric
        templates = coarse.repeat(8, axis=1).repeat(8, axis=2)  # (K, 32, 32, 3)
        rng = np.random.default_rng([int(seed), 0 if train else 1])
        labels = rng.permutation(np.arange(n, dtype=np.int64) % k)  # (n,)
        noise = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
        images = (templates[labels] >> 1) + (noise >> 1)  # (n, 32, 32, 3) uint8, <= 254
        ds = cls.__new__(cls)
        ds.root = None
        ds.train = train
        ds.transform = transform
        ds.target_transform = target_transform
        ds._set_arrays(images, labels, "synthetic")
        return ds

    def _set_arrays(self, images: np.ndarray, labels: np.ndarray, source: str) -> None:
        self.data: Tensor = Tensor._make(images)  # (N, 32, 32, 3) uint8
        self.targets: Tensor = Tensor._make(labels.astype(np.int64, copy=False))  # (N,) int64
        self.source = source

    # ------------------------------------------------------------------ files
    @property
    def base_path(self) -> str:
        """The folder holding the extracted batch files."""
        return os.path.join(self.root, self.base_folder)

    def _split_paths(self) -> list[str]:
        names = self.train_list if self.train else self.test_list
        return [os.path.join(self.base_path, name) for name in names]

    def _manual_help(self) -> str:
        return (
            f"To use {self._name} without network access, download {self.filename} "
            f"(md5 {self.tgz_md5}) from https://www.cs.toronto.edu/~kriz/cifar.html and place it "
            f"in {self.root} (or place its extracted folder {self.base_folder}/ there). "
            f"For an offline smoke run use {self._name}.synthetic(n) or FakeData."
        )

    def _ensure_files(self, download: bool) -> None:
        missing = [p for p in self._split_paths() if not os.path.isfile(p)]
        if not missing:
            return
        archive = os.path.join(self.root, self.filename)
        if not is_cached(self.root, self.filename, self.tgz_md5):
            if not download:
                names = ", ".join(os.path.basename(p) for p in missing)
                raise RuntimeError(
                    f"{self._name}: dataset not found: {names} missing in {self.base_path} and "
                    f"no {self.filename} with md5 {self.tgz_md5} in {self.root}. "
                    f"Use download=True to download it.\n{self._manual_help()}"
                )
            self.download()
        safe_extract_tar(archive, self.root, expect_top=[self.base_folder])
        still = [os.path.basename(p) for p in self._split_paths() if not os.path.isfile(p)]
        if still:
            raise CIFARError(
                f"{archive}: the archive has no {', '.join(still)} under {self.base_folder}/"
            )

    def download(self) -> None:
        """Download the archive into ``root`` unless it is already there with its checksum."""
        if is_cached(self.root, self.filename, self.tgz_md5):
            return
        self._download(self.filename, self.tgz_md5, self.root)

    def arrays(self, channels_first: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """``(images, labels)`` as NumPy arrays: uint8 (N, 32, 32, 3), or (N, 3, 32, 32) with
        ``channels_first``, and int64 (N,). The HWC images share memory with ``data``."""
        images = self.data.numpy()
        if channels_first:
            images = np.ascontiguousarray(images.transpose(0, 3, 1, 2))  # (N, 3, 32, 32)
        return images, self.targets.numpy()


def load_cifar_arrays(
    root: str | os.PathLike | None = None,
    train: bool = True,
    download: bool = True,
    channels_first: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-10 as NumPy arrays for fast batched training (see :meth:`CIFAR10.arrays`).

    Returns uint8 images (N, 32, 32, 3), or (N, 3, 32, 32) with ``channels_first``, and int64
    labels (N,). Offline: ``CIFAR10.synthetic(n).arrays(channels_first)``.

    >>> x, y = load_cifar_arrays(train=False, channels_first=True)  # doctest: +SKIP
    >>> x.shape, x.dtype, y.shape  # doctest: +SKIP
    ((10000, 3, 32, 32), dtype('uint8'), (10000,))
    """
    return CIFAR10(root, train=train, download=download).arrays(channels_first)
