"""``MovieReviews``: 12,752 Rotten Tomatoes critic snippets labelled fresh (1) / rotten (0).

The data ships inside this package (``_data/movie_reviews/``, with its attribution in the README
there), so it needs no network. Its SHA-256 is checked when it is read. The train/test split is
fixed (the same on every machine, whatever the global seed): 20% of each class is the test set.

>>> train, test = MovieReviews(split="train"), MovieReviews(split="test")
>>> len(train), len(test), train.classes
(10201, 2551, ['rotten', 'fresh'])
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
from collections.abc import Callable
from importlib import resources

import numpy as np

from mytorch.seq.datasets.base import TextClassificationDataset

__all__ = ["MovieReviews", "movie_reviews_split_indices"]

_FILE = "reviews.tsv.gz"
SHA256 = "100db87ee212d9fa6afe7dbb08c6fef992abde60a7e7003a8b56ce9c3d7a136d"
SPLIT_SEED = 20240607
TEST_FRACTION = 0.2
_SPLITS = ("train", "test", "all")


@functools.lru_cache(maxsize=1)
def _read_all() -> tuple[tuple[str, ...], np.ndarray]:
    """All ``(texts, labels)`` in file order, after checking the file's SHA-256."""
    ref = resources.files("mytorch.seq.datasets").joinpath("_data", "movie_reviews", _FILE)
    raw = ref.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != SHA256:
        raise OSError(
            f"MovieReviews: the bundled {_FILE} is corrupt (sha256 {digest}, expected {SHA256}); "
            "reinstall mytorch-seq"
        )
    lines = gzip.decompress(raw).decode("utf-8").rstrip("\n").split("\n")
    if lines[0] != "label\ttext":
        raise OSError(f"MovieReviews: unexpected header {lines[0]!r} in {_FILE}")
    rows = [line.split("\t", 1) for line in lines[1:]]
    labels = np.array([int(label) for label, _ in rows], dtype=np.int64)  # (N,)
    return tuple(text for _, text in rows), labels


def movie_reviews_split_indices(labels: np.ndarray, test_fraction: float = TEST_FRACTION):
    """The fixed stratified split: ``(train_idx, test_idx)`` int64 index arrays into ``labels``.

    Each class gives ``round(n_c * test_fraction)`` items to the test set, chosen by a fixed-seed
    permutation; both index arrays are then put in a fixed shuffled order.
    """
    rng = np.random.default_rng(SPLIT_SEED)
    train, test = [], []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        idx = idx[rng.permutation(idx.size)]
        n_test = int(round(idx.size * test_fraction))
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    train_idx, test_idx = np.concatenate(train), np.concatenate(test)
    return train_idx[rng.permutation(train_idx.size)], test_idx[rng.permutation(test_idx.size)]


class MovieReviews(TextClassificationDataset):
    """Rotten Tomatoes movie-review snippets (Pang & Lee), a small real sentiment corpus.

    12,752 one-sentence critic snippets: 7,368 ``fresh`` (label 1) and 5,384 ``rotten`` (label
    0), about 22 words each. This is not IMDB (see :class:`~mytorch.seq.datasets.IMDB`).

    Args:
        root: accepted so code can switch between datasets; unused (the data is bundled).
        split: ``"train"`` (10,201 items), ``"test"`` (2,551) or ``"all"`` (12,752, file order).
        transform: applied to the text by ``__getitem__``.
        target_transform: applied to the label by ``__getitem__``.

    Items are ``(text, label)``; attributes ``texts``, ``labels``, ``classes``, ``split``.
    """

    classes = ["rotten", "fresh"]
    sha256 = SHA256

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        split: str = "train",
        transform: Callable | None = None,
        target_transform: Callable | None = None,
    ) -> None:
        if split not in _SPLITS:
            raise ValueError(f"MovieReviews: split must be one of {_SPLITS}, got {split!r}")
        texts, labels = _read_all()
        if split == "all":
            idx = np.arange(len(texts))
        else:
            train_idx, test_idx = movie_reviews_split_indices(labels)
            idx = train_idx if split == "train" else test_idx
        super().__init__(
            [texts[i] for i in idx.tolist()],
            labels[idx].tolist(),
            split,
            transform,
            target_transform,
        )
        self.root = root
