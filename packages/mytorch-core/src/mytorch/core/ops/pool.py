"""Pooling: max and average over sliding windows, and adaptive pooling to a target size.

Every op works on planes: an input (N, C, H, W) or (C, H, W) is a stack of H x W planes
(1-D pooling uses planes of height 1). A window position is a strided view of the (padded)
input, so a forward pass is one vectorized pass per kernel offset, never a loop over output
pixels. Max pooling keeps, per output, the flat index (into H * W) of the window's first
maximum; its backward scatters the gradient there.

>>> import mytorch.core as mt
>>> x = mt.arange(16.0).reshape(1, 1, 4, 4)
>>> max_pool2d(x, 2).tolist()
[[[[5.0, 7.0], [13.0, 15.0]]]]
>>> avg_pool2d(x, 2).tolist()
[[[[2.5, 4.5], [10.5, 12.5]]]]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mytorch.core.autograd import Function
from mytorch.core.ops.resample import _adaptive_bounds, _adaptive_taps, axis_taps
from mytorch.core.tensor import Tensor

__all__ = [
    "max_pool1d",
    "max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
]


# ----------------------------------------------------------------------------------------------
# window geometry
# ----------------------------------------------------------------------------------------------


class _Windows:
    """Where the windows of one pooling call lie: planes (B, H, W) -> (B, Ho, Wo)."""

    __slots__ = ("k", "s", "p", "d", "size", "out", "in_shape", "out_shape", "planes", "disjoint")

    def __init__(self, in_shape, planes, k, s, p, d, out, out_shape) -> None:
        self.k, self.s, self.p, self.d = k, s, p, d  # (along H, along W) each
        self.planes, self.size, self.out = planes, planes[1:], out  # (B, H, W), (H, W), (Ho, Wo)
        self.in_shape, self.out_shape = tuple(in_shape), tuple(out_shape)
        # windows that never overlap send each input element at most one gradient
        self.disjoint = all(s[i] >= d[i] * (k[i] - 1) + 1 for i in (0, 1))

    def reach(self, i: int) -> int:
        """Padded extent along axis i that the windows touch."""
        return (self.out[i] - 1) * self.s[i] + self.d[i] * (self.k[i] - 1) + 1

    def needs_padding(self) -> bool:
        return any(self.p) or any(self.reach(i) > self.size[i] for i in (0, 1))

    def padded(self, x3: np.ndarray, fill) -> np.ndarray:
        """(B, H, W) planes inside a border of ``fill`` wide enough for every window."""
        if not self.needs_padding():
            return x3
        (h, w), (ph, pw) = self.size, self.p
        hp, wp = max(self.reach(0), ph + h), max(self.reach(1), pw + w)
        xp = np.full((x3.shape[0], hp, wp), fill, x3.dtype)
        xp[:, ph : ph + h, pw : pw + w] = x3
        return xp

    def tiles(self) -> bool:
        """Whether the windows are disjoint blocks laid edge to edge from the origin."""
        return self.k == self.s and self.d == (1, 1) and not self.needs_padding()

    def offsets(self):
        """Kernel offsets (i, j) in row-major order."""
        return [(i, j) for i in range(self.k[0]) for j in range(self.k[1])]

    def view(self, xp: np.ndarray, i: int, j: int) -> np.ndarray:
        """(B, Ho, Wo): the element at kernel offset (i, j) of every window (a view)."""
        (sh, sw), (dh, dw), (ho, wo) = self.s, self.d, self.out
        r, c = i * dh, j * dw
        return xp[:, r : r + (ho - 1) * sh + 1 : sh, c : c + (wo - 1) * sw + 1 : sw]

    def starts(self, i: int) -> np.ndarray:
        """First input coordinate (possibly negative) of each window along axis i."""
        return np.arange(self.out[i]) * self.s[i] - self.p[i]


def _ints(value, n: int, name: str, op: str, rule: str) -> tuple:
    """``value`` (an int or a sequence of 1 or n ints) as a tuple of n ints."""
    if isinstance(value, (int, np.integer)):
        return (int(value),) * n
    value = tuple(int(v) for v in value)
    if len(value) == 1:
        return value * n
    if len(value) != n:
        raise RuntimeError(f"{op}: {name} {rule}")
    return value


def _plane_layout(input: Tensor, dims: int, op: str) -> None:
    """Check for (N, C, *spatial) or (C, *spatial) input with non-empty C and spatial dims."""
    nd = input.ndim
    if nd not in (dims + 1, dims + 2) or 0 in input.shape[nd - dims - 1 :]:
        raise RuntimeError(
            f"{op}: Expected {dims + 1}D or {dims + 2}D (batch mode) tensor with optional 0 dim "
            f"batch size for input, but got:{list(input.shape)}"
        )


def _out_size(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's output length: with ceil_mode the last window must start inside the input or
    the left padding."""
    out = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def _windows(
    input: Tensor, dims: int, kernel_size, stride, padding, dilation, ceil_mode: bool, op: str
) -> _Windows:
    """Validate pooling arguments as PyTorch does and lay out the windows."""
    _plane_layout(input, dims, op)
    if input.dtype.kind not in "fiu":
        raise NotImplementedError(f"\"{op}\" not implemented for '{input.dtype}'")
    if dims == 1:
        k = _ints1(kernel_size, "kernel_size", op)
        s = k if stride is None or _empty(stride) else _ints1(stride, "stride", op)
        p, d = _ints1(padding, "padding", op), _ints1(dilation, "dilation", op)
        if op == "max_pool1d":
            _check_1d(k, s, p, d, op)
        k, s, p, d = (1, k), (1, s), (0, p), (1, d)
    else:
        k = _ints(kernel_size, 2, "kernel_size", op, _RULE)
        s = k if stride is None or _empty(stride) else _ints(stride, 2, "stride", op, _RULE_S)
        p = _ints(padding, 2, "padding", op, _RULE)
        d = _ints(dilation, 2, "dilation", op, _RULE_D)
    _check_2d(k, s, p, d, op)
    shape = input.shape
    spatial = (1, shape[-1]) if dims == 1 else tuple(shape[-2:])
    out = tuple(_out_size(spatial[i], k[i], s[i], p[i], d[i], ceil_mode) for i in (0, 1))
    if min(out) < 1:
        if op == "max_pool1d":
            raise RuntimeError(f"{op}() Invalid computed output size: {out[1]}")
        c = shape[-dims - 1]
        raise RuntimeError(
            f"{op}: Given input size: ({c}x{spatial[0]}x{spatial[1]}). Calculated output size: "
            f"({c}x{out[0]}x{out[1]}). Output size is too small"
        )
    planes = (int(np.prod(shape[:-dims])),) + spatial
    out_shape = shape[:-dims] + out[2 - dims :]
    return _Windows(shape, planes, k, s, p, d, out, out_shape)


_RULE = "must either be a single int, or a tuple of two ints"
_RULE_S = "must either be omitted, a single int, or a tuple of two ints"
_RULE_D = "must be either a single int, or a tuple of two ints"


def _check_1d(k: int, s: int, p: int, d: int, op: str) -> None:
    for name, v in (("kernel_size", k), ("stride", s), ("dilation", d)):
        if v < 1:
            raise RuntimeError(f"{op}() {name} must be greater than zero, but got {v}")
    if p < 0:
        raise RuntimeError(f"{op}() padding must be non-negative, but got {p}")
    if 2 * p > k:
        raise RuntimeError(
            f"{op}() padding should be at most half of kernel size, but got padding={p} and "
            f"kernel_size={k}"
        )


def _check_2d(k: tuple, s: tuple, p: tuple, d: tuple, op: str) -> None:
    if min(k) <= 0:
        raise RuntimeError(
            f"{op}: kernel size should be greater than zero, but got kH: {k[0]} kW: {k[1]}"
        )
    if min(s) <= 0:
        raise RuntimeError(f"{op}: stride should not be zero")
    if min(d) <= 0:
        raise RuntimeError(
            f"{op}: dilation should be greater than zero, but got dilationH: {d[0]} "
            f"dilationW: {d[1]}"
        )
    if min(p) < 0:
        raise RuntimeError(f"{op}: pad must be non-negative, but got pad: {min(p)}")
    for i in (0, 1):
        if p[i] > (d[i] * (k[i] - 1) + 1) // 2:
            raise RuntimeError(
                f"{op}: pad should be at most half of effective kernel size, but got "
                f"pad={p[i]}, kernel_size={k[i]} and dilation={d[i]}"
            )
    if 2 * p[0] > k[0] or 2 * p[1] > k[1]:
        raise RuntimeError(
            f"{op}: pad should be smaller than or equal to half of kernel size, but got "
            f"padW = {p[1]}, padH = {p[0]}, kW = {k[1]}, kH = {k[0]}"
        )


def _empty(v) -> bool:
    return isinstance(v, Sequence) and len(v) == 0


def _ints1(value, name: str, op: str) -> int:
    if isinstance(value, (int, np.integer)):
        return int(value)
    value = tuple(value)
    if len(value) != 1:
        raise RuntimeError(
            f"{op}() {name} must be an int, list of ints or tuple of ints of size 1 but got size "
            f"{len(value)}"
        )
    return int(value[0])


# ----------------------------------------------------------------------------------------------
# max pooling
# ----------------------------------------------------------------------------------------------


def _lowest(dtype: np.dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _first_valid(win: _Windows, i: int) -> np.ndarray:
    """Per window along axis i: the first coordinate of it that lies inside the input."""
    start, d = win.starts(i), win.d[i]
    return np.where(start < 0, start + d * ((-start + d - 1) // d), start)


def _winners(first: np.ndarray, rest: list) -> tuple[np.ndarray, np.ndarray]:
    """The elementwise max of (first, *rest) and which of them holds it: the first maximum,
    or the last NaN (PyTorch's rule)."""
    best = first.copy()
    at = np.zeros(best.shape, np.int16 if len(rest) < 32767 else np.int32)
    take = np.empty(best.shape, bool)
    for k, v in enumerate(rest, 1):
        np.greater(v, best, out=take)
        np.maximum(at, take * at.dtype.type(k), out=at)  # later winners have larger k
        np.maximum(best, v, out=best)
    if best.dtype.kind == "f" and np.isnan(best).any():  # again, letting every NaN win
        best[...] = first
        at[...] = 0
        for k, v in enumerate(rest, 1):
            take = (v > best) | np.isnan(v)
            at[take] = k
            best[take] = v[take]
    return best, at


def _max_windows(x3: np.ndarray, win: _Windows, need_index: bool):
    """Max of each window of the (B, H, W) planes and, if asked, the flat index (into H * W)
    of its first maximum (of its last NaN, when it has NaNs, as PyTorch picks)."""
    if win.tiles() and win.k[0] * win.k[1] > _BIG_TILE:
        found = _max_big_tiles(x3, win, need_index)
        if found is not None:
            return found
    fill = _lowest(x3.dtype)
    xp = win.padded(x3, fill)
    offsets = win.offsets()
    if not need_index:
        best = win.view(xp, 0, 0).copy()  # (B, Ho, Wo)
        for i, j in offsets[1:]:
            np.maximum(best, win.view(xp, i, j), out=best)
        return best, None
    w, (dh, dw) = win.size[1], win.d
    best, at = _winners(win.view(xp, 0, 0), [win.view(xp, i, j) for i, j in offsets[1:]])
    idx = np.take(np.array([i * dh * w + j * dw for i, j in offsets]), at)  # from window start
    idx += (win.starts(0) * w)[:, None] + win.starts(1)  # (Ho, Wo) window origins
    if xp is not x3 and any(win.p):
        # a window whose values all equal the padding value points at its first input element
        low = best == fill
        if low.any():
            first = _first_valid(win, 0)[:, None] * w + _first_valid(win, 1)  # (Ho, Wo)
            idx[low] = np.broadcast_to(first, best.shape)[low]
    return best, idx


_BIG_TILE = 64  # windows larger than this that tile the input reduce as reshaped blocks


def _max_big_tiles(x3: np.ndarray, win: _Windows, need_index: bool):
    """Max (and first argmax) of large windows that tile the planes, as block reductions;
    None when NaNs need the element-wise rule."""
    (kh, kw), (ho, wo), w = win.k, win.out, win.size[1]
    blocks = x3[:, : ho * kh, : wo * kw].reshape(-1, ho, kh, wo, kw)  # (B, Ho, kh, Wo, kw)
    if not need_index:
        return blocks.max(axis=(2, 4)), None
    flat = blocks.transpose(0, 1, 3, 2, 4).reshape(-1, ho, wo, kh * kw)  # (B, Ho, Wo, kh * kw)
    at = flat.argmax(-1)  # first maximum, row-major within the window
    best = np.take_along_axis(flat, at[..., None], -1)[..., 0]
    if best.dtype.kind == "f" and np.isnan(best).any():
        return None
    idx = (at // kw + (np.arange(ho) * kh)[:, None]) * w + at % kw + np.arange(wo) * kw
    return best, idx


class MaxPool(Function):
    """out = max of each window;  dx = g sent to each window's first maximum"""

    @staticmethod
    def forward(ctx, x, win, return_indices):
        need = return_indices or ctx.needs_input_grad[0]
        out, idx = _max_windows(x.reshape(win.planes), win, need)
        ctx.win = win
        ctx.save_for_backward(idx)
        out = out.reshape(win.out_shape)
        if return_indices:
            return out, idx.reshape(win.out_shape)
        return out

    @staticmethod
    def backward(ctx, grad, *_):
        (idx,) = ctx.saved_arrays
        return PoolScatter.apply(grad, idx, ctx.win.in_shape, ctx.win.disjoint), None, None


def _flat(idx: np.ndarray) -> np.ndarray:
    """(B, *out) indices as (B, Ho * Wo)."""
    return idx.reshape(idx.shape[0], int(np.prod(idx.shape[1:])))


class PoolScatter(Function):
    """out = zeros of the input's shape with g added at the flat plane indices idx;  dg = out's grad gathered at idx"""

    @staticmethod
    def forward(ctx, g, idx, in_shape, disjoint):
        ctx.out_shape, ctx.disjoint = g.shape, disjoint
        ctx.save_for_backward(idx)
        b = idx.shape[0]
        size = int(np.prod(in_shape)) // b if b else 0
        flat = _flat(idx)
        gf = g.reshape(flat.shape)
        if disjoint:  # no index repeats within a plane: one fancy-indexed write
            dx = np.zeros((b, size), g.dtype)
            np.put_along_axis(dx, flat, gf, 1)
            return dx.reshape(in_shape)
        where = (flat + (np.arange(b) * size)[:, None]).ravel()
        dx = np.bincount(where, weights=gf.ravel(), minlength=b * size)
        return dx.astype(g.dtype, copy=False).reshape(in_shape)

    @staticmethod
    def backward(ctx, gg):
        (idx,) = ctx.saved_arrays
        return PoolGather.apply(gg, idx, ctx.out_shape, ctx.disjoint), None, None, None


class PoolGather(Function):
    """out = x gathered at the flat plane indices idx;  dx = g added back at idx"""

    @staticmethod
    def forward(ctx, x, idx, out_shape, disjoint):
        ctx.in_shape, ctx.disjoint = x.shape, disjoint
        ctx.save_for_backward(idx)
        b = idx.shape[0]
        return np.take_along_axis(x.reshape(b, x.size // b if b else 0), _flat(idx), 1).reshape(
            out_shape
        )

    @staticmethod
    def backward(ctx, g):
        (idx,) = ctx.saved_arrays
        return PoolScatter.apply(g, idx, ctx.in_shape, ctx.disjoint), None, None, None


def _max_pool(input, dims, kernel_size, stride, padding, dilation, ceil_mode, return_indices, op):
    win = _windows(input, dims, kernel_size, stride, padding, dilation, ceil_mode, op)
    return MaxPool.apply(input, win, bool(return_indices))


def max_pool2d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    """Max over kH x kW windows of (N, C, H, W) or (C, H, W) input (padding counts as -inf).

    With ``return_indices`` also returns, per output, the flat index into H * W of the
    window's maximum (the first one, on ties).

    >>> import mytorch.core as mt
    >>> out, idx = max_pool2d(mt.tensor([[[1.0, 3.0], [2.0, 0.0]]]), 2, return_indices=True)
    >>> out.tolist(), idx.tolist()
    ([[[3.0]]], [[[1]]])
    """
    return _max_pool(
        input, 2, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool2d"
    )


def max_pool1d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    """Max over windows of length k along the last dim of (N, C, L) or (C, L) input."""
    return _max_pool(
        input, 1, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool1d"
    )


# ----------------------------------------------------------------------------------------------
# average pooling
# ----------------------------------------------------------------------------------------------


def _axis_divisor(win: _Windows, i: int, count_include_pad: bool) -> np.ndarray:
    """Per window along axis i: how many elements it averages (PyTorch's rule: padding counts
    when count_include_pad, the ceil_mode overhang past the padding never does)."""
    n, p = win.size[i], win.p[i]
    start = win.starts(i)
    end = np.minimum(start + win.k[i], n + p)
    if count_include_pad:
        return end - start
    return np.minimum(end, n) - np.maximum(start, 0)


def _divisor(win: _Windows, count_include_pad: bool, divisor_override):
    """A scalar, or (Ho, Wo) counts when windows differ."""
    if divisor_override is not None:
        return divisor_override
    counts = np.multiply.outer(
        _axis_divisor(win, 0, count_include_pad), _axis_divisor(win, 1, count_include_pad)
    )
    first = int(counts.flat[0])
    return first if (counts == first).all() else counts


def _divide(s: np.ndarray, div) -> np.ndarray:
    if s.dtype.kind == "f":
        return np.divide(s, np.asarray(div, s.dtype), out=s)
    return np.sign(s) * (np.abs(s) // div)  # integer division truncating toward zero


class AvgPool(Function):
    """out = sum of each window / divisor;  dx = g / divisor added over each window"""

    @staticmethod
    def forward(ctx, x, win, div):
        ctx.win, ctx.div = win, div
        x3 = x.reshape(win.planes)
        if x3.dtype.kind in "iu":
            x3 = x3.astype(np.int64)
        if win.tiles() and win.k[0] * win.k[1] > _BIG_TILE:
            (kh, kw), (ho, wo) = win.k, win.out
            acc = x3[:, : ho * kh, : wo * kw].reshape(-1, ho, kh, wo, kw).sum(axis=(2, 4))
        else:
            xp = win.padded(x3, 0)
            offsets = win.offsets()
            acc = win.view(xp, *offsets[0]).copy()  # (B, Ho, Wo)
            for i, j in offsets[1:]:
                acc += win.view(xp, i, j)
        return _divide(acc, div).astype(x.dtype, copy=False).reshape(win.out_shape)

    @staticmethod
    def backward(ctx, grad):
        return AvgPoolBackward.apply(grad, ctx.win, ctx.div), None, None


class AvgPoolBackward(Function):
    """out = g / divisor added over each window (AvgPool's adjoint);  dg = AvgPool of out's grad"""

    @staticmethod
    def forward(ctx, g, win, div):
        ctx.win, ctx.div = win, div
        b, (h, w), (ph, pw) = win.planes[0], win.size, win.p
        gd = g.reshape(b, *win.out) / np.asarray(div, g.dtype)  # (B, Ho, Wo)
        (kh, kw), (ho, wo) = win.k, win.out
        if win.tiles():  # each input element gets its window's value
            blocks = np.empty((b, ho, kh, wo, kw), g.dtype)
            blocks[...] = gd[:, :, None, :, None]
            blocks = blocks.reshape(b, ho * kh, wo * kw)
            if (ho * kh, wo * kw) == (h, w):
                return blocks.reshape(win.in_shape)
            dx = np.zeros((b, h, w), g.dtype)
            dx[:, : ho * kh, : wo * kw] = blocks
            return dx.reshape(win.in_shape)
        if win.needs_padding():
            dxp = np.zeros((b, max(win.reach(0), ph + h), max(win.reach(1), pw + w)), g.dtype)
        else:
            dxp = np.zeros((b, h, w), g.dtype)
        for i, j in win.offsets():
            win.view(dxp, i, j)[...] += gd
        return np.ascontiguousarray(dxp[:, ph : ph + h, pw : pw + w]).reshape(win.in_shape)

    @staticmethod
    def backward(ctx, gg):
        return AvgPool.apply(gg, ctx.win, ctx.div), None, None


def _avg_pool(input, dims, kernel_size, stride, padding, ceil_mode, count_include_pad, div, op):
    win = _windows(input, dims, kernel_size, stride, padding, 1, ceil_mode, op)
    if div is not None and int(div) == 0:
        raise RuntimeError(f"{op}: divisor must be not zero")
    return AvgPool.apply(input, win, _divisor(win, bool(count_include_pad), div))


def avg_pool2d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """Mean over kH x kW windows of (N, C, H, W) or (C, H, W) input.

    Zero padding counts in the divisor when ``count_include_pad``; ``divisor_override``
    replaces the divisor altogether.
    """
    return _avg_pool(
        input,
        2,
        kernel_size,
        stride,
        padding,
        ceil_mode,
        count_include_pad,
        divisor_override,
        "avg_pool2d",
    )


def avg_pool1d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """Mean over windows of length k along the last dim of (N, C, L) or (C, L) input."""
    return _avg_pool(
        input, 1, kernel_size, stride, padding, ceil_mode, count_include_pad, None, "avg_pool1d"
    )


# ----------------------------------------------------------------------------------------------
# adaptive pooling
# ----------------------------------------------------------------------------------------------


def _adaptive_sizes(input: Tensor, output_size, dims: int, op: str) -> tuple:
    nd = input.ndim
    if nd not in (dims + 1, dims + 2) or 0 in input.shape[nd - dims - 1 :]:
        raise RuntimeError(
            f"{op}(): Expected {dims + 1}D or {dims + 2}D tensor, but got: {list(input.shape)}"
        )
    if isinstance(output_size, (int, np.integer)) or output_size is None:
        sizes = (output_size,) * dims
    else:
        sizes = tuple(output_size)
        if len(sizes) != dims:
            raise RuntimeError(f"{op}: output_size must be {dims}")
    spatial = input.shape[nd - dims :]
    sizes = tuple(n if s is None else int(s) for s, n in zip(sizes, spatial))
    if min(sizes) < 0:
        raise RuntimeError(
            f"{op}: elements of output_size must be greater than or equal to 0 but received "
            f"{list(sizes)}"
        )
    return sizes


def _adaptive_avg(input: Tensor, sizes: tuple, dims: int) -> Tensor:
    spatial = input.shape[-dims:]
    if 0 in sizes:
        return Tensor._make(np.zeros(input.shape[:-dims] + sizes, input.dtype))
    if all(m and n % m == 0 for n, m in zip(spatial, sizes)) and input.dtype.kind == "f":
        k = tuple(n // m for n, m in zip(spatial, sizes))
        op = "adaptive_avg_pool1d" if dims == 1 else "adaptive_avg_pool2d"
        win = _windows(input, dims, k if dims == 2 else k[0], None, 0, 1, False, op)
        return AvgPool.apply(input, win, int(np.prod(k)))
    if input.dtype.kind != "f":
        raise NotImplementedError(f"adaptive_avg_pool: not implemented for '{input.dtype}'")
    out = input
    for axis, (n, m) in enumerate(zip(spatial, sizes), start=input.ndim - dims):
        if n != m:
            out = axis_taps(out, axis, *_adaptive_taps(n, m, input.dtype))
    return out


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Mean over the windows that split H x W into ``output_size`` (None keeps a size).

    Output cell i spans input rows [floor(i * H / Ho), ceil((i + 1) * H / Ho)).
    """
    return _adaptive_avg(input, _adaptive_sizes(input, output_size, 2, "adaptive_avg_pool2d"), 2)


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    """Mean over the windows that split the last dim of (N, C, L) or (C, L) into output_size."""
    if not isinstance(output_size, (int, np.integer)) and len(output_size) != 1:
        raise RuntimeError(
            f"adaptive_avg_pool1d() argument 'output_size' should contain one int (got "
            f"{len(output_size)})"
        )
    return _adaptive_avg(input, _adaptive_sizes(input, output_size, 1, "adaptive_avg_pool1d"), 1)


def _running_max(x: np.ndarray, taps: list, axis: int):
    """Max over taps along ``axis`` and the index that won (the first maximum, or the last
    NaN): taps are index vectors, each gathered along ``axis``."""
    best, at = _winners(
        np.take(x, taps[0], axis=axis), [np.take(x, t, axis=axis) for t in taps[1:]]
    )
    table = np.stack(taps)  # (K, m)
    m = table.shape[1]
    pos = np.arange(m).reshape((-1,) + (1,) * (x.ndim - axis - 1))
    return best, np.take(table.ravel(), at * m + pos)


class AdaptiveMaxPool(Function):
    """out = max of each adaptive window;  dx = g sent to each window's first maximum"""

    @staticmethod
    def forward(ctx, x, in_shape, out_shape, sizes, return_indices):
        (h, w), (ho, wo) = sizes
        x3 = x.reshape(-1, h, w)
        (hs, he), (ws, we) = _adaptive_bounds(h, ho), _adaptive_bounds(w, wo)
        rows = [np.minimum(hs + a, he - 1) for a in range(int((he - hs).max()))]
        cols = [np.minimum(ws + b, we - 1) for b in range(int((we - ws).max()))]
        # the max of each row of a window, then the max of those: separable, and the first
        # maximum in row-major order since each row keeps its first and rows go top down
        row_best, col = _running_max(x3, cols, 2)  # (B, H, Wo)
        best, row = _running_max(row_best, rows, 1)  # (B, Ho, Wo)
        idx = row * w + np.take_along_axis(col, row, 1)
        ctx.in_shape = in_shape
        ctx.save_for_backward(idx)
        out = best.reshape(out_shape)
        return (out, idx.reshape(out_shape)) if return_indices else out

    @staticmethod
    def backward(ctx, grad, *_):
        (idx,) = ctx.saved_arrays
        return PoolScatter.apply(grad, idx, ctx.in_shape, False), None, None, None, None


def _adaptive_max(input: Tensor, sizes: tuple, dims: int, return_indices: bool, op: str):
    spatial = input.shape[-dims:]
    if input.dtype.kind not in "fiu":
        raise NotImplementedError(f"\"{op}\" not implemented for '{input.dtype}'")
    out_shape = input.shape[:-dims] + sizes
    if 0 in sizes:
        empty = Tensor._make(np.zeros(out_shape, input.dtype))
        return (empty, Tensor._make(np.zeros(out_shape, np.int64))) if return_indices else empty
    if all(n % m == 0 for n, m in zip(spatial, sizes)):
        k = tuple(n // m for n, m in zip(spatial, sizes))
        win = _windows(input, dims, k if dims == 2 else k[0], None, 0, 1, False, op)
        return MaxPool.apply(input, win, bool(return_indices))
    if dims == 1:
        spatial, sizes = (1,) + spatial, (1,) + sizes
    return AdaptiveMaxPool.apply(
        input, input.shape, out_shape, (spatial, sizes), bool(return_indices)
    )


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """Max over the windows that split H x W into ``output_size`` (None keeps a size);
    ``return_indices`` also returns each maximum's flat index into H * W."""
    sizes = _adaptive_sizes(input, output_size, 2, "adaptive_max_pool2d")
    return _adaptive_max(input, sizes, 2, return_indices, "adaptive_max_pool2d")


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):
    """Max over the windows that split the last dim of (N, C, L) or (C, L) into output_size."""
    if not isinstance(output_size, (int, np.integer)) and len(output_size) != 1:
        raise RuntimeError(
            f"adaptive_max_pool1d() argument 'output_size' should contain one int (got "
            f"{len(output_size)})"
        )
    sizes = _adaptive_sizes(input, output_size, 1, "adaptive_max_pool1d")
    return _adaptive_max(input, sizes, 1, return_indices, "adaptive_max_pool1d")
