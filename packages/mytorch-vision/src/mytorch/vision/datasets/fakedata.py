"""``FakeData``: random images and labels, for running a pipeline without any download."""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from mytorch.core.creation import from_numpy
from mytorch.core.data import Dataset
from mytorch.vision.datasets._labelled import transformed

__all__ = ["FakeData"]


class FakeData(Dataset):
    """``size`` random uint8 images of shape ``image_size`` (C, H, W) with random int labels.

    Item ``i`` is the same on every call and machine: it is drawn from a generator seeded by
    ``(seed, i + random_offset)``, independent of the global random state and of the order of
    access. Like the other datasets, an image is a uint8 (H, W, C) Tensor (what ``ToTensor()``
    turns into float32 (C, H, W)) and a label a Python int in ``[0, num_classes)``.

    >>> from mytorch.vision import transforms as T
    >>> ds = FakeData(8, transform=T.ToTensor())
    >>> img, label = ds[3]
    >>> img.shape, img.dtype, 0 <= label < 10, len(ds)
    ((3, 32, 32), dtype('float32'), True, 8)
    """

    def __init__(
        self,
        size: int = 1000,
        image_size: Sequence[int] = (3, 32, 32),
        num_classes: int = 10,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        random_offset: int = 0,
        seed: int = 0,
    ) -> None:
        image_size = tuple(int(s) for s in image_size)
        if len(image_size) != 3 or min(image_size) <= 0:
            raise ValueError(
                f"FakeData: image_size must be three positive sizes (C, H, W), got {image_size}"
            )
        if size < 0:
            raise ValueError(f"FakeData: size must be non-negative, got {size}")
        if random_offset < 0:
            raise ValueError(f"FakeData: random_offset must be non-negative, got {random_offset}")
        if num_classes <= 0:
            raise ValueError(f"FakeData: num_classes must be positive, got {num_classes}")
        self.size = int(size)
        self.image_size = image_size
        self.num_classes = int(num_classes)
        self.transform = transform
        self.target_transform = target_transform
        self.random_offset = int(random_offset)
        self.seed = int(seed)

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        i = operator.index(index)
        if not -self.size <= i < self.size:
            raise IndexError(f"FakeData index out of range: {index} (size {self.size})")
        i %= self.size
        rng = np.random.default_rng([self.seed, i + self.random_offset])
        c, h, w = self.image_size
        img = from_numpy(rng.integers(0, 256, (h, w, c), dtype=np.uint8))  # (H, W, C)
        return transformed(self, img, int(rng.integers(0, self.num_classes)))

    def __repr__(self) -> str:
        return (
            f"Dataset {type(self).__name__}\n    Number of datapoints: {self.size}\n"
            f"    Image size: {self.image_size}, classes: {self.num_classes}"
        )
