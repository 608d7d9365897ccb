"""``TextClassificationDataset``: (text, label) items held in memory, and the cache location."""

from __future__ import annotations

import operator
import os
from collections.abc import Callable, Sequence
from typing import Any

import platformdirs

from mytorch.core.data import Dataset

__all__ = ["TextClassificationDataset", "default_root"]


def default_root() -> str:
    """Where datasets are cached: ``$MYTORCH_DATA`` if set, else the user cache dir."""
    return os.environ.get("MYTORCH_DATA") or platformdirs.user_cache_dir("mytorch")


class TextClassificationDataset(Dataset):
    """Items ``(text, label)``: ``texts`` (list of str) and ``labels`` (list of int indexing
    ``classes``). ``transform``/``target_transform`` are applied by ``__getitem__``."""

    classes: list[str] = []

    def __init__(
        self,
        texts: Sequence[str],
        labels: Sequence[int],
        split: str,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
    ) -> None:
        if len(texts) != len(labels):
            raise ValueError(f"{type(self).__name__}: {len(texts)} texts but {len(labels)} labels")
        self.texts: list[str] = list(texts)
        self.labels: list[int] = [int(y) for y in labels]
        self.split = split
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        i = operator.index(index)
        text, label = self.texts[i], self.labels[i]
        if self.transform is not None:
            text = self.transform(text)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return text, label

    def class_counts(self) -> list[int]:
        """How many items each class has."""
        counts = [0] * len(self.classes)
        for y in self.labels:
            counts[y] += 1
        return counts

    def __repr__(self) -> str:
        counts = ", ".join(f"{c}: {n}" for c, n in zip(self.classes, self.class_counts()))
        return (
            f"Dataset {type(self).__name__}\n    Number of datapoints: {len(self)} ({counts})\n"
            f"    Split: {self.split}"
        )
