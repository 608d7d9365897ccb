"""LeNet-5 (LeCun et al., 1998) for 28x28 or 32x32 images.

``features``: 5x5 conv (6) -> tanh -> 2x2 average pool -> 5x5 conv (16) -> tanh -> 2x2 average
pool, giving 16x5x5 maps; ``classifier``: 400 -> 120 -> 84 -> ``num_classes`` with tanh in
between. For 28x28 input (MNIST) the first convolution pads by 2, as if the image were the
original 32x32. 61,706 parameters for 10 classes and one input channel.

>>> import mytorch.core as mt
>>> lenet5()(mt.randn(2, 1, 28, 28)).shape
(2, 10)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mytorch import nn
from mytorch.core.tensor import Tensor
from mytorch.vision.models._api import check_no_weights

__all__ = ["LeNet5", "lenet5"]


class LeNet5(nn.Module):
    """The classic LeNet-5.

    Args:
        num_classes: outputs of the last linear layer.
        in_channels: image channels.
        input_size: 28 or 32 (image height and width).
        activation: the non-linearity (``nn.Tanh`` as in the paper; ``nn.ReLU`` is common).
        pool: the subsampling layer class, called with ``kernel_size=2`` (``nn.AvgPool2d``
            as in the paper, or ``nn.MaxPool2d``).
    """

    def __init__(
        self,
        num_classes: int = 10,
        in_channels: int = 1,
        input_size: int = 28,
        activation: Callable[[], nn.Module] = nn.Tanh,
        pool: Callable[..., nn.Module] = nn.AvgPool2d,
    ) -> None:
        super().__init__()
        if input_size not in (28, 32):
            raise ValueError(f"LeNet5: input_size must be 28 or 32, got {input_size}")
        padding = (32 - input_size) // 2
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5, padding=padding),  # (B, 6, 28, 28)
            activation(),
            pool(kernel_size=2),  # (B, 6, 14, 14)
            nn.Conv2d(6, 16, kernel_size=5),  # (B, 16, 10, 10)
            activation(),
            pool(kernel_size=2),  # (B, 16, 5, 5)
        )
        self.classifier = nn.Sequential(
            nn.Linear(16 * 5 * 5, 120),
            activation(),
            nn.Linear(120, 84),
            activation(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x).flatten(1)  # (B, 400)
        return self.classifier(x)  # (B, num_classes)


def lenet5(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> LeNet5:
    """LeNet-5; keyword arguments go to ``LeNet5`` (``num_classes``, ``input_size``...)."""
    check_no_weights(weights)
    return LeNet5(**kwargs)
