"""Channel and spatial attention: Squeeze-and-Excitation and CBAM.

``SqueezeExcitation`` follows torchvision.ops (``fc1``/``fc2`` are 1x1 convolutions with bias),
so EfficientNet's keys match torchvision's. ``CBAM`` (Woo et al., 2018) refines features with
channel attention (a shared MLP over average- and max-pooled descriptors) followed by spatial
attention (a 7x7 convolution over the channel-wise average and max maps).

>>> import mytorch.core as mt
>>> x = mt.randn(2, 32, 8, 8)
>>> SqueezeExcitation(32, 8)(x).shape, CBAM(32)(x).shape
((2, 32, 8, 8), (2, 32, 8, 8))
"""

from __future__ import annotations

from collections.abc import Callable

from mytorch import nn
from mytorch.core import cat
from mytorch.core.tensor import Tensor

__all__ = ["CBAM", "ChannelAttention", "SpatialAttention", "SqueezeExcitation"]


class SqueezeExcitation(nn.Module):
    """``x * scale_activation(fc2(activation(fc1(avgpool(x)))))`` (Hu et al., 2018)."""

    def __init__(
        self,
        input_channels: int,
        squeeze_channels: int,
        activation: Callable[..., nn.Module] = nn.ReLU,
        scale_activation: Callable[..., nn.Module] = nn.Sigmoid,
    ) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation = activation()
        self.scale_activation = scale_activation()

    def _scale(self, input: Tensor) -> Tensor:
        scale = self.avgpool(input)  # (B, C, 1, 1)
        scale = self.activation(self.fc1(scale))  # (B, squeeze, 1, 1)
        return self.scale_activation(self.fc2(scale))  # (B, C, 1, 1)

    def forward(self, input: Tensor) -> Tensor:
        return self._scale(input) * input


class ChannelAttention(nn.Module):
    """``x * sigmoid(mlp(avgpool(x)) + mlp(maxpool(x)))``, one MLP shared by both pools."""

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        hidden = max(1, channels // reduction)
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.max_pool = nn.AdaptiveMaxPool2d(1)
        self.mlp = nn.Sequential(
            nn.Conv2d(channels, hidden, 1, bias=False),
            nn.ReLU(),
            nn.Conv2d(hidden, channels, 1, bias=False),
        )
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: Tensor) -> Tensor:
        avg = self.mlp(self.avg_pool(x))  # (B, C, 1, 1)
        mx = self.mlp(self.max_pool(x))  # (B, C, 1, 1)
        return x * self.sigmoid(avg + mx)


class SpatialAttention(nn.Module):
    """``x * sigmoid(conv([mean_c(x), max_c(x)]))`` with a ``kernel_size`` convolution."""

    def __init__(self, kernel_size: int = 7) -> None:
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"SpatialAttention: kernel_size must be odd, got {kernel_size}")
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: Tensor) -> Tensor:
        avg = x.mean(dim=1, keepdim=True)  # (B, 1, H, W)
        mx = x.amax(dim=1, keepdim=True)  # (B, 1, H, W)
        return x * self.sigmoid(self.conv(cat([avg, mx], dim=1)))  # (B, C, H, W)


class CBAM(nn.Module):
    """Convolutional Block Attention Module: channel attention, then spatial attention."""

    def __init__(self, channels: int, reduction: int = 16, kernel_size: int = 7) -> None:
        super().__init__()
        self.channel_attention = ChannelAttention(channels, reduction)
        self.spatial_attention = SpatialAttention(kernel_size)

    def forward(self, x: Tensor) -> Tensor:
        return self.spatial_attention(self.channel_attention(x))
