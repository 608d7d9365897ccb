"""MNIST and FashionMNIST: download (checksummed, from mirrors), cache, parse, index.

>>> from mytorch.vision.datasets import MNIST
>>> test = MNIST(train=False, source="sample")
>>> img, label = test[0]
>>> img.shape, img.dtype, type(label).__name__, test.source
((28, 28), dtype('uint8'), 'int', 'sample')
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable

import numpy as np
import platformdirs

from mytorch.core import Tensor, from_numpy
from mytorch.core.data.download import DownloadError, is_cached
from mytorch.vision.datasets._labelled import LabelledImages
from mytorch.vision.datasets.idx import IDXError, read_idx_images, read_idx_labels
from mytorch.vision.datasets.sample import load_sample

__all__ = [
    "MNIST",
    "FashionMNIST",
    "SampleFallbackWarning",
    "default_root",
    "load_mnist_arrays",
]

_SOURCES = ("auto", "download", "sample")


class SampleFallbackWarning(UserWarning):
    """The full dataset could not be downloaded; the bundled sample is used instead."""


def default_root() -> str:
    """Where datasets are cached: ``$MYTORCH_DATA`` if set, else the user cache dir."""
    return os.environ.get("MYTORCH_DATA") or platformdirs.user_cache_dir("mytorch")


class MNIST(LabelledImages):
    """The MNIST handwritten digits: 60,000 train and 10,000 test 28x28 grayscale images.

    Args:
        root: cache directory; files live in ``<root>/MNIST/raw/``. Default: ``default_root()``.
        train: the training split if True, else the test split.
        download: download the files when they are not cached.
        transform: applied to the image (a uint8 (28, 28) Tensor) by ``__getitem__``.
        target_transform: applied to the target (an int) by ``__getitem__``.
        source: ``"auto"`` (download; on failure warn loudly and use the bundled 5,000-image
            sample), ``"download"`` (download or raise :class:`DownloadError`) or ``"sample"``
            (the bundled sample split 4,000 train / 1,000 test, no network).

    Attributes: ``data`` (uint8 Tensor (N, 28, 28)), ``targets`` (int64 Tensor (N,)),
    ``classes``, ``source`` (``"full"`` or ``"sample"``).

    Mirrors, checksums and download behaviour are class attributes, so a subclass (or a test)
    can point them elsewhere: ``mirrors``, ``resources`` (``(filename, md5)`` pairs),
    ``download_retries``, ``download_backoff`` (seconds, doubled per retry),
    ``download_timeout`` (seconds, or a ``(connect, read)`` pair).
    """

    mirrors: list[str] = [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ]
    resources: list[tuple[str, str]] = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    classes: list[str] = [
        "0 - zero",
        "1 - one",
        "2 - two",
        "3 - three",
        "4 - four",
        "5 - five",
        "6 - six",
        "7 - seven",
        "8 - eight",
        "9 - nine",
    ]
    image_size: tuple[int, int] = (28, 28)
    download_retries: int = 3
    download_backoff: float = 0.5
    download_timeout: float | tuple[float, float] = 30.0
    has_sample: bool = True  # whether a bundled sample exists for source="sample"/"auto"

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        download: bool = True,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        source: str = "auto",
    ) -> None:
        if source not in _SOURCES:
            raise ValueError(f"{self._name}: source must be one of {_SOURCES}, got {source!r}")
        if source == "sample" and not self.has_sample:
            raise ValueError(
                f"{self._name}: no bundled sample exists for this dataset; "
                "use source='download' or source='auto'"
            )
        self.root = os.path.expanduser(os.fspath(root if root is not None else default_root()))
        self.train = train
        self.transform = transform
        self.target_transform = target_transform

        if source == "sample":
            images, labels = load_sample(train)
            self.source = "sample"
        else:
            try:
                images, labels = self._load_full(download)
                self.source = "full"
            except (DownloadError, OSError) as e:
                if source != "auto" or not self.has_sample:
                    raise
                self._warn_fallback(e)
                images, labels = load_sample(train)
                self.source = "sample"
        self.data: Tensor = from_numpy(images)  # (N, 28, 28) uint8
        self.targets: Tensor = from_numpy(labels.astype(np.int64, copy=False))  # (N,) int64

    # ------------------------------------------------------------------ files
    @property
    def raw_folder(self) -> str:
        return os.path.join(self.root, self._name, "raw")

    def _split_files(self, train: bool) -> list[str]:
        prefix = "train" if train else "t10k"
        return [f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz"]

    def _md5(self, filename: str) -> str:
        md5s = dict(self.resources)
        if filename not in md5s:
            raise KeyError(
                f"{self._name}.resources has no entry for {filename!r}; it lists {sorted(md5s)}"
            )
        return md5s[filename]

    def _missing(self, filenames: list[str]) -> list[str]:
        return [f for f in filenames if not is_cached(self.raw_folder, f, self._md5(f))]

    def _manual_help(self) -> str:
        files = "\n".join(f"  {name}  (md5 {md5})" for name, md5 in self.resources)
        sample = (
            "\nOr pass source='sample' to use the 5,000-image sample bundled with mytorch-vision."
            if self.has_sample
            else ""
        )
        return (
            f"To use {self._name} without network access, download these files by hand and "
            f"place them, gzipped and under these exact names, in {self.raw_folder}:\n{files}"
            f"{sample}"
        )

    def _fetch(self, filenames: list[str]) -> None:
        for filename in filenames:
            self._download(filename, self._md5(filename), self.raw_folder)

    def download(self) -> None:
        """Download every file in ``resources`` that is not already cached with its checksum."""
        self._fetch(self._missing([name for name, _ in self.resources]))

    def _load_full(self, download: bool) -> tuple[np.ndarray, np.ndarray]:
        images_file, labels_file = files = self._split_files(self.train)
        missing = self._missing(files)
        if missing:
            if not download:
                raise RuntimeError(
                    f"{self._name}: dataset not found: {', '.join(missing)} missing (or with a "
                    f"wrong checksum) in {self.raw_folder}. Use download=True to download it.\n"
                    f"{self._manual_help()}"
                )
            self._fetch(missing)
        images = read_idx_images(os.path.join(self.raw_folder, images_file), self.image_size)
        labels = read_idx_labels(os.path.join(self.raw_folder, labels_file))
        if len(images) != len(labels):
            raise IDXError(
                f"{self._name}: {images_file} holds {len(images)} images but {labels_file} "
                f"holds {len(labels)} labels in {self.raw_folder}"
            )
        if labels.size and int(labels.max()) >= len(self.classes):
            raise IDXError(
                f"{self._name}: {labels_file} holds label {int(labels.max())}; expected labels "
                f"in [0, {len(self.classes) - 1}]"
            )
        return images, labels

    def _warn_fallback(self, error: BaseException) -> None:
        """One warning, one line: why the download failed, what is used instead, and where
        the files go to use the full dataset."""
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        if not first.startswith(f"{self._name}:"):
            first = f"{self._name}: {first}"
        names = [name for name, _ in self.resources]
        files = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]
        n_sample = "4,000 train" if self.train else "1,000 test"
        n_full = "60,000" if self.train else "10,000"
        message = (
            f"{first}. Using the bundled 5,000-image MNIST sample instead ({n_sample} images, "
            f"not the full {n_full}): results will not match full-MNIST numbers. To use the "
            f"full dataset, place {files} in {self.raw_folder}, or pass source='sample' to "
            "use the sample on purpose."
        )
        warnings.warn(message, SampleFallbackWarning, stacklevel=3)


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: MNIST's format (28x28 uint8, 60,000/10,000) with 10 clothing
    classes. Same arguments as :class:`MNIST`; files live in ``<root>/FashionMNIST/raw/``.
    No sample is bundled, so ``source="auto"`` behaves like ``"download"`` and ``"sample"``
    is an error.
    """

    mirrors: list[str] = [
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ]
    resources: list[tuple[str, str]] = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83fd310"),
    ]
    classes: list[str] = [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ]
    has_sample = False


def load_mnist_arrays(
    root: str | os.PathLike | None = None,
    train: bool = True,
    download: bool = True,
    source: str = "auto",
    fashion: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """MNIST (or FashionMNIST with ``fashion=True``) as NumPy arrays for fast batched training.

    Returns ``(images, labels)``: uint8 (N, 28, 28) and int64 (N,). Same ``source`` rules as
    :class:`MNIST`.

    >>> x, y = load_mnist_arrays(train=False, source="sample")
    >>> x.shape, x.dtype, y.dtype
    ((1000, 28, 28), dtype('uint8'), dtype('int64'))
    """
    cls = FashionMNIST if fashion else MNIST
    ds = cls(root, train=train, download=download, source=source)
    return ds.data.numpy(), ds.targets.numpy()
