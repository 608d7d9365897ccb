"""ShuffleNetV2 (Ma et al., 2018) with torchvision's layout and state_dict keys.

``conv1`` (3x3 stride 2) -> ``maxpool`` -> ``stage2``..``stage4`` of ``InvertedResidual``
units -> ``conv5`` (1x1) -> global average -> ``fc``. A unit splits its channels in two (or,
when downsampling, feeds the whole input to both ``branch1`` and ``branch2``), concatenates
the halves and shuffles the channels across them. x1.0 has 2,278,604 parameters, x0.5
1,366,792 (1000 classes).

>>> import mytorch.core as mt
>>> shufflenet_v2_x0_5(num_classes=10)(mt.randn(2, 3, 64, 64)).shape
(2, 10)
"""

from __future__ import annotations

from typing import Any

from mytorch import nn
from mytorch.core import cat
from mytorch.core.tensor import Tensor
from mytorch.vision.models._api import check_no_weights

__all__ = [
    "InvertedResidual",
    "ShuffleNetV2",
    "channel_shuffle",
    "shufflenet_v2_x0_5",
    "shufflenet_v2_x1_0",
    "shufflenet_v2_x1_5",
    "shufflenet_v2_x2_0",
]


def channel_shuffle(x: Tensor, groups: int) -> Tensor:
    """Interleave the channels of ``groups`` groups: (g, C/g) -> (C/g, g) channel order.

    >>> import mytorch.core as mt
    >>> channel_shuffle(mt.arange(6.0).reshape(1, 6, 1, 1), 2).flatten().tolist()
    [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
    """
    batch, channels, height, width = x.shape
    x = x.reshape(batch, groups, channels // groups, height, width)  # (B, g, C/g, H, W)
    x = x.transpose(1, 2)  # (B, C/g, g, H, W)
    return x.reshape(batch, channels, height, width)


def _depthwise_conv(
    i: int, o: int, kernel_size: int, stride: int = 1, padding: int = 0, bias: bool = False
) -> nn.Conv2d:
    return nn.Conv2d(i, o, kernel_size, stride, padding, bias=bias, groups=i)


class InvertedResidual(nn.Module):
    """A ShuffleNetV2 unit: ``stride=1`` passes half the channels through unchanged."""

    def __init__(self, inp: int, oup: int, stride: int) -> None:
        super().__init__()
        if not (1 <= stride <= 3):
            raise ValueError("illegal stride value")
        self.stride = stride
        branch_features = oup // 2
        if stride == 1 and inp != branch_features << 1:
            raise ValueError(
                f"Invalid combination of stride {stride}, inp {inp} and oup {oup} values. "
                "If stride == 1 then inp should be equal to oup // 2 << 1."
            )

        if stride > 1:
            self.branch1 = nn.Sequential(
                _depthwise_conv(inp, inp, kernel_size=3, stride=stride, padding=1),
                nn.BatchNorm2d(inp),
                nn.Conv2d(inp, branch_features, kernel_size=1, stride=1, padding=0, bias=False),
                nn.BatchNorm2d(branch_features),
                nn.ReLU(),
            )
        else:
            self.branch1 = nn.Sequential()

        self.branch2 = nn.Sequential(
            nn.Conv2d(
                inp if stride > 1 else branch_features,
                branch_features,
                kernel_size=1,
                stride=1,
                padding=0,
                bias=False,
            ),
            nn.BatchNorm2d(branch_features),
            nn.ReLU(),
            _depthwise_conv(branch_features, branch_features, 3, stride=stride, padding=1),
            nn.BatchNorm2d(branch_features),
            nn.Conv2d(branch_features, branch_features, 1, stride=1, padding=0, bias=False),
            nn.BatchNorm2d(branch_features),
            nn.ReLU(),
        )

    def forward(self, x: Tensor) -> Tensor:
        if self.stride == 1:
            x1, x2 = x.chunk(2, dim=1)  # 2 x (B, C/2, H, W)
            out = cat([x1, self.branch2(x2)], dim=1)  # (B, C, H, W)
        else:
            out = cat([self.branch1(x), self.branch2(x)], dim=1)  # (B, oup, H/s, W/s)
        return channel_shuffle(out, 2)


class ShuffleNetV2(nn.Module):
    """ShuffleNetV2.

    Args:
        stages_repeats: units in ``stage2``, ``stage3``, ``stage4``.
        stages_out_channels: output channels of ``conv1``, the three stages and ``conv5``.
        num_classes: outputs of ``fc``.
    """

    def __init__(
        self, stages_repeats: list[int], stages_out_channels: list[int], num_classes: int = 1000
    ) -> None:
        super().__init__()
        if len(stages_repeats) != 3:
            raise ValueError("expected stages_repeats as list of 3 positive ints")
        if len(stages_out_channels) != 5:
            raise ValueError("expected stages_out_channels as list of 5 positive ints")
        self._stage_out_channels = stages_out_channels

        input_channels = 3
        output_channels = stages_out_channels[0]
        self.conv1 = nn.Sequential(
            nn.Conv2d(input_channels, output_channels, 3, 2, 1, bias=False),
            nn.BatchNorm2d(output_channels),
            nn.ReLU(),
        )
        input_channels = output_channels
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

        for name, repeats, output_channels in zip(
            ["stage2", "stage3", "stage4"], stages_repeats, stages_out_channels[1:]
        ):
            units = [InvertedResidual(input_channels, output_channels, 2)]
            for _ in range(repeats - 1):
                units.append(InvertedResidual(output_channels, output_channels, 1))
            setattr(self, name, nn.Sequential(*units))
            input_channels = output_channels

        output_channels = stages_out_channels[-1]
        self.conv5 = nn.Sequential(
            nn.Conv2d(input_channels, output_channels, 1, 1, 0, bias=False),
            nn.BatchNorm2d(output_channels),
            nn.ReLU(),
        )
        self.fc = nn.Linear(output_channels, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.conv1(x))  # (B, c0, H/4, W/4)
        x = self.stage2(x)  # (B, c1, H/8, W/8)
        x = self.stage3(x)  # (B, c2, H/16, W/16)
        x = self.stage4(x)  # (B, c3, H/32, W/32)
        x = self.conv5(x)  # (B, c4, H/32, W/32)
        x = x.mean((2, 3))  # (B, c4)
        return self.fc(x)  # (B, num_classes)


def _shufflenetv2(weights: Any, repeats: list[int], channels: list[int], **kwargs: Any):
    check_no_weights(weights)
    return ShuffleNetV2(repeats, channels, **kwargs)


def shufflenet_v2_x0_5(
    *, weights: Any = None, progress: bool = True, **kwargs: Any
) -> ShuffleNetV2:
    """ShuffleNetV2 with 0.5x output channels: 1,366,792 parameters for 1000 classes."""
    return _shufflenetv2(weights, [4, 8, 4], [24, 48, 96, 192, 1024], **kwargs)


def shufflenet_v2_x1_0(
    *, weights: Any = None, progress: bool = True, **kwargs: Any
) -> ShuffleNetV2:
    """ShuffleNetV2 with 1.0x output channels: 2,278,604 parameters for 1000 classes."""
    return _shufflenetv2(weights, [4, 8, 4], [24, 116, 232, 464, 1024], **kwargs)


def shufflenet_v2_x1_5(
    *, weights: Any = None, progress: bool = True, **kwargs: Any
) -> ShuffleNetV2:
    """ShuffleNetV2 with 1.5x output channels."""
    return _shufflenetv2(weights, [4, 8, 4], [24, 176, 352, 704, 1024], **kwargs)


def shufflenet_v2_x2_0(
    *, weights: Any = None, progress: bool = True, **kwargs: Any
) -> ShuffleNetV2:
    """ShuffleNetV2 with 2.0x output channels."""
    return _shufflenetv2(weights, [4, 8, 4], [24, 244, 488, 976, 2048], **kwargs)
