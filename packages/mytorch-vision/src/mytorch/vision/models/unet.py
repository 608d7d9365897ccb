"""U-Net (Ronneberger et al., 2015) for per-pixel classification (segmentation).

An encoder of ``DoubleConv`` blocks (two 3x3 conv -> BN -> ReLU, padding 1) separated by 2x2
max-pools, and a decoder that upsamples (``ConvTranspose2d`` 2x2 stride 2, or bilinear
``Upsample`` when ``bilinear=True``), concatenates the encoder features of the same
resolution (skip connection) and applies a ``DoubleConv``; a final 1x1 convolution gives
``num_classes`` scores per pixel. The output has the input's height and width whenever they
are divisible by ``2 ** depth`` (other sizes are handled by padding the upsampled maps).

>>> import mytorch.core as mt
>>> model = UNet(in_channels=1, num_classes=2, depth=2, base_channels=8)
>>> model(mt.randn(2, 1, 16, 16)).shape
(2, 2, 16, 16)
"""

from __future__ import annotations

from mytorch import nn
from mytorch.core import cat
from mytorch.core.tensor import Tensor
from mytorch.nn import functional as F

__all__ = ["DoubleConv", "Down", "OutConv", "UNet", "Up"]


class DoubleConv(nn.Module):
    """(3x3 conv -> BatchNorm -> ReLU) twice; the size is kept (padding 1)."""

    def __init__(self, in_channels: int, out_channels: int, mid_channels: int | None = None):
        super().__init__()
        mid_channels = mid_channels or out_channels
        self.double_conv = nn.Sequential(
            nn.Conv2d(in_channels, mid_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(mid_channels),
            nn.ReLU(),
            nn.Conv2d(mid_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.double_conv(x)


class Down(nn.Module):
    """2x2 max-pool, then ``DoubleConv``: halves the size."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.maxpool_conv = nn.Sequential(nn.MaxPool2d(2), DoubleConv(in_channels, out_channels))

    def forward(self, x: Tensor) -> Tensor:
        return self.maxpool_conv(x)


class Up(nn.Module):
    """Upsample 2x, concatenate the skip features, then ``DoubleConv``.

    With ``bilinear=False`` a ``ConvTranspose2d`` halves the channels while upsampling; with
    ``bilinear=True`` the (parameter-free) upsampling keeps them and the ``DoubleConv``
    reduces them (its middle layer has ``in_channels // 2`` channels).
    """

    def __init__(self, in_channels: int, out_channels: int, bilinear: bool = False) -> None:
        super().__init__()
        if bilinear:
            self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
            self.conv = DoubleConv(in_channels, out_channels, in_channels // 2)
        else:
            self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, kernel_size=2, stride=2)
            self.conv = DoubleConv(in_channels, out_channels)

    def forward(self, x: Tensor, skip: Tensor) -> Tensor:
        x = self.up(x)  # (B, C', 2h, 2w)
        diff_y = skip.shape[2] - x.shape[2]
        diff_x = skip.shape[3] - x.shape[3]
        if diff_y or diff_x:  # odd sizes: pad up to the skip's size
            x = F.pad(x, [diff_x // 2, diff_x - diff_x // 2, diff_y // 2, diff_y - diff_y // 2])
        return self.conv(cat([skip, x], dim=1))  # (B, out_channels, H, W)


class OutConv(nn.Module):
    """1x1 convolution to the class scores."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=1)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(x)


class UNet(nn.Module):
    """U-Net with ``depth`` down- and up-sampling steps.

    Args:
        in_channels: image channels.
        num_classes: score maps in the output (B, num_classes, H, W).
        depth: number of 2x downsamplings (4 in the paper).
        base_channels: channels of the first level; each level below doubles them.
        bilinear: upsample bilinearly instead of with transposed convolutions (the
            bottom level then has half the channels, as the skips do).
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 2,
        depth: int = 4,
        base_channels: int = 64,
        bilinear: bool = False,
    ) -> None:
        super().__init__()
        if depth < 1:
            raise ValueError(f"UNet: depth must be at least 1, got {depth}")
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.depth = depth
        self.bilinear = bilinear
        factor = 2 if bilinear else 1
        widths = [base_channels * 2**i for i in range(depth + 1)]  # channels per level

        self.inc = DoubleConv(in_channels, widths[0])
        self.downs = nn.ModuleList()
        for level in range(1, depth + 1):
            out = widths[level] // factor if level == depth else widths[level]
            self.downs.append(Down(widths[level - 1], out))
        self.ups = nn.ModuleList()
        for level in range(depth, 0, -1):
            out = widths[level - 1] if level == 1 else widths[level - 1] // factor
            self.ups.append(Up(widths[level], out, bilinear))
        self.outc = OutConv(widths[0], num_classes)

    def forward(self, x: Tensor) -> Tensor:
        skips = [self.inc(x)]  # (B, c0, H, W)
        for down in self.downs:
            skips.append(down(skips[-1]))  # (B, c_l, H / 2^l, W / 2^l)
        x = skips.pop()  # the bottom level
        for up in self.ups:
            x = up(x, skips.pop())  # back up one level
        return self.outc(x)  # (B, num_classes, H, W)
