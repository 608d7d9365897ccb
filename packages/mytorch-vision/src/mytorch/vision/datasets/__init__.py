"""Datasets: MNIST, FashionMNIST and CIFAR10 (downloaded, checksummed, cached), the IDX and
CIFAR binary readers, and ``FakeData``.

MNIST also ships a 5,000-image sample inside this package (``source="sample"``), used as an
offline fallback by ``source="auto"``. For CIFAR10 offline, use ``CIFAR10.synthetic(n)`` or
``FakeData``.
"""

from mytorch.core.data.archive import UnsafeArchiveError, safe_extract_tar
from mytorch.core.data.download import DownloadError
from mytorch.vision.datasets.cifar import (
    CIFAR10,
    CIFARError,
    load_cifar_arrays,
    parse_cifar_batch,
    read_cifar_batch,
)
from mytorch.vision.datasets.fakedata import FakeData
from mytorch.vision.datasets.idx import IDXError, read_idx, read_idx_images, read_idx_labels
from mytorch.vision.datasets.mnist import (
    MNIST,
    FashionMNIST,
    SampleFallbackWarning,
    default_root,
    load_mnist_arrays,
)
from mytorch.vision.datasets.sample import load_sample

__all__ = [
    "CIFAR10",
    "MNIST",
    "CIFARError",
    "DownloadError",
    "FakeData",
    "FashionMNIST",
    "IDXError",
    "SampleFallbackWarning",
    "UnsafeArchiveError",
    "default_root",
    "load_cifar_arrays",
    "load_mnist_arrays",
    "load_sample",
    "parse_cifar_batch",
    "read_cifar_batch",
    "read_idx",
    "read_idx_images",
    "read_idx_labels",
    "safe_extract_tar",
]
