"""Corruption transforms for denoising autoencoders (Vincent et al., 2008), composable.

Each transform maps a batch of clean images (any shape, values in [0, 1]) to a corrupted batch
of the same shape; ``Compose`` chains them. They take an optional ``generator`` for
reproducible noise.

>>> import mytorch.core as mt
>>> corrupt = Compose([GaussianNoise(std=0.3), MaskingNoise(p=0.25)])
>>> corrupt(mt.rand(4, 1, 28, 28), generator=mt.Generator(0)).shape
(4, 1, 28, 28)
"""

from __future__ import annotations

from collections.abc import Sequence

import mytorch.core as mt
from mytorch.core import Tensor

__all__ = ["Compose", "GaussianNoise", "MaskingNoise", "SaltAndPepperNoise"]


class GaussianNoise:
    """Add N(0, std^2) noise to every pixel, then clamp to ``clip`` (None: no clamping)."""

    def __init__(self, std: float = 0.5, clip: tuple[float, float] | None = (0.0, 1.0)) -> None:
        if std < 0:
            raise ValueError(f"GaussianNoise: std must be >= 0, got {std}")
        self.std = std
        self.clip = clip

    def __call__(self, x: Tensor, generator: mt.Generator | None = None) -> Tensor:
        out = x + self.std * mt.randn_like(x, generator=generator)
        return out if self.clip is None else out.clamp(*self.clip)

    def __repr__(self) -> str:
        return f"GaussianNoise(std={self.std}, clip={self.clip})"


class MaskingNoise:
    """Set each pixel independently with probability ``p`` to ``value`` (0: "dropout" of
    pixels, the masking noise of Vincent et al.)."""

    def __init__(self, p: float = 0.3, value: float = 0.0) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"MaskingNoise: p must be in [0, 1], got {p}")
        self.p = p
        self.value = value

    def __call__(self, x: Tensor, generator: mt.Generator | None = None) -> Tensor:
        mask = mt.rand_like(x, generator=generator) < self.p  # True where the pixel is lost
        return mt.where(mask, mt.full_like(x, self.value), x)

    def __repr__(self) -> str:
        return f"MaskingNoise(p={self.p}, value={self.value})"


class SaltAndPepperNoise:
    """Set each pixel with probability ``p`` to ``low`` or ``high`` (half and half)."""

    def __init__(self, p: float = 0.2, low: float = 0.0, high: float = 1.0) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"SaltAndPepperNoise: p must be in [0, 1], got {p}")
        self.p, self.low, self.high = p, low, high

    def __call__(self, x: Tensor, generator: mt.Generator | None = None) -> Tensor:
        u = mt.rand_like(x, generator=generator)  # u < p/2: pepper, p/2 <= u < p: salt
        out = mt.where(u < self.p / 2, mt.full_like(x, self.low), x)
        return mt.where((u >= self.p / 2) & (u < self.p), mt.full_like(x, self.high), out)

    def __repr__(self) -> str:
        return f"SaltAndPepperNoise(p={self.p}, low={self.low}, high={self.high})"


class Compose:
    """Apply ``transforms`` in order, passing the same generator to each."""

    def __init__(self, transforms: Sequence) -> None:
        self.transforms = list(transforms)
        for i, t in enumerate(self.transforms):
            if not callable(t):
                raise TypeError(f"Compose: transforms[{i}] is not callable: {t!r}")

    def __call__(self, x: Tensor, generator: mt.Generator | None = None) -> Tensor:
        for t in self.transforms:
            x = t(x, generator=generator)
        return x

    def __repr__(self) -> str:
        return "Compose([" + ", ".join(repr(t) for t in self.transforms) + "])"
