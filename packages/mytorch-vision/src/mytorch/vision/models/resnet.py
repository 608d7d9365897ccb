"""ResNet-18/34/50 (He et al., 2015) with torchvision's layout and state_dict keys.

``conv1`` (7x7, stride 2) -> ``bn1`` -> ``relu`` -> ``maxpool`` -> ``layer1``..``layer4`` ->
``avgpool`` -> ``fc``; blocks are ``BasicBlock`` (ResNet-18/34) or ``Bottleneck``
(ResNet-50, stride on the 3x3 convolution as in torchvision's "v1.5"). A torchvision
state_dict loads without renaming.

Extras beyond torchvision: ``small_input=True`` swaps the stem for a 3x3 stride-1 convolution
and drops the max-pool (for 28x28 or 32x32 images), ``in_channels`` sets the input channels
(1 for MNIST), and ``block_attention="se"`` or ``"cbam"`` adds a Squeeze-and-Excitation or
CBAM module to every block, applied to the residual branch before the addition.

>>> import mytorch.core as mt
>>> model = resnet18(num_classes=10, small_input=True, in_channels=1)
>>> model(mt.randn(2, 1, 28, 28)).shape
(2, 10)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mytorch import nn
from mytorch.core.tensor import Tensor
from mytorch.vision.models._api import check_no_weights
from mytorch.vision.models.attention import CBAM, SqueezeExcitation

__all__ = [
    "BasicBlock",
    "Bottleneck",
    "ResNet",
    "cbam_resnet18",
    "resnet18",
    "resnet34",
    "resnet50",
    "se_resnet18",
]

AttentionLayer = Callable[[int], nn.Module]


def conv3x3(in_planes: int, out_planes: int, stride: int = 1, groups: int = 1) -> nn.Conv2d:
    """3x3 convolution with padding 1, no bias."""
    return nn.Conv2d(
        in_planes, out_planes, kernel_size=3, stride=stride, padding=1, groups=groups, bias=False
    )


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """1x1 convolution, no bias."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


def _se_layer(channels: int) -> nn.Module:
    return SqueezeExcitation(channels, max(1, channels // 16))


_ATTENTION: dict[str, AttentionLayer] = {"se": _se_layer, "cbam": CBAM}


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a residual connection: ``relu(bn2(conv2(...)) + x)``."""

    expansion: int = 1

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        attention_layer: AttentionLayer | None = None,
    ) -> None:
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        if attention_layer is not None:
            self.attention = attention_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))  # (B, planes, H/stride, W/stride)
        out = self.bn2(self.conv2(out))
        if "attention" in self._modules:
            out = self.attention(out)
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 reduce -> 3x3 (carries the stride) -> 1x1 expand (x4), plus the residual."""

    expansion: int = 4

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        attention_layer: AttentionLayer | None = None,
    ) -> None:
        super().__init__()
        width = planes
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU()
        if attention_layer is not None:
            self.attention = attention_layer(planes * self.expansion)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))  # (B, width, H, W)
        out = self.relu(self.bn2(self.conv2(out)))  # (B, width, H/stride, W/stride)
        out = self.bn3(self.conv3(out))  # (B, 4 * planes, H/stride, W/stride)
        if "attention" in self._modules:
            out = self.attention(out)
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu(out + identity)


class ResNet(nn.Module):
    """A residual network of ``block``s, ``layers[i]`` of them in stage ``i + 1``.

    Args:
        block: ``BasicBlock`` or ``Bottleneck``.
        layers: blocks per stage, e.g. ``[2, 2, 2, 2]`` for ResNet-18.
        num_classes: outputs of ``fc``.
        zero_init_residual: start each block's last BatchNorm at weight 0, so every residual
            branch is initially zero and each block the identity.
        small_input: 3x3 stride-1 ``conv1`` and no max-pool (``maxpool`` is ``Identity``),
            for 28x28/32x32 images.
        in_channels: image channels.
        block_attention: ``None``, ``"se"`` or ``"cbam"``: attention inside every block.
    """

    def __init__(
        self,
        block: type[BasicBlock] | type[Bottleneck],
        layers: list[int],
        num_classes: int = 1000,
        zero_init_residual: bool = False,
        *,
        small_input: bool = False,
        in_channels: int = 3,
        block_attention: str | None = None,
    ) -> None:
        super().__init__()
        if block_attention is not None and block_attention not in _ATTENTION:
            raise ValueError(
                f"ResNet: block_attention must be None, 'se' or 'cbam', got {block_attention!r}"
            )
        self._attention_layer = _ATTENTION.get(block_attention) if block_attention else None
        self.inplanes = 64
        if small_input:
            self.conv1 = nn.Conv2d(in_channels, 64, kernel_size=3, stride=1, padding=1, bias=False)
        else:
            self.conv1 = nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.maxpool = (
            nn.Identity() if small_input else nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        )
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck):
                    nn.init.constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock):
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(
        self, block: type[BasicBlock] | type[Bottleneck], planes: int, blocks: int, stride: int = 1
    ) -> nn.Sequential:
        """One stage; the first block may downsample (with a 1x1 conv + BN shortcut)."""
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                conv1x1(self.inplanes, planes * block.expansion, stride),
                nn.BatchNorm2d(planes * block.expansion),
            )
        layers = [block(self.inplanes, planes, stride, downsample, self._attention_layer)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, attention_layer=self._attention_layer))
        return nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))  # (B, 64, H/4, W/4)
        x = self.layer1(x)  # (B, 64 * e, H/4, W/4)
        x = self.layer2(x)  # (B, 128 * e, H/8, W/8)
        x = self.layer3(x)  # (B, 256 * e, H/16, W/16)
        x = self.layer4(x)  # (B, 512 * e, H/32, W/32)
        x = self.avgpool(x).flatten(1)  # (B, 512 * e)
        return self.fc(x)  # (B, num_classes)


def _resnet(block, layers: list[int], weights: Any, **kwargs: Any) -> ResNet:
    check_no_weights(weights)
    return ResNet(block, layers, **kwargs)


def resnet18(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> ResNet:
    """ResNet-18: BasicBlock x [2, 2, 2, 2], 11,689,512 parameters for 1000 classes."""
    return _resnet(BasicBlock, [2, 2, 2, 2], weights, **kwargs)


def resnet34(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> ResNet:
    """ResNet-34: BasicBlock x [3, 4, 6, 3], 21,797,672 parameters for 1000 classes."""
    return _resnet(BasicBlock, [3, 4, 6, 3], weights, **kwargs)


def resnet50(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> ResNet:
    """ResNet-50: Bottleneck x [3, 4, 6, 3], 25,557,032 parameters for 1000 classes."""
    return _resnet(Bottleneck, [3, 4, 6, 3], weights, **kwargs)


def se_resnet18(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> ResNet:
    """ResNet-18 with a Squeeze-and-Excitation module (reduction 16) in every block."""
    return _resnet(BasicBlock, [2, 2, 2, 2], weights, block_attention="se", **kwargs)


def cbam_resnet18(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> ResNet:
    """ResNet-18 with a CBAM module (reduction 16, 7x7 spatial kernel) in every block."""
    return _resnet(BasicBlock, [2, 2, 2, 2], weights, block_attention="cbam", **kwargs)
