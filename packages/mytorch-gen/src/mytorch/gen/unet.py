"""A small time-conditioned U-Net for epsilon prediction in diffusion models (28x28 images).

``sinusoidal_embedding(t, dim)`` encodes the timestep as in the Transformer / DDPM papers; an
MLP turns it into the vector each residual block adds (per channel) after its first conv.
Residual blocks are GroupNorm-SiLU-conv3x3 twice, with a 1x1 skip when the width changes. The
encoder has one block per level and a stride-2 conv between levels; the decoder upsamples
(a 3x3 conv, then nearest 2x), concatenates the encoder features of the same size and applies a
block. (mytorch-vision's ``UNet`` blocks use BatchNorm and take no time input, so the blocks
here are their time-conditioned GroupNorm counterparts.)

>>> import mytorch.core as mt
>>> net = TimeUNet(base_channels=8, channel_mults=(1, 2))
>>> net(mt.randn(2, 1, 28, 28), mt.tensor([0, 999])).shape
(2, 1, 28, 28)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import mytorch.core as mt
import mytorch.core.functional as F
import mytorch.nn as nn
from mytorch.core import Tensor

__all__ = ["ResBlock", "TimeUNet", "sinusoidal_embedding"]


def sinusoidal_embedding(t: Tensor, dim: int, max_period: float = 10_000.0) -> Tensor:
    """(B,) timesteps -> (B, dim) features ``[sin(t * f_i), cos(t * f_i)]`` with frequencies
    ``f_i = max_period ** (-i / (dim / 2))``, i = 0 .. dim/2 - 1."""
    if dim % 2:
        raise ValueError(f"sinusoidal_embedding: dim must be even, got {dim}")
    if t.ndim != 1:
        raise ValueError(f"sinusoidal_embedding: t must be 1-D (B,), got {tuple(t.shape)}")
    half = dim // 2
    freqs = mt.exp(mt.arange(half, dtype=mt.float32) * (-math.log(max_period) / half))  # (half,)
    args = t.float().unsqueeze(1) * freqs.unsqueeze(0)  # (B, half)
    return mt.cat([args.sin(), args.cos()], dim=1)  # (B, dim)


def _groups(channels: int) -> int:
    return math.gcd(channels, 8)  # up to 8 groups that divide the channels


class ResBlock(nn.Module):
    """x (B, C_in, H, W), temb (B, T) -> (B, C_out, H, W)."""

    def __init__(self, in_channels: int, out_channels: int, time_dim: int) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(_groups(in_channels), in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.time = nn.Linear(time_dim, out_channels)
        self.norm2 = nn.GroupNorm(_groups(out_channels), out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        if in_channels != out_channels:
            self.skip = nn.Conv2d(in_channels, out_channels, 1)
        else:
            self.skip = nn.Identity()

    def forward(self, x: Tensor, temb: Tensor) -> Tensor:
        h = self.conv1(F.silu(self.norm1(x)))  # (B, C_out, H, W)
        h = h + self.time(F.silu(temb)).unsqueeze(-1).unsqueeze(-1)  # + (B, C_out, 1, 1)
        h = self.conv2(F.silu(self.norm2(h)))
        return h + self.skip(x)


class TimeUNet(nn.Module):
    """eps_theta(x_t, t): (B, C, H, W), (B,) int timesteps -> (B, C, H, W).

    Args:
        in_channels: image channels.
        base_channels: width of the first level.
        channel_mults: width of each level as a multiple of ``base_channels``; one 2x
            downsampling between consecutive levels (H and W must be divisible by
            2 ** (len - 1)).
        time_dim: width of the time embedding MLP.
    """

    def __init__(
        self,
        in_channels: int = 1,
        base_channels: int = 32,
        channel_mults: Sequence[int] = (1, 2, 2),
        time_dim: int = 128,
    ) -> None:
        super().__init__()
        widths = [base_channels * m for m in channel_mults]
        self.base_channels = base_channels
        self.levels = len(widths)
        self.time_mlp = nn.Sequential(
            nn.Linear(base_channels, time_dim), nn.SiLU(), nn.Linear(time_dim, time_dim)
        )
        self.conv_in = nn.Conv2d(in_channels, widths[0], 3, padding=1)
        self.down_blocks = nn.ModuleList()
        self.downsamples = nn.ModuleList()
        prev = widths[0]
        for i, w in enumerate(widths):
            self.down_blocks.append(ResBlock(prev, w, time_dim))
            prev = w
            if i < len(widths) - 1:
                self.downsamples.append(nn.Conv2d(w, w, 3, stride=2, padding=1))
        self.mid = ResBlock(prev, prev, time_dim)
        self.upsamples = nn.ModuleList()
        self.up_blocks = nn.ModuleList()
        for i in range(len(widths) - 1, -1, -1):
            if i < len(widths) - 1:
                self.upsamples.append(
                    nn.Sequential(  # the conv runs at the lower resolution: 4x cheaper
                        nn.Conv2d(prev, prev, 3, padding=1),
                        nn.Upsample(scale_factor=2, mode="nearest"),
                    )
                )
            self.up_blocks.append(ResBlock(prev + widths[i], widths[i], time_dim))
            prev = widths[i]
        self.norm_out = nn.GroupNorm(_groups(prev), prev)
        self.conv_out = nn.Conv2d(prev, in_channels, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)  # start by predicting eps = 0
        nn.init.zeros_(self.conv_out.bias)

    def forward(self, x: Tensor, t: Tensor) -> Tensor:
        factor = 2 ** (self.levels - 1)
        if x.ndim != 4 or x.shape[2] % factor or x.shape[3] % factor:
            raise ValueError(
                f"TimeUNet: expected (B, C, H, W) with H, W divisible by {factor}, got "
                f"{tuple(x.shape)}"
            )
        if tuple(t.shape) != (x.shape[0],):
            raise ValueError(f"TimeUNet: t must have shape ({x.shape[0]},), got {tuple(t.shape)}")
        temb = self.time_mlp(sinusoidal_embedding(t, self.base_channels))  # (B, time_dim)
        h = self.conv_in(x)  # (B, w0, H, W)
        skips = []
        for i, block in enumerate(self.down_blocks):
            h = block(h, temb)  # (B, w_i, H / 2^i, W / 2^i)
            skips.append(h)
            if i < len(self.downsamples):
                h = self.downsamples[i](h)
        h = self.mid(h, temb)
        for j, block in enumerate(self.up_blocks):
            if j > 0:
                h = self.upsamples[j - 1](h)  # up one level
            h = block(mt.cat([h, skips.pop()], dim=1), temb)
        return self.conv_out(F.silu(self.norm_out(h)))
