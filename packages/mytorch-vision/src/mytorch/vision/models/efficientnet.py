"""EfficientNet-B0..B7 (Tan & Le, 2019) with torchvision's layout and state_dict keys.

``features``: a 3x3 stride-2 stem, seven stages of ``MBConv`` blocks and a 1x1 head
convolution (all ``Conv2dNormActivation`` with SiLU); ``avgpool``; ``classifier``:
``Dropout`` + ``Linear``. An ``MBConv`` block (in ``.block``) is: 1x1 expansion (skipped when
the expansion ratio is 1) -> depthwise kxk -> ``SqueezeExcitation`` (SiLU, sigmoid) -> linear
1x1 projection, with a residual connection through ``StochasticDepth`` (mode ``"row"``, drop
probability growing linearly with the block index up to ``stochastic_depth_prob``; identity
in eval mode). EfficientNet-B0 has 5,288,548 parameters (1000 classes).

>>> import mytorch.core as mt
>>> efficientnet_b0(num_classes=10)(mt.randn(2, 3, 32, 32)).shape
(2, 10)
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from mytorch import nn
from mytorch.core.tensor import Tensor
from mytorch.vision.models._api import check_no_weights
from mytorch.vision.models.attention import SqueezeExcitation
from mytorch.vision.models.layers import (
    Conv2dNormActivation,
    StochasticDepth,
    _init_conv_bn_,
    make_divisible,
)

__all__ = [
    "EfficientNet",
    "MBConv",
    "MBConvConfig",
    "efficientnet_b0",
    "efficientnet_b1",
    "efficientnet_b2",
    "efficientnet_b3",
    "efficientnet_b4",
    "efficientnet_b5",
    "efficientnet_b6",
    "efficientnet_b7",
]


@dataclass
class MBConvConfig:
    """One stage: expansion ratio, kernel, first stride, channels in/out and block count.

    ``width_mult`` scales the channels (rounded to multiples of 8) and ``depth_mult`` the
    number of blocks (rounded up), as EfficientNet's compound scaling does.
    """

    expand_ratio: float
    kernel: int
    stride: int
    input_channels: int
    out_channels: int
    num_layers: int

    @staticmethod
    def adjust_channels(channels: int, width_mult: float, min_value: int | None = None) -> int:
        return make_divisible(channels * width_mult, 8, min_value)

    @classmethod
    def scaled(
        cls,
        expand_ratio: float,
        kernel: int,
        stride: int,
        input_channels: int,
        out_channels: int,
        num_layers: int,
        width_mult: float = 1.0,
        depth_mult: float = 1.0,
    ) -> MBConvConfig:
        return cls(
            expand_ratio,
            kernel,
            stride,
            cls.adjust_channels(input_channels, width_mult),
            cls.adjust_channels(out_channels, width_mult),
            int(math.ceil(num_layers * depth_mult)),
        )


class MBConv(nn.Module):
    """Mobile inverted bottleneck with squeeze-and-excitation (see the module docstring)."""

    def __init__(
        self,
        cnf: MBConvConfig,
        stochastic_depth_prob: float,
        norm_layer: Callable[..., nn.Module],
    ) -> None:
        super().__init__()
        if not (1 <= cnf.stride <= 2):
            raise ValueError("illegal stride value")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels

        layers: list[nn.Module] = []
        expanded_channels = cnf.adjust_channels(cnf.input_channels, cnf.expand_ratio)
        if expanded_channels != cnf.input_channels:  # expand
            layers.append(
                Conv2dNormActivation(
                    cnf.input_channels,
                    expanded_channels,
                    kernel_size=1,
                    norm_layer=norm_layer,
                    activation_layer=nn.SiLU,
                )
            )
        layers.append(  # depthwise
            Conv2dNormActivation(
                expanded_channels,
                expanded_channels,
                kernel_size=cnf.kernel,
                stride=cnf.stride,
                groups=expanded_channels,
                norm_layer=norm_layer,
                activation_layer=nn.SiLU,
            )
        )
        squeeze_channels = max(1, cnf.input_channels // 4)
        layers.append(SqueezeExcitation(expanded_channels, squeeze_channels, activation=nn.SiLU))
        layers.append(  # project
            Conv2dNormActivation(
                expanded_channels,
                cnf.out_channels,
                kernel_size=1,
                norm_layer=norm_layer,
                activation_layer=None,
            )
        )
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")
        self.out_channels = cnf.out_channels

    def forward(self, input: Tensor) -> Tensor:
        result = self.block(input)  # (B, out, H/stride, W/stride)
        if self.use_res_connect:
            result = self.stochastic_depth(result) + input
        return result


class EfficientNet(nn.Module):
    """EfficientNet from a list of stage configurations.

    Args:
        inverted_residual_setting: one ``MBConvConfig`` per stage.
        dropout: dropout probability before the classifier.
        stochastic_depth_prob: the drop probability that the last block approaches.
        num_classes: outputs of the classifier.
        norm_layer: normalization layer class (``BatchNorm2d`` by default).
        last_channel: channels of the head convolution (4x the last stage's by default).
    """

    def __init__(
        self,
        inverted_residual_setting: list[MBConvConfig],
        dropout: float,
        stochastic_depth_prob: float = 0.2,
        num_classes: int = 1000,
        norm_layer: Callable[..., nn.Module] | None = None,
        last_channel: int | None = None,
    ) -> None:
        super().__init__()
        if not inverted_residual_setting:
            raise ValueError("The inverted_residual_setting should not be empty")
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d

        firstconv_output_channels = inverted_residual_setting[0].input_channels
        layers: list[nn.Module] = [
            Conv2dNormActivation(
                3,
                firstconv_output_channels,
                kernel_size=3,
                stride=2,
                norm_layer=norm_layer,
                activation_layer=nn.SiLU,
            )
        ]

        total_stage_blocks = sum(cnf.num_layers for cnf in inverted_residual_setting)
        stage_block_id = 0
        for cnf in inverted_residual_setting:
            stage: list[nn.Module] = []
            for _ in range(cnf.num_layers):
                block_cnf = copy.copy(cnf)
                if stage:  # later blocks of a stage keep the size and channels
                    block_cnf.input_channels = block_cnf.out_channels
                    block_cnf.stride = 1
                sd_prob = stochastic_depth_prob * float(stage_block_id) / total_stage_blocks
                stage.append(MBConv(block_cnf, sd_prob, norm_layer))
                stage_block_id += 1
            layers.append(nn.Sequential(*stage))

        lastconv_input_channels = inverted_residual_setting[-1].out_channels
        lastconv_output_channels = (
            last_channel if last_channel is not None else 4 * lastconv_input_channels
        )
        layers.append(
            Conv2dNormActivation(
                lastconv_input_channels,
                lastconv_output_channels,
                kernel_size=1,
                norm_layer=norm_layer,
                activation_layer=nn.SiLU,
            )
        )
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(lastconv_output_channels, num_classes),
        )

        for m in self.modules():
            if _init_conv_bn_(m):
                continue
            if isinstance(m, nn.Linear):
                init_range = 1.0 / math.sqrt(m.out_features)
                nn.init.uniform_(m.weight, -init_range, init_range)
                nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)  # (B, C, H/32, W/32)
        x = self.avgpool(x).flatten(1)  # (B, C)
        return self.classifier(x)  # (B, num_classes)


def _efficientnet_conf(width_mult: float, depth_mult: float) -> list[MBConvConfig]:
    bneck = partial(MBConvConfig.scaled, width_mult=width_mult, depth_mult=depth_mult)
    return [
        # expand, kernel, stride, in, out, layers
        bneck(1, 3, 1, 32, 16, 1),
        bneck(6, 3, 2, 16, 24, 2),
        bneck(6, 5, 2, 24, 40, 2),
        bneck(6, 3, 2, 40, 80, 3),
        bneck(6, 5, 1, 80, 112, 3),
        bneck(6, 5, 2, 112, 192, 4),
        bneck(6, 3, 1, 192, 320, 1),
    ]


def _efficientnet(
    weights: Any, width_mult: float, depth_mult: float, dropout: float, **kwargs: Any
) -> EfficientNet:
    check_no_weights(weights)
    kwargs.setdefault("dropout", dropout)
    return EfficientNet(_efficientnet_conf(width_mult, depth_mult), **kwargs)


def _bn_b5_b7() -> Callable[..., nn.Module]:
    return partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)


def efficientnet_b0(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> EfficientNet:
    """EfficientNet-B0 (224x224 nominal input): 5,288,548 parameters for 1000 classes."""
    return _efficientnet(weights, 1.0, 1.0, 0.2, **kwargs)


def efficientnet_b1(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> EfficientNet:
    """EfficientNet-B1 (width 1.0, depth 1.1, dropout 0.2)."""
    return _efficientnet(weights, 1.0, 1.1, 0.2, **kwargs)


def efficientnet_b2(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> EfficientNet:
    """EfficientNet-B2 (width 1.1, depth 1.2, dropout 0.3)."""
    return _efficientnet(weights, 1.1, 1.2, 0.3, **kwargs)


def efficientnet_b3(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> EfficientNet:
    """EfficientNet-B3 (width 1.2, depth 1.4, dropout 0.3)."""
    return _efficientnet(weights, 1.2, 1.4, 0.3, **kwargs)


def efficientnet_b4(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> EfficientNet:
    """EfficientNet-B4 (width 1.4, depth 1.8, dropout 0.4)."""
    return _efficientnet(weights, 1.4, 1.8, 0.4, **kwargs)


def efficientnet_b5(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> EfficientNet:
    """EfficientNet-B5 (width 1.6, depth 2.2, dropout 0.4; BatchNorm eps 1e-3, momentum 0.01)."""
    kwargs.setdefault("norm_layer", _bn_b5_b7())
    return _efficientnet(weights, 1.6, 2.2, 0.4, **kwargs)


def efficientnet_b6(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> EfficientNet:
    """EfficientNet-B6 (width 1.8, depth 2.6, dropout 0.5; BatchNorm eps 1e-3, momentum 0.01)."""
    kwargs.setdefault("norm_layer", _bn_b5_b7())
    return _efficientnet(weights, 1.8, 2.6, 0.5, **kwargs)


def efficientnet_b7(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> EfficientNet:
    """EfficientNet-B7 (width 2.0, depth 3.1, dropout 0.5; BatchNorm eps 1e-3, momentum 0.01)."""
    kwargs.setdefault("norm_layer", _bn_b5_b7())
    return _efficientnet(weights, 2.0, 3.1, 0.5, **kwargs)
