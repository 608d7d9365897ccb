"""The bundled 5,000-image MNIST sample and its fixed stratified train/test split.

The sample (500 images per digit, stored sorted by label) ships inside this package under
``_data/mnist_sample/`` together with its attribution (README.md there). The split is the same
on every machine and call: 400 train and 100 test images per digit, chosen by a fixed-seed
permutation within each class, independent of any global random state.
"""

from __future__ import annotations

from importlib import resources

import numpy as np

from mytorch.vision.datasets.idx import read_idx_images, read_idx_labels

__all__ = ["SAMPLE_SPLIT_SEED", "SAMPLE_TEST_FRACTION", "load_sample", "sample_split_indices"]

SAMPLE_SPLIT_SEED = 20240607
SAMPLE_TEST_FRACTION = 0.2
_IMAGES = "images-idx3-ubyte.gz"
_LABELS = "labels-idx1-ubyte.gz"


def _sample_dir():
    return resources.files("mytorch.vision.datasets").joinpath("_data", "mnist_sample")


def sample_split_indices(labels: np.ndarray, test_fraction: float = SAMPLE_TEST_FRACTION):
    """Fixed stratified split: ``(train_idx, test_idx)`` int64 index arrays into ``labels``.

    Each class contributes ``round(n_c * test_fraction)`` test items; both index arrays are then
    put in a fixed shuffled order (so they are not sorted by label).
    """
    rng = np.random.default_rng(SAMPLE_SPLIT_SEED)
    train, test = [], []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        idx = idx[rng.permutation(idx.size)]
        n_test = int(round(idx.size * test_fraction))
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    train_idx = np.concatenate(train)
    test_idx = np.concatenate(test)
    return train_idx[rng.permutation(train_idx.size)], test_idx[rng.permutation(test_idx.size)]


def load_sample(train: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The train (4,000) or test (1,000) part of the bundled sample: ``(images, labels)``.

    ``images`` is uint8 (N, 28, 28) and ``labels`` int64 (N,).

    >>> x, y = load_sample(train=False)
    >>> x.shape, y.shape, int((y == 3).sum())
    ((1000, 28, 28), (1000,), 100)
    """
    with resources.as_file(_sample_dir()) as d:
        images = read_idx_images(d / _IMAGES, image_size=(28, 28))  # (5000, 28, 28)
        labels = read_idx_labels(d / _LABELS).astype(np.int64)  # (5000,)
    train_idx, test_idx = sample_split_indices(labels)
    idx = train_idx if train else test_idx
    return images[idx], labels[idx]
