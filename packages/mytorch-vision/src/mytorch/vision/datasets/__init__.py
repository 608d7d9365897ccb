"""Datasets: MNIST and FashionMNIST (downloaded, checksummed, cached) and the IDX reader.

MNIST also ships a 5,000-image sample inside this package (``source="sample"``), used as an
offline fallback by ``source="auto"``.
"""

from mytorch.vision.datasets.download import DownloadError
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
    "MNIST",
    "DownloadError",
    "FashionMNIST",
    "IDXError",
    "SampleFallbackWarning",
    "default_root",
    "load_mnist_arrays",
    "load_sample",
    "read_idx",
    "read_idx_images",
    "read_idx_labels",
]
