"""Per-sample normalization: ``LayerNorm`` and ``RMSNorm`` over trailing dims, ``GroupNorm``
over groups of channels."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

from mytorch.core import functional as F
from mytorch.core.creation import ones
from mytorch.core.tensor import Tensor
from mytorch.nn import init
from mytorch.nn._affine import register_affine, reset_affine
from mytorch.nn._args import check_size, check_sizes
from mytorch.nn.linear import _check_device
from mytorch.nn.module import Module
from mytorch.nn.parameter import Parameter

__all__ = ["LayerNorm", "RMSNorm", "GroupNorm"]


def _shape_tuple(layer: str, normalized_shape: int | Sequence[int]) -> tuple[int, ...]:
    """``normalized_shape`` as a tuple of ints (an int n means ``(n,)``)."""
    if isinstance(normalized_shape, numbers.Integral):
        normalized_shape = (normalized_shape,)
    return check_sizes(layer, "normalized_shape", tuple(normalized_shape))


class LayerNorm(Module):
    """Normalize over the last ``len(normalized_shape)`` dims, then scale (weight) and shift (bias).

    >>> import mytorch.core as mt
    >>> LayerNorm(10)(mt.randn(20, 5, 10)).shape
    (20, 5, 10)
    """

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        _check_device(device)
        self.normalized_shape = _shape_tuple(type(self).__name__, normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        register_affine(self, self.normalized_shape, elementwise_affine, bias, dtype)

    def reset_parameters(self) -> None:
        reset_affine(self, self.elementwise_affine)

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )


class RMSNorm(Module):
    """``y = x / sqrt(mean(x^2) + eps) * weight`` over the trailing ``normalized_shape`` dims.

    ``eps=None`` uses the machine epsilon of the input's dtype, as PyTorch does.
    """

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float | None = None,
        elementwise_affine: bool = True,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        _check_device(device)
        self.normalized_shape = _shape_tuple(type(self).__name__, normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(ones(self.normalized_shape, dtype=dtype))
        else:
            self.register_parameter("weight", None)

    def reset_parameters(self) -> None:
        if self.elementwise_affine:
            init.ones_(self.weight)

    def forward(self, input: Tensor) -> Tensor:
        return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )


class GroupNorm(Module):
    """Split the C channels of (N, C, *) input into ``num_groups`` groups and normalize each
    group of each sample; then scale and shift per channel (weight, bias of shape (C,)).

    >>> import mytorch.core as mt
    >>> GroupNorm(3, 6)(mt.randn(20, 6, 10, 10)).shape
    (20, 6, 10, 10)
    """

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        _check_device(device)
        num_groups = check_size(type(self).__name__, "num_groups", num_groups, minimum=1)
        num_channels = check_size(type(self).__name__, "num_channels", num_channels)
        if num_channels % num_groups != 0:
            raise ValueError(
                f"num_channels ({num_channels}) must be divisible by num_groups ({num_groups})"
            )
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        register_affine(self, num_channels, affine, bias, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_affine(self, self.affine)

    def forward(self, input: Tensor) -> Tensor:
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.bias is not None}"
        )
