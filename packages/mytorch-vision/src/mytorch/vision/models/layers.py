"""Building blocks shared by the models (torchvision.ops counterparts).

``Conv2dNormActivation`` (conv -> norm -> activation as one ``Sequential``, so its state_dict
keys are ``0.weight``, ``1.weight``, ``1.running_mean``...), ``StochasticDepth`` and the
channel-rounding rule ``make_divisible`` used by MobileNet and EfficientNet.

>>> import mytorch.core as mt
>>> block = Conv2dNormActivation(3, 16, stride=2)
>>> block(mt.randn(2, 3, 32, 32)).shape
(2, 16, 16, 16)
>>> [name for name, _ in block.named_parameters()]
['0.weight', '1.weight', '1.bias']
"""

from __future__ import annotations

from collections.abc import Callable

from mytorch import nn
from mytorch.core.creation import empty
from mytorch.core.tensor import Tensor

__all__ = ["Conv2dNormActivation", "StochasticDepth", "make_divisible", "stochastic_depth"]


def make_divisible(v: float, divisor: int, min_value: int | None = None) -> int:
    """``v`` rounded to the nearest multiple of ``divisor``, never more than 10% below ``v``.

    >>> make_divisible(32 * 0.75, 8), make_divisible(1280 * 1.4, 8)
    (24, 1792)
    """
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:  # rounding down must not remove more than 10%
        new_v += divisor
    return new_v


def _init_conv_bn_(m: nn.Module) -> bool:
    """MobileNet/EfficientNet init of ``m`` when it is a Conv2d (kaiming normal, fan_out; zero
    bias) or a BatchNorm2d (weight 1, bias 0); returns whether it was one of them."""
    if isinstance(m, nn.Conv2d):
        nn.init.kaiming_normal_(m.weight, mode="fan_out")
        if m.bias is not None:
            nn.init.zeros_(m.bias)
        return True
    if isinstance(m, nn.BatchNorm2d):
        nn.init.ones_(m.weight)
        nn.init.zeros_(m.bias)
        return True
    return False


class Conv2dNormActivation(nn.Sequential):
    """``Conv2d`` -> ``norm_layer`` -> ``activation_layer`` (as torchvision.ops).

    ``padding`` defaults to ``(kernel_size - 1) // 2 * dilation`` (same size at stride 1);
    the convolution has a bias only when there is no norm layer. ``norm_layer=None`` or
    ``activation_layer=None`` leaves that layer out. ``inplace`` is passed to the activation
    when given; by default (unlike torchvision's ``True``) the activation is out-of-place,
    which in mytorch is as cheap and keeps every activation's backward available.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int | None = None,
        groups: int = 1,
        norm_layer: Callable[..., nn.Module] | None = nn.BatchNorm2d,
        activation_layer: Callable[..., nn.Module] | None = nn.ReLU,
        dilation: int = 1,
        inplace: bool | None = None,
        bias: bool | None = None,
    ) -> None:
        if padding is None:
            padding = (kernel_size - 1) // 2 * dilation
        if bias is None:
            bias = norm_layer is None
        layers: list[nn.Module] = [
            nn.Conv2d(
                in_channels,
                out_channels,
                kernel_size,
                stride,
                padding,
                dilation=dilation,
                groups=groups,
                bias=bias,
            )
        ]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            kwargs = {} if inplace is None else {"inplace": inplace}
            layers.append(activation_layer(**kwargs))
        super().__init__(*layers)
        self.out_channels = out_channels


def stochastic_depth(input: Tensor, p: float, mode: str, training: bool = True) -> Tensor:
    """Drop whole residual branches with probability ``p`` (Huang et al., 2016).

    ``mode="row"`` drops each sample's branch independently, ``"batch"`` the whole batch at
    once; kept values are scaled by ``1 / (1 - p)``. Identity when not training or ``p == 0``.
    """
    if p < 0.0 or p > 1.0:
        raise ValueError(f"drop probability has to be between 0 and 1, but got {p}")
    if mode not in ("batch", "row"):
        raise ValueError(f"mode has to be either 'batch' or 'row', but got {mode}")
    if not training or p == 0.0:
        return input
    survival_rate = 1.0 - p
    if mode == "row":
        size = (input.shape[0],) + (1,) * (input.ndim - 1)  # (B, 1, 1, 1)
    else:
        size = (1,) * input.ndim
    noise = empty(size, dtype=input.dtype).bernoulli_(survival_rate)
    if survival_rate > 0.0:
        noise.div_(survival_rate)
    return input * noise


class StochasticDepth(nn.Module):
    """``stochastic_depth`` as a module, active only in training mode."""

    def __init__(self, p: float, mode: str) -> None:
        super().__init__()
        self.p = p
        self.mode = mode

    def forward(self, input: Tensor) -> Tensor:
        return stochastic_depth(input, self.p, self.mode, self.training)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p}, mode={self.mode})"
