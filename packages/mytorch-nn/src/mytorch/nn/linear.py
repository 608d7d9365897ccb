"""Linear layers: ``Identity``, ``Linear`` (y = x W^T + b) and ``Bilinear`` (y = x1^T A x2 + b)."""

from __future__ import annotations

import math

from mytorch.core import functional as F
from mytorch.core.creation import empty
from mytorch.core.tensor import Tensor
from mytorch.nn import init
from mytorch.nn._args import check_size
from mytorch.nn.module import Module
from mytorch.nn.parameter import Parameter

__all__ = ["Identity", "Linear", "Bilinear"]


def _check_device(device) -> None:
    if device not in (None, "cpu"):
        raise RuntimeError(f"mytorch runs on the CPU only, got device {device!r}")


class Identity(Module):
    """Returns its input unchanged; any constructor arguments are ignored.

    >>> Identity(54, unused="x")(3)
    3
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """``y = x @ weight.T + bias`` on the last dim: (*, in_features) -> (*, out_features).

    weight (out_features, in_features) and bias start as U(-1/sqrt(in_features),
    1/sqrt(in_features)), as in PyTorch.

    >>> import mytorch.core as mt
    >>> Linear(20, 30)(mt.randn(128, 20)).shape
    (128, 30)
    """

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None
    ) -> None:
        super().__init__()
        _check_device(device)
        layer = type(self).__name__
        self.in_features = in_features = check_size(layer, "in_features", in_features)
        self.out_features = out_features = check_size(layer, "out_features", out_features)
        self.weight = Parameter(empty(out_features, in_features, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Bilinear(Module):
    """``y[..., k] = x1 @ weight[k] @ x2 + bias[k]``: (*, in1), (*, in2) -> (*, out).

    weight (out, in1, in2) and bias start as U(-1/sqrt(in1), 1/sqrt(in1)).
    """

    def __init__(
        self,
        in1_features: int,
        in2_features: int,
        out_features: int,
        bias: bool = True,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        _check_device(device)
        layer = type(self).__name__
        self.in1_features = in1_features = check_size(layer, "in1_features", in1_features)
        self.in2_features = in2_features = check_size(layer, "in2_features", in2_features)
        self.out_features = out_features = check_size(layer, "out_features", out_features)
        self.weight = Parameter(empty(out_features, in1_features, in2_features, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        in1, in2, out = self.in1_features, self.in2_features, self.out_features
        if input1.shape[-1] != in1 or input2.shape[-1] != in2:
            raise RuntimeError(
                f"Bilinear: expected inputs of shape [*, {in1}] and [*, {in2}], got "
                f"{list(input1.shape)} and {list(input2.shape)}"
            )
        if input1.shape[:-1] != input2.shape[:-1]:
            raise RuntimeError(
                f"Bilinear: input1 and input2 must have the same leading dims, got "
                f"{list(input1.shape)} and {list(input2.shape)}"
            )
        lead = input1.shape[:-1]
        x1 = input1.reshape(-1, in1)  # (N, in1)
        x2 = input2.reshape(-1, in2)  # (N, in2)
        w = self.weight.permute(1, 0, 2).reshape(in1, out * in2)  # (in1, out * in2)
        t = x1.matmul(w).reshape(-1, out, in2)  # (N, out, in2)
        y = (t * x2.unsqueeze(1)).sum(-1)  # (N, out)
        if self.bias is not None:
            y = y + self.bias
        return y.reshape(*lead, out)

    def extra_repr(self) -> str:
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )
