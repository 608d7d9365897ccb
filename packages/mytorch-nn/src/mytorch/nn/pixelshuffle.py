"""``PixelShuffle`` and ``PixelUnshuffle``: trade channels for spatial resolution and back.

>>> import mytorch.core as mt
>>> PixelShuffle(3)(mt.randn(1, 9, 4, 4)).shape
(1, 1, 12, 12)
>>> PixelUnshuffle(3)(mt.randn(1, 1, 12, 12)).shape
(1, 9, 4, 4)
"""

from __future__ import annotations

from mytorch.core import functional as F
from mytorch.core.tensor import Tensor
from mytorch.nn.module import Module

__all__ = ["PixelShuffle", "PixelUnshuffle"]


class PixelShuffle(Module):
    """(*, C * r^2, H, W) -> (*, C, H * r, W * r) with r = ``upscale_factor``."""

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H * r, W * r) -> (*, C * r^2, H, W) with r = ``downscale_factor``."""

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"
