"""Resampling: ``interpolate`` (nearest, linear, cubic, area) and pixel/channel shuffles.

Every interpolation mode is separable: along each spatial axis an output element is a
weighted sum of a few input elements ("taps": 1 for nearest, 2 for linear, 4 for cubic).
So ``interpolate`` applies one ``AxisTaps`` node per resized axis, a gather and a multiply-add
per tap; its backward scatters the weighted gradient back with sorted segment sums.

>>> import mytorch.core as mt
>>> x = mt.tensor([[[1.0, 2.0]]])
>>> interpolate(x, scale_factor=2).tolist()
[[[1.0, 1.0, 2.0, 2.0]]]
>>> interpolate(x, size=3, mode="linear", align_corners=True).tolist()
[[[1.0, 1.5, 2.0]]]
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np

from mytorch.core.autograd import Function
from mytorch.core.tensor import Tensor

__all__ = [
    "interpolate",
    "upsample",
    "upsample_nearest",
    "upsample_bilinear",
    "pixel_shuffle",
    "pixel_unshuffle",
    "channel_shuffle",
]


# ----------------------------------------------------------------------------------------------
# weighted gathers along one axis
# ----------------------------------------------------------------------------------------------


def _along(axis: int, ndim: int, index) -> tuple:
    return (slice(None),) * axis + (index,) + (slice(None),) * (ndim - axis - 1)


def _weight(w: np.ndarray, axis: int, ndim: int) -> np.ndarray:
    """A (m,) weight vector shaped to broadcast along ``axis``."""
    return w.reshape((-1,) + (1,) * (ndim - axis - 1))


class AxisTaps(Function):
    """out[o] = sum_k w[k, o] * x[idx[k, o]] along one axis;  dx[i] = sum of w[k, o] * g[o] over the (k, o) with idx[k, o] = i"""

    @staticmethod
    def forward(ctx, x, axis, idx, weight):
        n = x.shape[axis]
        ctx.axis, ctx.n = axis, n
        ctx.save_for_backward(idx, weight)
        if idx.shape[0] > 1 and _use_dense(idx, n):
            return _matmul_along(x, _dense(idx, weight, n, x.dtype), axis)
        out = None
        for k in range(idx.shape[0]):
            t = np.take(x, idx[k], axis=axis)
            if weight is not None:
                t *= _weight(weight[k], axis, x.ndim)
            out = t if out is None else np.add(out, t, out=out)
        return out

    @staticmethod
    def backward(ctx, grad):
        idx, weight = ctx.saved_arrays
        return AxisTapsBackward.apply(grad, ctx.axis, idx, weight, ctx.n), None, None, None


class AxisTapsBackward(Function):
    """out[i] = sum of w[k, o] * g[o] over the (k, o) with idx[k, o] = i (AxisTaps' adjoint);  dg = AxisTaps of out's grad"""

    @staticmethod
    def forward(ctx, g, axis, idx, weight, n):
        ctx.axis = axis
        ctx.save_for_backward(idx, weight)
        if _use_dense(idx, n):
            return _matmul_along(g, _dense(idx, weight, n, g.dtype).T, axis)
        shape = list(g.shape)
        shape[axis] = n
        dx = np.zeros(shape, g.dtype)
        for k in range(idx.shape[0]):
            _add_along(dx, g, None if weight is None else weight[k], idx[k], axis)
        return dx

    @staticmethod
    def backward(ctx, gg):
        idx, weight = ctx.saved_arrays
        return AxisTaps.apply(gg, ctx.axis, idx, weight), None, None, None, None


def _use_dense(idx: np.ndarray, n: int) -> bool:
    """Whether a matmul (n multiply-adds per output, on BLAS) beats K gathers per output."""
    return n <= 32 * (idx.shape[0] + 2)


def _dense(idx: np.ndarray, weight: np.ndarray | None, n: int, dtype) -> np.ndarray:
    """The taps as an (m, n) matrix."""
    k, m = idx.shape
    mat = np.zeros((m, n), dtype)
    rows = np.broadcast_to(np.arange(m), (k, m))
    np.add.at(mat, (rows, idx), 1 if weight is None else weight)
    return mat


def _matmul_along(x: np.ndarray, mat: np.ndarray, axis: int) -> np.ndarray:
    """out[.., o, ..] = sum_i mat[o, i] * x[.., i, ..] along ``axis``."""
    if axis == x.ndim - 1:
        return x @ mat.T
    if axis == x.ndim - 2:
        return np.matmul(mat, x)
    return np.moveaxis(np.tensordot(mat, x, axes=([1], [axis])), 0, axis)


def _as_slice(ix: np.ndarray):
    """An index array as an equivalent slice when it is an arithmetic progression."""
    if ix.size == 1:
        return slice(int(ix[0]), int(ix[0]) + 1)
    step = int(ix[1] - ix[0])
    if step > 0 and (np.diff(ix) == step).all():
        return slice(int(ix[0]), int(ix[-1]) + 1, step)
    return ix


def _add_along(dx: np.ndarray, g: np.ndarray, w, idx: np.ndarray, axis: int) -> None:
    """``dx[.., idx[o], ..] += w[o] * g[.., o, ..]`` for a non-decreasing ``idx`` (repeats add
    up; ``w`` a vector, or None for ones).

    Rows fed by runs of one length r take strided slices (r adds); the few rows around them
    (at the borders) add their own runs. Irregular runs fall back to one gather and one add
    per rank k (the k-th members of the runs hit distinct rows).
    """
    m, nd = idx.size, dx.ndim
    if m == 0:
        return
    new = np.empty(m, bool)
    new[0] = True
    np.not_equal(idx[1:], idx[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    rows = idx[starts]
    runs = np.diff(starts, append=m)
    a, b, r = _regular_block(runs)
    if rows.size - (b - a) <= 8:
        if b > a:
            o0, o1 = int(starts[a]), int(starts[b - 1]) + r
            total = None
            for k in range(r):
                sl = slice(o0 + k, o1, r)
                part = g[_along(axis, nd, sl)]
                if w is not None:
                    part = part * _weight(w[sl], axis, nd)
                total = part if total is None else np.add(total, part, out=total)
            dx[_along(axis, nd, _as_slice(rows[a:b]))] += total
        for i in (*range(a), *range(b, rows.size)):  # the irregular rows, one by one
            sl = slice(int(starts[i]), int(starts[i] + runs[i]))
            part = g[_along(axis, nd, sl)]
            if w is not None:
                part = part * _weight(w[sl], axis, nd)
            dx[_along(axis, nd, slice(int(rows[i]), int(rows[i]) + 1))] += part.sum(
                axis, keepdims=True
            )
        return
    shape = list(g.shape)
    shape[axis] = m + 1
    gw = np.empty(shape, g.dtype)  # w * g with a zero at position m for the missing members
    body = gw[_along(axis, nd, slice(0, m))]
    if w is not None:
        np.multiply(g, _weight(w, axis, nd), out=body)
    else:
        body[...] = g
    gw[_along(axis, nd, m)] = 0
    target = _as_slice(rows)
    for k in range(int(runs.max())):
        src = np.where(runs > k, starts + k, m)
        dx[_along(axis, nd, target)] += np.take(gw, src, axis=axis)


def _regular_block(runs: np.ndarray) -> tuple[int, int, int]:
    """The longest stretch [a, b) of equal run lengths r whose rows are consecutive."""
    change = np.flatnonzero(np.diff(runs)) + 1
    edges = np.concatenate(([0], change, [runs.size]))
    longest = int(np.argmax(np.diff(edges)))
    a, b = int(edges[longest]), int(edges[longest + 1])
    return a, b, int(runs[a])


def axis_taps(input: Tensor, axis: int, idx: np.ndarray, weight: np.ndarray | None) -> Tensor:
    """Resample ``input`` along ``axis``: out[o] = sum_k weight[k, o] * input[idx[k, o]].

    ``idx`` (K, m) must be non-decreasing along o; ``weight`` (K, m) of input's dtype, or None
    for K = 1 and unit weights.
    """
    return AxisTaps.apply(input, axis, idx, weight)


# ----------------------------------------------------------------------------------------------
# source indices and weights per mode (PyTorch's CPU kernels' arithmetic, dtype included)
# ----------------------------------------------------------------------------------------------


def _adaptive_bounds(n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Adaptive windows along one axis: [floor(i * n / m), ceil((i + 1) * n / m))."""
    i = np.arange(m)
    return (i * n) // m, -((-(i + 1) * n) // m)


def _adaptive_taps(n: int, m: int, dtype) -> tuple[np.ndarray, np.ndarray]:
    """Averaging along one axis as taps: (K, m) indices and weights, K the widest window."""
    start, end = _adaptive_bounds(n, m)
    k = int((end - start).max()) if m else 0
    at = start + np.arange(k)[:, None]  # (K, m)
    idx = np.minimum(at, end - 1)
    weight = np.where(at < end, 1.0 / (end - start), 0.0).astype(dtype)
    return idx, weight


def _nearest_scale(n: int, m: int, scale: float | None) -> np.float32:
    if scale is not None and scale > 0:
        return np.float32(1.0 / scale)
    return np.float32(n) / np.float32(m)


def _nearest(n: int, m: int, scale, exact: bool, planar: bool):
    if planar and not exact and (m == n or m == 2 * n):
        # PyTorch's 2-d nearest kernel ignores the scale for same-size and doubled outputs
        return (np.arange(m) >> (m != n))[None], None
    s = _nearest_scale(n, m, scale)
    dst = np.arange(m)
    if exact:
        src = np.floor(((dst + 0.5) * np.float64(s)).astype(np.float32))
    else:
        src = np.floor(dst.astype(np.float32) * s)
    return np.minimum(src.astype(np.int64), n - 1)[None], None


def _linear_scale(n: int, m: int, align_corners: bool, scale, dt):
    if align_corners:
        return dt(n - 1) / dt(m - 1) if m > 1 else dt(0)
    if scale is not None and scale > 0:
        return dt(1.0 / scale)
    return dt(n) / dt(m)


def _source(n: int, m: int, align_corners: bool, scale, dt, cubic: bool) -> np.ndarray:
    s = _linear_scale(n, m, align_corners, scale, dt)
    dst = np.arange(m, dtype=dt)
    if align_corners:
        return s * dst
    src = s * (dst + dt(0.5)) - dt(0.5)
    return src if cubic else np.maximum(src, dt(0))


def _linear(n: int, m: int, align_corners: bool, scale, dt):
    if n == m:
        return np.arange(m)[None], None
    src = _source(n, m, align_corners, scale, dt, cubic=False)
    i0 = np.minimum(np.floor(src).astype(np.int64), n - 1)
    lam = np.clip(src - i0.astype(dt), dt(0), dt(1))
    i1 = i0 + (i0 < n - 1)
    return np.stack([i0, i1]), np.stack([dt(1) - lam, lam])


def _cubic(n: int, m: int, align_corners: bool, scale, dt):
    src = _source(n, m, align_corners, scale, dt, cubic=True)
    i = np.minimum(np.floor(src).astype(np.int64), n - 1)
    t = np.clip(src - i.astype(dt), dt(0), dt(1))
    a = dt(-0.75)

    def near(x):  # |x| <= 1
        return ((a + dt(2)) * x - (a + dt(3))) * x * x + dt(1)

    def far(x):  # 1 < |x| < 2
        return ((a * x - dt(5) * a) * x + dt(8) * a) * x - dt(4) * a

    weight = np.stack([far(t + dt(1)), near(t), near(dt(1) - t), far(dt(2) - t)])
    idx = np.clip(i + np.arange(-1, 3)[:, None], 0, n - 1)
    return idx, weight


# ----------------------------------------------------------------------------------------------
# interpolate
# ----------------------------------------------------------------------------------------------

_LINEAR = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}
_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "nearest-exact")


def _output_sizes(input: Tensor, size, scale_factor, recompute_scale_factor, mode: str):
    """Output sizes and the scale factors the kernels use (None where sizes decide)."""
    dims = input.ndim - 2
    spatial = list(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, Sequence):
            if len(size) != dims:
                raise ValueError(
                    f"Input and output must have the same number of spatial dimensions, but got "
                    f"input with spatial dimensions of {spatial} and output size of {size}. "
                    f"Please provide input tensor in (N, C, d1, d2, ...,dK) format and output "
                    f"size in (o1, o2, ...,oK) format."
                )
            if not all(isinstance(s, (int, np.integer)) for s in size):
                raise TypeError(
                    f"expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                    f"Tuple[int, int, int], but got size with types {[type(s) for s in size]}"
                )
            sizes = [int(s) for s in size]
        else:
            sizes = [int(size)] * dims
        scales = [None] * dims
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    elif scale_factor is not None:
        if isinstance(scale_factor, Sequence):
            if len(scale_factor) != dims:
                raise ValueError(
                    f"Input and scale_factor must have the same number of spatial dimensions, "
                    f"but got input with spatial dimensions of {spatial} and scale_factor of "
                    f"shape {scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) "
                    f"format and scale_factor in (s1, s2, ...,sK) format."
                )
            scales = [float(s) for s in scale_factor]
        else:
            scales = [float(scale_factor)] * dims
        sizes = [math.trunc(n * s) for n, s in zip(spatial, scales)]
        if recompute_scale_factor or mode == "area":
            scales = [None] * dims
    else:
        raise ValueError("either size or scale_factor should be defined")
    if min(sizes) <= 0:
        names = ("D", "H", "W")[3 - dims :]
        raise RuntimeError(
            f"Input and output sizes should be greater than 0, but got input "
            f"({', '.join(f'{a}: {n}' for a, n in zip(names, spatial))}) output "
            f"({', '.join(f'{a}: {n}' for a, n in zip(names, sizes))})"
        )
    return sizes, scales


def interpolate(
    input: Tensor,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resize the spatial dims of (N, C, L), (N, C, H, W) or (N, C, D, H, W) input.

    ``mode``: 'nearest' (source index floor(dst * scale)), 'nearest-exact' (pixel centers),
    'linear' / 'bilinear' / 'trilinear' / 'bicubic' (``align_corners`` maps corner pixel
    centers onto each other), 'area' (adaptive average pooling). With ``scale_factor`` the
    kernels use 1 / scale_factor as the scale unless ``recompute_scale_factor``.

    >>> import mytorch.core as mt
    >>> interpolate(mt.zeros(1, 3, 4, 4), scale_factor=2, mode="bilinear").shape
    (1, 3, 8, 8)
    """
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError(
                "align_corners option can only be set with the interpolating modes: linear | "
                "bilinear | bicubic | trilinear"
            )
    elif align_corners is None:
        align_corners = False
    if input.ndim not in (3, 4, 5) or mode not in _MODES:
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for "
            f"the modes: nearest | linear | bilinear | bicubic | trilinear | area | "
            f"nearest-exact (got {mode})"
        )
    sizes, scales = _output_sizes(input, size, scale_factor, recompute_scale_factor, mode)
    if antialias:
        if mode in ("bilinear", "bicubic") and input.ndim == 4:
            raise NotImplementedError("interpolate: antialias=True is not supported")
        raise ValueError(
            "Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and "
            "requires a 4-D tensor as input"
        )
    want = _LINEAR.get(mode)
    if want is not None and input.ndim != want:
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs {want}D input")
    if mode != "nearest" and mode != "nearest-exact" and input.dtype.kind != "f":
        raise NotImplementedError(f"\"upsample_{mode}\" not implemented for '{input.dtype}'")
    out = input
    dt = input.dtype.type if input.dtype.kind == "f" else np.float32
    for axis, (n, m, s) in enumerate(zip(input.shape[2:], sizes, scales), start=2):
        if mode == "nearest" or mode == "nearest-exact":
            idx, weight = _nearest(n, m, s, mode == "nearest-exact", input.ndim == 4)
            if n == m and (idx[0] == np.arange(m)).all():
                continue
        elif mode == "area":  # adaptive average pooling
            if n == m:
                continue
            idx, weight = _adaptive_taps(n, m, input.dtype)
        elif mode == "bicubic":
            idx, weight = _cubic(n, m, align_corners, s, dt)
        else:
            if n == m:
                continue
            idx, weight = _linear(n, m, align_corners, s, dt)
        out = AxisTaps.apply(out, axis, idx, weight)
    if out is input:
        return AxisTaps.apply(input, 2, np.arange(input.shape[2])[None], None)  # a new tensor
    return out


def _deprecated(name: str) -> None:
    warnings.warn(
        f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` instead.",
        stacklevel=3,
    )


def upsample(
    input: Tensor,
    size=None,
    scale_factor=None,
    mode: str = "nearest",
    align_corners=None,
    recompute_scale_factor=None,
) -> Tensor:
    """Deprecated alias of ``interpolate``."""
    _deprecated("upsample")
    return interpolate(input, size, scale_factor, mode, align_corners, recompute_scale_factor)


def upsample_nearest(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """Deprecated: ``interpolate(input, size, scale_factor, mode="nearest")``."""
    _deprecated("upsample_nearest")
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """Deprecated: ``interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)``."""
    _deprecated("upsample_bilinear")
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ----------------------------------------------------------------------------------------------
# pixel and channel shuffles
# ----------------------------------------------------------------------------------------------


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C * r * r, H, W) -> (*, C, H * r, W * r): channel blocks become r x r pixel blocks.

    >>> import mytorch.core as mt
    >>> pixel_shuffle(mt.arange(4.0).reshape(1, 4, 1, 1), 2).tolist()
    [[[[0.0, 1.0], [2.0, 3.0]]]]
    """
    r = int(upscale_factor)
    if input.ndim < 3:
        raise RuntimeError(
            f"pixel_shuffle expects input to have at least 3 dimensions, but got input with "
            f"{input.ndim} dimension(s)"
        )
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(
            f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the "
            f"square of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}"
        )
    n = len(lead)
    x = input.reshape((*lead, c // (r * r), r, r, h, w))  # (*, C, r, r, H, W)
    x = x.permute((*range(n), n, n + 3, n + 1, n + 4, n + 2))  # (*, C, H, r, W, r)
    return x.reshape((*lead, c // (r * r), h * r, w * r))


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H * r, W * r) -> (*, C * r * r, H, W): the inverse of ``pixel_shuffle``."""
    r = int(downscale_factor)
    if input.ndim < 3:
        raise RuntimeError(
            f"pixel_unshuffle expects input to have at least 3 dimensions, but got input with "
            f"{input.ndim} dimension(s)"
        )
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    *lead, c, h, w = input.shape
    if h % r:
        raise RuntimeError(
            f"pixel_unshuffle expects height to be divisible by downscale_factor, but "
            f"input.size(-2)={h} is not divisible by {r}"
        )
    if w % r:
        raise RuntimeError(
            f"pixel_unshuffle expects width to be divisible by downscale_factor, but "
            f"input.size(-1)={w} is not divisible by {r}"
        )
    n = len(lead)
    x = input.reshape((*lead, c, h // r, r, w // r, r))  # (*, C, H, r, W, r)
    x = x.permute((*range(n), n, n + 2, n + 4, n + 1, n + 3))  # (*, C, r, r, H, W)
    return x.reshape((*lead, c * r * r, h // r, w // r))


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """Interleave the channels (dim 1) of ``groups`` groups: (N, g * k, *) viewed as (N, g, k, *)
    -> (N, k, g, *).

    >>> import mytorch.core as mt
    >>> channel_shuffle(mt.arange(6.0).reshape(1, 6, 1), 2).flatten().tolist()
    [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
    """
    g = int(groups)
    if g <= 0:
        raise RuntimeError(
            f"Number of groups to divide channels in must be positive. Value of groups:{g}"
        )
    if input.ndim <= 2:
        raise RuntimeError(
            f"channel_shuffle expects input with > 2 dims, but got input with sizes "
            f"{list(input.shape)}"
        )
    n, c, *rest = input.shape
    if c % g:
        raise RuntimeError(
            f"Number of channels must be divisible by groups. Got {c} channels and {g} groups."
        )
    x = input.reshape((n, g, c // g, *rest)).transpose(1, 2)  # (N, C / g, g, *)
    return x.reshape((n, c, *rest))
