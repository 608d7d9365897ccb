"""MobileNetV2 (Sandler et al., 2018) with torchvision's layout and state_dict keys.

``features``: a 3x3 stride-2 ``Conv2dNormActivation`` stem, 17 ``InvertedResidual`` blocks
(1x1 expansion -> 3x3 depthwise -> linear 1x1 projection, in ``.conv``) and a 1x1
``Conv2dNormActivation`` to 1280 channels; ``classifier``: ``Dropout(0.2)`` + ``Linear``.
3,504,872 parameters for 1000 classes at ``width_mult=1.0``.

>>> import mytorch.core as mt
>>> model = mobilenet_v2(num_classes=10, width_mult=0.5)
>>> model(mt.randn(2, 3, 32, 32)).shape
(2, 10)
"""

from __future__ import annotations

from typing import Any

from mytorch import nn
from mytorch.core.tensor import Tensor
from mytorch.nn import functional as F
from mytorch.vision.models._api import check_no_weights
from mytorch.vision.models.layers import Conv2dNormActivation, _init_conv_bn_, make_divisible

__all__ = ["InvertedResidual", "MobileNetV2", "mobilenet_v2"]


class InvertedResidual(nn.Module):
    """Expand (1x1) -> depthwise 3x3 -> linear projection (1x1); residual when shapes match."""

    def __init__(self, inp: int, oup: int, stride: int, expand_ratio: int) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride should be 1 or 2 instead of {stride}")
        self.stride = stride
        hidden_dim = int(round(inp * expand_ratio))
        self.use_res_connect = stride == 1 and inp == oup

        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(
                Conv2dNormActivation(inp, hidden_dim, kernel_size=1, activation_layer=nn.ReLU6)
            )
        layers += [
            Conv2dNormActivation(
                hidden_dim, hidden_dim, stride=stride, groups=hidden_dim, activation_layer=nn.ReLU6
            ),
            nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False),
            nn.BatchNorm2d(oup),
        ]
        self.conv = nn.Sequential(*layers)
        self.out_channels = oup

    def forward(self, x: Tensor) -> Tensor:
        if self.use_res_connect:
            return x + self.conv(x)
        return self.conv(x)


class MobileNetV2(nn.Module):
    """MobileNetV2.

    Args:
        num_classes: outputs of the classifier.
        width_mult: scales every layer's channels (rounded to multiples of ``round_nearest``).
        inverted_residual_setting: rows ``[t, c, n, s]`` (expansion, channels, repeats,
            first stride); the paper's table by default.
        round_nearest: channel counts are rounded to multiples of this.
        dropout: dropout probability before the classifier.
    """

    def __init__(
        self,
        num_classes: int = 1000,
        width_mult: float = 1.0,
        inverted_residual_setting: list[list[int]] | None = None,
        round_nearest: int = 8,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        input_channel = 32
        last_channel = 1280
        if inverted_residual_setting is None:
            inverted_residual_setting = [
                # t, c, n, s
                [1, 16, 1, 1],
                [6, 24, 2, 2],
                [6, 32, 3, 2],
                [6, 64, 4, 2],
                [6, 96, 3, 1],
                [6, 160, 3, 2],
                [6, 320, 1, 1],
            ]
        if len(inverted_residual_setting) == 0 or len(inverted_residual_setting[0]) != 4:
            raise ValueError(
                "inverted_residual_setting should be non-empty and a 4-element list, "
                f"got {inverted_residual_setting}"
            )

        input_channel = make_divisible(input_channel * width_mult, round_nearest)
        self.last_channel = make_divisible(last_channel * max(1.0, width_mult), round_nearest)
        features: list[nn.Module] = [
            Conv2dNormActivation(3, input_channel, stride=2, activation_layer=nn.ReLU6)
        ]
        for t, c, n, s in inverted_residual_setting:
            output_channel = make_divisible(c * width_mult, round_nearest)
            for i in range(n):
                stride = s if i == 0 else 1
                features.append(InvertedResidual(input_channel, output_channel, stride, t))
                input_channel = output_channel
        features.append(
            Conv2dNormActivation(
                input_channel, self.last_channel, kernel_size=1, activation_layer=nn.ReLU6
            )
        )
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(self.last_channel, num_classes),
        )

        for m in self.modules():
            if _init_conv_bn_(m):
                continue
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)  # (B, last_channel, H/32, W/32)
        x = F.adaptive_avg_pool2d(x, (1, 1)).flatten(1)  # (B, last_channel)
        return self.classifier(x)  # (B, num_classes)


def mobilenet_v2(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> MobileNetV2:
    """MobileNetV2; keyword arguments go to ``MobileNetV2`` (``num_classes``, ``width_mult``...)."""
    check_no_weights(weights)
    return MobileNetV2(**kwargs)
