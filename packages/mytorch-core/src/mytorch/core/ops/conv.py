"""Convolutions: conv1d/conv2d and their adjoints conv_transpose1d/conv_transpose2d.

A convolution (PyTorch's cross-correlation) pads its input once, reads every kernel window
through a zero-copy strided view (im2col), copies the windows once into a (C*kh*kw, N*Ho*Wo)
column matrix and multiplies the flattened weight by it (BLAS, writing NCHW directly); the
weight gradient is one GEMM per group on the same columns, kept from the forward pass. The
transposed convolution is the adjoint map: one GEMM back to columns, then col2im adds one
strided slice per kernel position. Three Functions close under differentiation, so double
backward works:

* ``Convolution``:     y = conv(x, w);   dx = conv_t(g, w),   dw = conv_w(x, g)
* ``ConvTranspose``:   y = conv_t(x, w); dx = conv(g, w),     dw = conv_w(g, x)
* ``ConvWeightGrad``:  y = conv_w(x, g); dx = conv_t(g, gy),  dg = conv(x, gy)

1-D convolutions are 2-D ones with a height of 1 (free reshapes inside forward).

>>> import mytorch.core as mt
>>> x, w = mt.ones(2, 3, 8, 8), mt.ones(4, 3, 3, 3)
>>> conv2d(x, w, padding=1).shape
(2, 4, 8, 8)
>>> conv_transpose2d(mt.ones(2, 4, 4, 4), mt.ones(4, 3, 3, 3), stride=2, output_padding=1).shape
(2, 3, 10, 10)
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from mytorch.core.autograd import Function
from mytorch.core.tensor import Tensor

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"]

# A geometry is ``(sh, sw, pt, pl, dh, dw, groups)``: strides, top/left padding, dilations and
# groups. Output sizes are always passed explicitly, so bottom/right padding (asymmetric 'same'
# padding, output_padding of the transpose) follows from them and needs no field of its own.


# ----------------------------------------------------------------------------------------------
# NumPy kernels on 4-D arrays (N, C, H, W)
# ----------------------------------------------------------------------------------------------


def _extent(out: int, k: int, s: int, d: int) -> int:
    """Rows of the padded input that ``out`` windows of a (dilated) kernel reach."""
    return (out - 1) * s + (k - 1) * d + 1


def _im2col(x: np.ndarray, kh: int, kw: int, out_hw: tuple, geom: tuple) -> np.ndarray:
    """Windows of ``x`` as a contiguous (G, C/G * kh * kw, N * Ho * Wo) matrix."""
    sh, sw, pt, pl, dh, dw, groups = geom
    ho, wo = out_hw
    n, c, h, w = x.shape
    eh, ew = _extent(ho, kh, sh, dh), _extent(wo, kw, sw, dw)
    if pt or pl or eh > h or ew > w:  # pad once: zeros around, input copied inside
        xp = np.zeros((n, c, eh, ew), x.dtype)
        hh, ww = max(0, min(h, eh - pt)), max(0, min(w, ew - pl))
        xp[:, :, pt : pt + hh, pl : pl + ww] = x[:, :, :hh, :ww]
    else:
        xp = x
    s_n, s_c, s_h, s_w = xp.strides
    windows = as_strided(  # (C, kh, kw, N, Ho, Wo): a view, nothing copied yet
        xp,
        (c, kh, kw, n, ho, wo),
        (s_c, dh * s_h, dw * s_w, s_n, sh * s_h, sw * s_w),
        writeable=False,
    )
    cols = np.empty(windows.shape, x.dtype)
    np.copyto(cols, windows)  # the one copy: C-major rows, so each group is a block
    return cols.reshape(groups, c // groups * kh * kw, n * ho * wo)


def _col2im(cols: np.ndarray, x_shape: tuple, geom: tuple) -> np.ndarray:
    """Adjoint of ``_im2col``: sum (C, kh, kw, N, Ho, Wo) columns back into a (C, N, H, W) view."""
    sh, sw, pt, pl, dh, dw, _ = geom
    c, kh, kw, n, ho, wo = cols.shape
    h, w = x_shape[2:]
    eh, ew = _extent(ho, kh, sh, dh), _extent(wo, kw, sw, dw)
    buf = np.zeros((c, n, max(eh, pt + h), max(ew, pl + w)), cols.dtype)  # (C, N, Hp, Wp)
    rh, rw = (ho - 1) * sh + 1, (wo - 1) * sw + 1
    for i in range(kh):  # one strided slice per kernel position, never per output pixel
        for j in range(kw):
            buf[:, :, i * dh : i * dh + rh : sh, j * dw : j * dw + rw : sw] += cols[:, i, j]
    return buf[:, :, pt : pt + h, pl : pl + w]


def _channels_first(g: np.ndarray, groups: int) -> np.ndarray:
    """(N, O, Ho, Wo) as a contiguous (G, O/G, N * Ho * Wo) matrix."""
    n, o, ho, wo = g.shape
    return np.ascontiguousarray(g.transpose(1, 0, 2, 3)).reshape(groups, o // groups, n * ho * wo)


def _gemm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(G, m, k) @ (G, k, n): one GEMM per group."""
    if a.shape[0] == 1:
        return (a[0] @ b[0])[None]
    return np.matmul(a, b)


def _conv(x, w, bias, out_hw, geom, cols=None) -> tuple:
    """Forward convolution of (N, C, H, W) by (O, C/G, kh, kw); returns (y, cols)."""
    groups = geom[6]
    o, _, kh, kw = w.shape
    n = x.shape[0]
    if cols is None:
        cols = _im2col(x, kh, kw, out_hw, geom)
    w_g = w.reshape(groups, o // groups, cols.shape[1])  # (G, O/G, C/G*kh*kw)
    if groups == 1:
        # (O, C*kh*kw) @ (N, C*kh*kw, Ho*Wo) -> (N, O, Ho*Wo): one GEMM per image, each
        # reading its block of the columns in place and writing NCHW directly
        per_image = cols[0].reshape(cols.shape[1], n, out_hw[0] * out_hw[1]).transpose(1, 0, 2)
        y = np.matmul(w_g[0], per_image).reshape(n, o, *out_hw)
        if bias is not None:
            y += bias.reshape(o, 1, 1)
        return y, cols
    # one GEMM per group: (G, O/G, N*Ho*Wo), then one copy to NCHW
    y = np.matmul(w_g, cols).reshape(o, n, *out_hw).transpose(1, 0, 2, 3)
    out = np.empty(y.shape, y.dtype)
    if bias is None:
        np.copyto(out, y)
    else:
        np.add(y, bias.reshape(o, 1, 1), out=out)
    return out, cols


def _conv_t(g, w, bias, size, geom) -> np.ndarray:
    """Adjoint of the convolution in ``x``: (N, O, Ho, Wo) -> (N, C, *size)."""
    groups = geom[6]
    o, cg, kh, kw = w.shape
    n, _, ho, wo = g.shape
    w_t = w.reshape(groups, o // groups, cg * kh * kw).transpose(0, 2, 1)  # (G, C/G*kh*kw, O/G)
    # (G, C/G*kh*kw, O/G) @ (G, O/G, N*Ho*Wo) -> (G, C/G*kh*kw, N*Ho*Wo), then col2im
    cols = _gemm(w_t, _channels_first(g, groups)).reshape(groups * cg, kh, kw, n, ho, wo)
    dx = _col2im(cols, (n, groups * cg, *size), geom).transpose(1, 0, 2, 3)
    out = np.empty(dx.shape, dx.dtype)  # (N, C, H, W), contiguous
    if bias is None:
        np.copyto(out, dx)
    else:
        np.add(dx, bias.reshape(groups * cg, 1, 1), out=out)
    return out


def _conv_w(x, g, kernel, geom, cols=None) -> np.ndarray:
    """Adjoint of the convolution in ``w``: the (O, C/G, kh, kw) weight gradient."""
    groups = geom[6]
    kh, kw = kernel
    n, o, ho, wo = g.shape
    if cols is None:
        cols = _im2col(x, kh, kw, (ho, wo), geom)
    # (G, O/G, N*Ho*Wo) @ (G, N*Ho*Wo, C/G*kh*kw) -> (G, O/G, C/G*kh*kw)
    dw = _gemm(_channels_first(g, groups), cols.transpose(0, 2, 1))
    return dw.reshape(o, cols.shape[1] // (kh * kw), kh, kw)


def _as4d(*arrays) -> list:
    """1-D convolution arrays (N, C, L) as (N, C, 1, L); 4-D arrays unchanged."""
    return [a if a is None or a.ndim == 4 else a[:, :, None] for a in arrays]


def conv_arrays(x: np.ndarray, w: np.ndarray, geom: tuple, out_hw: tuple) -> np.ndarray:
    """The forward kernel of ``Convolution`` on plain arrays: no graph, no op observers.

    ``x`` (N, C, H, W) or (N, C, L), ``w`` (O, C/G, kh, kw) or (O, C/G, k); ``geom`` and
    ``out_hw`` as ``Convolution.apply`` receives them (its ``geom`` and ``out_hw`` keywords,
    which ``observe_ops`` observers see). For tools that redo a convolution they observed, e.g.
    on masks of the operands' non-zeros.

    >>> conv_arrays(np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2)), (1, 1, 0, 0, 1, 1, 1), (2, 2))
    array([[[[4., 4.],
             [4., 4.]]]])
    """
    flat = x.ndim == 3
    x4, w4 = _as4d(x, w)
    y, _ = _conv(x4, w4, None, out_hw, geom)
    return y[:, :, 0] if flat else y


# ----------------------------------------------------------------------------------------------
# Functions
# ----------------------------------------------------------------------------------------------


_KEEP_COLS_BYTES = 64 << 20


def _bias_grad(g: Tensor) -> Tensor:
    """Sum of the output gradient over every dim but the channels."""
    return g.sum(tuple(d for d in range(g.ndim) if d != 1))


class Convolution(Function):
    """y = conv(x, w) + b (im2col + GEMM);  dx = conv_t(g, w),  dw = conv_w(x, g),  db = sum g"""

    @staticmethod
    def forward(ctx, x, w, b, geom, out_hw):
        flat = x.ndim == 3
        x4, w4 = _as4d(x, w)
        y, cols = _conv(x4, w4, b, out_hw, geom)
        ctx.geom, ctx.out_hw, ctx.in_hw, ctx.kernel = geom, out_hw, x4.shape[2:], w4.shape[2:]
        # the weight gradient reuses the columns (unless they are too big to keep)
        keep = ctx.needs_input_grad[1] and cols.nbytes <= _KEEP_COLS_BYTES
        ctx.save_for_backward(x, w, cols if keep else None)
        return y[:, :, 0] if flat else y

    @staticmethod
    def backward(ctx, g):
        x, w, cols = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        dx = dw = db = None
        if need_x:
            dx = ConvTranspose.apply(g, w, None, geom=ctx.geom, size=ctx.in_hw)
        if need_w:
            cols = None if cols is None else cols.data
            dw = ConvWeightGrad.apply(x, g, geom=ctx.geom, kernel=ctx.kernel, cols=cols)
        if need_b:
            db = _bias_grad(g)
        return dx, dw, db


class ConvTranspose(Function):
    """y = conv_t(x, w) + b (GEMM + col2im);  dx = conv(g, w),  dw = conv_w(g, x),  db = sum g"""

    @staticmethod
    def forward(ctx, x, w, b, geom, size):
        flat = x.ndim == 3
        x4, w4 = _as4d(x, w)
        y = _conv_t(x4, w4, b, size, geom)
        ctx.geom, ctx.in_hw, ctx.kernel = geom, x4.shape[2:], w4.shape[2:]
        ctx.save_for_backward(x, w)
        return y[:, :, 0] if flat else y

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        dx = dw = db = None
        if need_x:
            dx = Convolution.apply(g, w, None, geom=ctx.geom, out_hw=ctx.in_hw)
        if need_w:
            dw = ConvWeightGrad.apply(g, x, geom=ctx.geom, kernel=ctx.kernel)
        if need_b:
            db = _bias_grad(g)
        return dx, dw, db


class ConvWeightGrad(Function):
    """y = conv_w(x, g) (the weight gradient, one GEMM);  dx = conv_t(g, gy),  dg = conv(x, gy)"""

    @staticmethod
    def forward(ctx, x, g, geom, kernel, cols=None):
        flat = x.ndim == 3
        x4, g4 = _as4d(x, g)
        dw = _conv_w(x4, g4, kernel, geom, cols)
        ctx.geom, ctx.in_hw, ctx.out_hw = geom, x4.shape[2:], g4.shape[2:]
        ctx.save_for_backward(x, g)
        return dw[:, :, 0] if flat else dw

    @staticmethod
    def backward(ctx, gy):
        x, g = ctx.saved_tensors
        need_x, need_g = ctx.needs_input_grad
        dx = dg = None
        if need_x:
            dx = ConvTranspose.apply(g, gy, None, geom=ctx.geom, size=ctx.in_hw)
        if need_g:
            dg = Convolution.apply(x, gy, None, geom=ctx.geom, out_hw=ctx.out_hw)
        return dx, dg


# ----------------------------------------------------------------------------------------------
# Argument checks (PyTorch's messages)
# ----------------------------------------------------------------------------------------------


def _ints(value, name: str, nd: int, op: str) -> tuple:
    """``value`` (an int or a sequence of 1 or ``nd`` ints) as an ``nd``-tuple."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),) * nd
    if isinstance(value, (tuple, list)) and all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value
    ):
        if len(value) == 1:
            return (int(value[0]),) * nd
        if len(value) != nd:
            raise RuntimeError(
                f"expected {name} to be a single integer value or a list of {nd} values to match "
                f"the convolution dimensions, but got {name}={[int(v) for v in value]}"
            )
        return tuple(int(v) for v in value)
    raise TypeError(f"{op}(): argument '{name}' must be tuple of ints, not {type(value).__name__}")


def _sizes(values) -> str:
    return " x ".join(str(v) for v in values)


def _check_tensors(op: str, input, weight, bias, nd: int) -> None:
    for name, t in (("input", input), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(t).__name__}")
    if bias is not None and not isinstance(bias, Tensor):
        raise TypeError(f"{op}(): argument 'bias' must be Tensor, not {type(bias).__name__}")
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {op}, but got input "
            f"of size: {list(input.shape)}"
        )
    if weight.ndim != nd + 2:
        raise RuntimeError(
            f"{op}: expected weight to be {nd + 2}-dimensional, but got weight of size "
            f"{list(weight.shape)}"
        )
    if input.dtype != weight.dtype:
        raise RuntimeError(
            f"Input type ({input.dtype}) and weight type ({weight.dtype}) should be the same"
        )
    if bias is not None and bias.dtype != input.dtype:
        raise RuntimeError(
            f"Input type ({input.dtype}) and bias type ({bias.dtype}) should be the same"
        )


def _check_params(stride, padding, dilation, groups, kernel) -> None:
    if min(stride) <= 0:
        raise RuntimeError("non-positive stride is not supported")
    if min(padding) < 0:
        raise RuntimeError("negative padding is not supported")
    if min(dilation) <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got {list(dilation)}")
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool):
        raise TypeError(f"argument 'groups' must be int, not {type(groups).__name__}")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if min(kernel) <= 0:
        names = ("kernel_height", "kernel_width")[-len(kernel) :]
        listed = " ".join(f"{n}: {k}" for n, k in zip(names, kernel))
        raise RuntimeError(f"kernel size should be greater than zero, but got {listed}")


def _check_bias(bias, weight, channels: int, transposed: bool) -> None:
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != channels):
        raise RuntimeError(
            f"Given {'transposed=1, ' if transposed else ''}weight of size "
            f"{list(weight.shape)}, expected bias to be 1-dimensional with {channels} elements, "
            f"but got bias of size {list(bias.shape)} instead"
        )


def _check_groups(weight: Tensor, groups: int, transposed: bool) -> None:
    if weight.shape[0] == 0:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be at least 1 at dimension 0, but got "
            f"weight of size {list(weight.shape)} instead"
        )
    if weight.shape[0] % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
            f"but got weight of size {list(weight.shape)} instead"
        )


# ----------------------------------------------------------------------------------------------
# Public functions
# ----------------------------------------------------------------------------------------------


def _convnd(op: str, nd: int, input, weight, bias, stride, padding, dilation, groups) -> Tensor:
    _check_tensors(op, input, weight, bias, nd)
    stride = _ints(stride, "stride", nd, op)
    dilation = _ints(dilation, "dilation", nd, op)
    kernel = weight.shape[2:]
    if isinstance(padding, str):
        if padding == "valid":
            before = total = (0,) * nd
        elif padding == "same":  # any odd extra padding goes after, like PyTorch
            if max(stride) > 1:
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            total = tuple(d * (k - 1) for d, k in zip(dilation, kernel))
            before = tuple(t // 2 for t in total)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        before = _ints(padding, "padding", nd, op)
        total = tuple(2 * p for p in before)
    _check_params(stride, before, dilation, groups, kernel)
    _check_groups(weight, groups, False)
    batched = input.ndim == nd + 2
    shape = input.shape if batched else (1, *input.shape)
    if shape[1] != weight.shape[1] * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight.shape)}, expected "
            f"input{list(shape)} to have {weight.shape[1] * groups} channels, but got "
            f"{shape[1]} channels instead"
        )
    _check_bias(bias, weight, weight.shape[0], False)
    padded = tuple(s + t for s, t in zip(shape[2:], total))
    reach = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel))
    if any(p < r for p, r in zip(padded, reach)):
        raise RuntimeError(
            f"Calculated padded input size per channel: ({_sizes(padded)}). Kernel size: "
            f"({_sizes(reach)}). Kernel size can't be greater than actual input size"
        )
    out = tuple((p - r) // s + 1 for p, r, s in zip(padded, reach, stride))
    if nd == 1:
        stride, before, dilation, out = (1, *stride), (0, *before), (1, *dilation), (1, *out)
    geom = (stride[0], stride[1], before[0], before[1], dilation[0], dilation[1], groups)
    if not batched:
        input = input.unsqueeze(0)
    y = Convolution.apply(input, weight, bias, geom=geom, out_hw=out)
    return y if batched else y.squeeze(0)


def _conv_transposend(
    op: str, nd: int, input, weight, bias, stride, padding, output_padding, groups, dilation
) -> Tensor:
    _check_tensors(op, input, weight, bias, nd)
    stride = _ints(stride, "stride", nd, op)
    padding = _ints(padding, "padding", nd, op)
    output_padding = _ints(output_padding, "output_padding", nd, op)
    dilation = _ints(dilation, "dilation", nd, op)
    kernel = weight.shape[2:]
    _check_params(stride, padding, dilation, groups, kernel)
    if min(output_padding) < 0:
        raise RuntimeError("negative output_padding is not supported")
    if any(o >= s and o >= d for o, s, d in zip(output_padding, stride, dilation)):
        names = ("height", "width")[-nd:] if nd == 2 else ("width",)
        parts = [f"output_padding_{n}: {o}" for n, o in zip(names, output_padding)]
        parts += [f"stride_{n}: {s}" for n, s in zip(names, stride)]
        parts += [f"dilation_{n}: {d}" for n, d in zip(names, dilation)]
        raise RuntimeError(
            f"output padding must be smaller than either stride or dilation, but got "
            f"{' '.join(parts)}"
        )
    _check_groups(weight, groups, True)
    batched = input.ndim == nd + 2
    shape = input.shape if batched else (1, *input.shape)
    if shape[1] != weight.shape[0]:
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(weight.shape)}, expected input"
            f"{list(shape)} to have {weight.shape[0]} channels, but got {shape[1]} channels "
            f"instead"
        )
    _check_bias(bias, weight, weight.shape[1] * groups, True)
    size = tuple(
        (i - 1) * s - 2 * p + d * (k - 1) + o + 1
        for i, s, p, d, k, o in zip(shape[2:], stride, padding, dilation, kernel, output_padding)
    )
    if min(size) <= 0:
        raise RuntimeError(
            f"Given input size per channel: ({_sizes(shape[2:])}). Calculated output size per "
            f"channel: ({_sizes(size)}). Output size is too small"
        )
    if nd == 1:
        stride, padding, dilation, size = (1, *stride), (0, *padding), (1, *dilation), (1, *size)
    geom = (stride[0], stride[1], padding[0], padding[1], dilation[0], dilation[1], groups)
    if not batched:
        input = input.unsqueeze(0)
    y = ConvTranspose.apply(input, weight, bias, geom=geom, size=size)
    return y if batched else y.squeeze(0)


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    dilation=1,
    groups: int = 1,
) -> Tensor:
    """2-D cross-correlation of (N, C, H, W) or (C, H, W) input with (O, C/groups, kh, kw) weight.

    ``padding`` is an int, a pair, ``'valid'`` (none) or ``'same'`` (output size = input size,
    stride 1 only; any odd extra padding goes to the bottom/right, as in PyTorch).

    >>> import mytorch.core as mt
    >>> conv2d(mt.ones(1, 1, 4, 4), mt.ones(1, 1, 3, 3)).tolist()
    [[[[9.0, 9.0], [9.0, 9.0]]]]
    """
    return _convnd("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    dilation=1,
    groups: int = 1,
) -> Tensor:
    """1-D cross-correlation of (N, C, L) or (C, L) input with (O, C/groups, k) weight.

    >>> import mytorch.core as mt
    >>> conv1d(mt.ones(1, 2, 5), mt.ones(3, 2, 2), padding="same").shape
    (1, 3, 5)
    """
    return _convnd("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    output_padding=0,
    groups: int = 1,
    dilation=1,
) -> Tensor:
    """Transposed 2-D convolution (the adjoint of ``conv2d``); weight is (C_in, C_out/groups, kh, kw).

    The output has size ``(in - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding
    + 1`` per spatial dim.

    >>> import mytorch.core as mt
    >>> conv_transpose2d(mt.ones(1, 1, 2, 2), mt.ones(1, 1, 2, 2), stride=2).shape
    (1, 1, 4, 4)
    """
    return _conv_transposend(
        "conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups,
        dilation,
    )  # fmt: skip


def conv_transpose1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    output_padding=0,
    groups: int = 1,
    dilation=1,
) -> Tensor:
    """Transposed 1-D convolution (the adjoint of ``conv1d``); weight is (C_in, C_out/groups, k).

    >>> import mytorch.core as mt
    >>> conv_transpose1d(mt.ones(1, 2, 4), mt.ones(2, 3, 3), stride=2).shape
    (1, 3, 9)
    """
    return _conv_transposend(
        "conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups,
        dilation,
    )  # fmt: skip
