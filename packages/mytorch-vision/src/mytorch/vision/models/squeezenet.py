"""SqueezeNet 1.0 and 1.1 (Iandola et al., 2016) with torchvision's layout and keys.

``features``: a strided convolution, max-pools (``ceil_mode=True``) and ``Fire`` modules (a 1x1
``squeeze`` convolution feeding parallel 1x1 and 3x3 ``expand`` convolutions whose outputs are
concatenated); ``classifier``: ``Dropout`` -> 1x1 convolution to ``num_classes`` -> ReLU ->
global average pool. 1.0 has 1,248,424 parameters, 1.1 1,235,496 (1000 classes).

>>> import mytorch.core as mt
>>> squeezenet1_1(num_classes=10)(mt.randn(2, 3, 64, 64)).shape
(2, 10)
"""

from __future__ import annotations

from typing import Any

from mytorch import nn
from mytorch.core import cat
from mytorch.core.tensor import Tensor
from mytorch.vision.models._api import check_no_weights

__all__ = ["Fire", "SqueezeNet", "squeezenet1_0", "squeezenet1_1"]


class Fire(nn.Module):
    """``cat([relu(expand1x1(s)), relu(expand3x3(s))])`` with ``s = relu(squeeze(x))``."""

    def __init__(
        self, inplanes: int, squeeze_planes: int, expand1x1_planes: int, expand3x3_planes: int
    ) -> None:
        super().__init__()
        self.inplanes = inplanes
        self.squeeze = nn.Conv2d(inplanes, squeeze_planes, kernel_size=1)
        self.squeeze_activation = nn.ReLU()
        self.expand1x1 = nn.Conv2d(squeeze_planes, expand1x1_planes, kernel_size=1)
        self.expand1x1_activation = nn.ReLU()
        self.expand3x3 = nn.Conv2d(squeeze_planes, expand3x3_planes, kernel_size=3, padding=1)
        self.expand3x3_activation = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        x = self.squeeze_activation(self.squeeze(x))  # (B, squeeze, H, W)
        return cat(
            [
                self.expand1x1_activation(self.expand1x1(x)),  # (B, e1, H, W)
                self.expand3x3_activation(self.expand3x3(x)),  # (B, e3, H, W)
            ],
            dim=1,
        )


class SqueezeNet(nn.Module):
    """SqueezeNet ``version`` ``"1_0"`` or ``"1_1"`` (1.1: 2.4x less computation, same accuracy)."""

    def __init__(self, version: str = "1_0", num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.num_classes = num_classes
        if version == "1_0":
            self.features = nn.Sequential(
                nn.Conv2d(3, 96, kernel_size=7, stride=2),
                nn.ReLU(),
                nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
                Fire(96, 16, 64, 64),
                Fire(128, 16, 64, 64),
                Fire(128, 32, 128, 128),
                nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
                Fire(256, 32, 128, 128),
                Fire(256, 48, 192, 192),
                Fire(384, 48, 192, 192),
                Fire(384, 64, 256, 256),
                nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
                Fire(512, 64, 256, 256),
            )
        elif version == "1_1":
            self.features = nn.Sequential(
                nn.Conv2d(3, 64, kernel_size=3, stride=2),
                nn.ReLU(),
                nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
                Fire(64, 16, 64, 64),
                Fire(128, 16, 64, 64),
                nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
                Fire(128, 32, 128, 128),
                Fire(256, 32, 128, 128),
                nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
                Fire(256, 48, 192, 192),
                Fire(384, 48, 192, 192),
                Fire(384, 64, 256, 256),
                Fire(512, 64, 256, 256),
            )
        else:
            raise ValueError(f"Unsupported SqueezeNet version {version}: 1_0 or 1_1 expected")

        final_conv = nn.Conv2d(512, num_classes, kernel_size=1)
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            final_conv,
            nn.ReLU(),
            nn.AdaptiveAvgPool2d((1, 1)),
        )

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                if m is final_conv:
                    nn.init.normal_(m.weight, mean=0.0, std=0.01)
                else:
                    nn.init.kaiming_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)  # (B, 512, h, w)
        x = self.classifier(x)  # (B, num_classes, 1, 1)
        return x.flatten(1)  # (B, num_classes)


def squeezenet1_0(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> SqueezeNet:
    """SqueezeNet 1.0: 1,248,424 parameters for 1000 classes."""
    check_no_weights(weights)
    return SqueezeNet("1_0", **kwargs)


def squeezenet1_1(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> SqueezeNet:
    """SqueezeNet 1.1: 1,235,496 parameters for 1000 classes."""
    check_no_weights(weights)
    return SqueezeNet("1_1", **kwargs)
