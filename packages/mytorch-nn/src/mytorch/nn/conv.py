"""Convolution layers: ``Conv1d``, ``Conv2d``, ``ConvTranspose1d`` and ``ConvTranspose2d``.

Weights are (out_channels, in_channels // groups, *kernel_size) for convolutions and
(in_channels, out_channels // groups, *kernel_size) for transposed ones, as in PyTorch.

>>> import mytorch.core as mt
>>> conv = Conv2d(1, 32, 3)
>>> conv
Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1))
>>> conv(mt.randn(8, 1, 28, 28)).shape
(8, 32, 26, 26)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from mytorch.core import functional as F
from mytorch.core.creation import empty
from mytorch.core.tensor import Tensor
from mytorch.nn import init
from mytorch.nn._args import check_size, check_sizes
from mytorch.nn.linear import _check_device
from mytorch.nn.module import Module
from mytorch.nn.parameter import Parameter

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"]

_PADDING_STRINGS = {"same", "valid"}
_PADDING_MODES = {"zeros", "reflect", "replicate", "circular"}


def _ntuple(value, n: int) -> tuple:
    """``value`` as an n-tuple: an int is repeated, a sequence is kept (as a tuple)."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        return tuple(value)
    return (value,) * n


def _single(value) -> tuple:
    return _ntuple(value, 1)


def _pair(value) -> tuple:
    return _ntuple(value, 2)


def _reverse_repeat_tuple(t: Sequence[int], n: int) -> tuple:
    """(a, b) -> (b, b, a, a) for n = 2: per-dim padding as ``F.pad`` wants it (last dim first)."""
    return tuple(x for x in reversed(t) for _ in range(n))


class _ConvNd(Module):
    """Shared by the convolution layers: argument checks, parameters, init and repr."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: tuple,
        stride: tuple,
        padding: str | tuple,
        dilation: tuple,
        transposed: bool,
        output_padding: tuple,
        groups: int,
        bias: bool,
        padding_mode: str,
        device=None,
        dtype=None,
    ) -> None:
        if transposed and padding_mode != "zeros":
            raise ValueError(
                f'Only "zeros" padding mode is supported for {self.__class__.__name__}'
            )
        super().__init__()
        _check_device(device)
        layer = type(self).__name__
        in_channels = check_size(layer, "in_channels", in_channels)
        out_channels = check_size(layer, "out_channels", out_channels)
        kernel_size = check_sizes(layer, "kernel_size", kernel_size, minimum=1)
        stride = check_sizes(layer, "stride", stride, minimum=1)
        if not isinstance(padding, str):
            padding = check_sizes(layer, "padding", padding)
        dilation = check_sizes(layer, "dilation", dilation, minimum=1)
        output_padding = check_sizes(layer, "output_padding", output_padding)
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        if isinstance(padding, str):
            if padding not in _PADDING_STRINGS:
                raise ValueError(
                    f"Invalid padding string {padding!r}, should be one of {_PADDING_STRINGS}"
                )
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"padding_mode must be one of {_PADDING_MODES}, but got "
                f"padding_mode='{padding_mode}'"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.transposed = transposed
        self.output_padding = output_padding
        self.groups = groups
        self.padding_mode = padding_mode
        # F.pad widths (last dim first) for the non-zero padding modes
        if isinstance(padding, str):
            pads = [0, 0] * len(kernel_size)
            if padding == "same":
                for d, k, i in zip(dilation, kernel_size, range(len(kernel_size) - 1, -1, -1)):
                    total = d * (k - 1)
                    pads[2 * i] = total // 2
                    pads[2 * i + 1] = total - total // 2
            self._reversed_padding_repeated_twice = pads
        else:
            self._reversed_padding_repeated_twice = list(_reverse_repeat_tuple(padding, 2))
        if transposed:
            shape = (in_channels, out_channels // groups, *kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *kernel_size)
        self.weight = Parameter(empty(shape, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """weight ~ kaiming_uniform_(a=sqrt(5)), bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        s = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0,) * len(self.padding):
            s += f", padding={self.padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    """Shared by Conv1d and Conv2d: the non-zero padding modes pad with ``F.pad`` first."""

    _conv_function = None  # F.conv1d or F.conv2d
    _zero_padding: tuple = ()

    def _conv_forward(self, input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        conv = self._conv_function
        if self.padding_mode != "zeros":
            padded = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return conv(
                padded, weight, bias, self.stride, self._zero_padding, self.dilation, self.groups
            )
        return conv(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input: Tensor) -> Tensor:
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_Conv):
    """1-D cross-correlation over (N, C_in, L) or (C_in, L) input -> (N, C_out, L_out).

    ``padding`` is an int, a 1-tuple, ``'valid'`` (none) or ``'same'`` (output length equals
    input length; stride 1 only). ``padding_mode`` 'reflect', 'replicate' or 'circular' pads
    with ``F.pad`` first.

    >>> import mytorch.core as mt
    >>> Conv1d(16, 33, 3, stride=2)(mt.randn(20, 16, 50)).shape
    (20, 33, 24)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int],
        stride: int | tuple[int] = 1,
        padding: str | int | tuple[int] = 0,
        dilation: int | tuple[int] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            _single(kernel_size),
            _single(stride),
            padding if isinstance(padding, str) else _single(padding),
            _single(dilation),
            False,
            _single(0),
            groups,
            bias,
            padding_mode,
            device,
            dtype,
        )

    _conv_function = staticmethod(F.conv1d)
    _zero_padding = (0,)


class Conv2d(_Conv):
    """2-D cross-correlation over (N, C_in, H, W) or (C_in, H, W) input -> (N, C_out, H_out, W_out).

    ``H_out = (H + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1`` (likewise W).
    ``padding`` is an int, a pair, ``'valid'`` or ``'same'`` (stride 1 only); ``groups``
    splits the channels into independent convolutions (``groups == in_channels``: depthwise).

    >>> import mytorch.core as mt
    >>> Conv2d(16, 33, (3, 5), stride=(2, 1), padding=(4, 2))(mt.randn(2, 16, 10, 12)).shape
    (2, 33, 8, 12)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: str | int | tuple[int, int] = 0,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            _pair(kernel_size),
            _pair(stride),
            padding if isinstance(padding, str) else _pair(padding),
            _pair(dilation),
            False,
            _pair(0),
            groups,
            bias,
            padding_mode,
            device,
            dtype,
        )

    _conv_function = staticmethod(F.conv2d)
    _zero_padding = (0, 0)


class _ConvTransposeNd(_ConvNd):
    """Shared by the transposed convolutions: only zero padding; output size -> output_padding."""

    _conv_function = None  # F.conv_transpose1d or F.conv_transpose2d

    def _output_padding(
        self,
        input: Tensor,
        output_size: Sequence[int] | None,
        stride: Sequence[int],
        padding: Sequence[int],
        kernel_size: Sequence[int],
        num_spatial_dims: int,
        dilation: Sequence[int] | None = None,
    ) -> list[int]:
        """The output_padding that gives ``output_size`` (``self.output_padding`` without one)."""
        if output_size is None:
            return list(self.output_padding)
        output_size = list(output_size)
        num_non_spatial = 2 if input.ndim == num_spatial_dims + 2 else 1
        if len(output_size) == num_non_spatial + num_spatial_dims:
            output_size = output_size[num_non_spatial:]
        if len(output_size) != num_spatial_dims:
            raise ValueError(
                f"ConvTranspose{num_spatial_dims}D: for {input.ndim}D input, output_size must "
                f"have {num_spatial_dims} or {num_non_spatial + num_spatial_dims} elements "
                f"(got {len(output_size)})"
            )
        min_sizes, max_sizes = [], []
        for d in range(num_spatial_dims):
            size = (
                (input.shape[d + num_non_spatial] - 1) * stride[d]
                - 2 * padding[d]
                + (dilation[d] if dilation is not None else 1) * (kernel_size[d] - 1)
                + 1
            )
            min_sizes.append(size)
            max_sizes.append(size + stride[d] - 1)
        for size, lo, hi in zip(output_size, min_sizes, max_sizes):
            if size < lo or size > hi:
                raise ValueError(
                    f"requested an output size of {output_size}, but valid sizes range from "
                    f"{min_sizes} to {max_sizes} (for an input of {tuple(input.shape[2:])})"
                )
        return [s - lo for s, lo in zip(output_size, min_sizes)]

    def forward(self, input: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        output_padding = self._output_padding(
            input,
            output_size,
            self.stride,
            self.padding,
            self.kernel_size,
            len(self.kernel_size),
            self.dilation,
        )
        return self._conv_function(
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            output_padding,
            self.groups,
            self.dilation,
        )


class ConvTranspose1d(_ConvTransposeNd):
    """The gradient of Conv1d with respect to its input, as a layer: (N, C_in, L) -> (N, C_out,
    L_out) with ``L_out = (L - 1) * stride - 2 * padding + dilation * (kernel - 1)
    + output_padding + 1``.

    >>> import mytorch.core as mt
    >>> ConvTranspose1d(16, 8, 4, stride=2, padding=1)(mt.randn(1, 16, 10)).shape
    (1, 8, 20)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int],
        stride: int | tuple[int] = 1,
        padding: int | tuple[int] = 0,
        output_padding: int | tuple[int] = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: int | tuple[int] = 1,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            _single(kernel_size),
            _single(stride),
            _single(padding),
            _single(dilation),
            True,
            _single(output_padding),
            groups,
            bias,
            padding_mode,
            device,
            dtype,
        )

    _conv_function = staticmethod(F.conv_transpose1d)


class ConvTranspose2d(_ConvTransposeNd):
    """The gradient of Conv2d with respect to its input, as a layer (a "deconvolution").

    (N, C_in, H, W) -> (N, C_out, H_out, W_out) with ``H_out = (H - 1) * stride - 2 * padding
    + dilation * (kernel - 1) + output_padding + 1``. ``forward(input, output_size)`` picks
    the output_padding that yields ``output_size``.

    >>> import mytorch.core as mt
    >>> ConvTranspose2d(16, 8, 3, stride=2, padding=1)(mt.randn(1, 16, 6, 6)).shape
    (1, 8, 11, 11)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        output_padding: int | tuple[int, int] = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: int | tuple[int, int] = 1,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            _pair(kernel_size),
            _pair(stride),
            _pair(padding),
            _pair(dilation),
            True,
            _pair(output_padding),
            groups,
            bias,
            padding_mode,
            device,
            dtype,
        )

    _conv_function = staticmethod(F.conv_transpose2d)
