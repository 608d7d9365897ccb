"""CIFAR ResNets (He et al., 2016, section 4.2): ResNet-20/32/44/56/110.

A 3x3 convolution with 16 filters, then three stages of ``n`` BasicBlocks with 16, 32 and 64
filters (the first block of stages 2 and 3 halves the feature map), global average pooling
and a linear classifier: ``6n + 2`` layers. Shortcuts are parameter-free ("option A"): when a
block downsamples, the identity is subsampled with stride 2 and zero-padded to the new number
of channels. ResNet-20 has 269,722 parameters (10 classes), ResNet-56 853,018.

>>> import mytorch.core as mt
>>> model = resnet20()
>>> model(mt.randn(2, 3, 32, 32)).shape
(2, 10)
"""

from __future__ import annotations

from typing import Any

from mytorch import nn
from mytorch.core.tensor import Tensor
from mytorch.nn import functional as F
from mytorch.vision.models._api import check_no_weights

__all__ = [
    "CifarBasicBlock",
    "CifarResNet",
    "PadShortcut",
    "resnet20",
    "resnet32",
    "resnet44",
    "resnet56",
    "resnet110",
]


class PadShortcut(nn.Module):
    """Option-A shortcut: take every ``stride``-th pixel, zero-pad the channels up to ``planes``."""

    def __init__(self, in_planes: int, planes: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        self.pad_front = (planes - in_planes) // 2
        self.pad_back = planes - in_planes - self.pad_front

    def forward(self, x: Tensor) -> Tensor:
        x = x[:, :, :: self.stride, :: self.stride]  # (B, in_planes, H/s, W/s)
        return F.pad(x, (0, 0, 0, 0, self.pad_front, self.pad_back))  # (B, planes, H/s, W/s)

    def extra_repr(self) -> str:
        return f"stride={self.stride}, pad=({self.pad_front}, {self.pad_back})"


class CifarBasicBlock(nn.Module):
    """Two 3x3 conv-BN layers with a parameter-free shortcut (``downsample`` when shapes change)."""

    expansion: int = 1

    def __init__(self, in_planes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or in_planes != planes:
            self.downsample = PadShortcut(in_planes, planes, stride)

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))  # (B, planes, H/stride, W/stride)
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class CifarResNet(nn.Module):
    """``conv1`` -> ``bn1`` -> ``relu`` -> ``layer1``..``layer3`` -> ``avgpool`` -> ``fc``.

    Args:
        num_blocks: blocks per stage (``n``; depth ``6n + 2``).
        num_classes: outputs of ``fc``.
        in_channels: image channels.
    """

    def __init__(self, num_blocks: int, num_classes: int = 10, in_channels: int = 3) -> None:
        super().__init__()
        self.in_planes = 16
        self.conv1 = nn.Conv2d(in_channels, 16, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU()
        self.layer1 = self._make_layer(16, num_blocks, stride=1)
        self.layer2 = self._make_layer(32, num_blocks, stride=2)
        self.layer3 = self._make_layer(64, num_blocks, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(64, num_classes)

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def _make_layer(self, planes: int, blocks: int, stride: int) -> nn.Sequential:
        layers = []
        for s in [stride] + [1] * (blocks - 1):
            layers.append(CifarBasicBlock(self.in_planes, planes, s))
            self.in_planes = planes
        return nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        x = self.relu(self.bn1(self.conv1(x)))  # (B, 16, 32, 32)
        x = self.layer1(x)  # (B, 16, 32, 32)
        x = self.layer2(x)  # (B, 32, 16, 16)
        x = self.layer3(x)  # (B, 64, 8, 8)
        x = self.avgpool(x).flatten(1)  # (B, 64)
        return self.fc(x)  # (B, num_classes)


def _cifar_resnet(num_blocks: int, weights: Any, **kwargs: Any) -> CifarResNet:
    check_no_weights(weights)
    return CifarResNet(num_blocks, **kwargs)


def resnet20(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> CifarResNet:
    """CIFAR ResNet-20 (n = 3): 269,722 parameters for 10 classes."""
    return _cifar_resnet(3, weights, **kwargs)


def resnet32(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> CifarResNet:
    """CIFAR ResNet-32 (n = 5)."""
    return _cifar_resnet(5, weights, **kwargs)


def resnet44(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> CifarResNet:
    """CIFAR ResNet-44 (n = 7)."""
    return _cifar_resnet(7, weights, **kwargs)


def resnet56(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> CifarResNet:
    """CIFAR ResNet-56 (n = 9): 853,018 parameters for 10 classes."""
    return _cifar_resnet(9, weights, **kwargs)


def resnet110(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> CifarResNet:
    """CIFAR ResNet-110 (n = 18)."""
    return _cifar_resnet(18, weights, **kwargs)
