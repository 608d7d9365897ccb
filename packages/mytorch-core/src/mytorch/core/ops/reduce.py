"""Reductions: sum, mean, var/std, max/min, logsumexp, prod, cumsum, norm, all/any, sort/topk.

``dim`` is an int or a tuple of ints (negative counts from the end); ``None`` (or ``()``)
reduces every dimension. ``keepdim=True`` keeps reduced dimensions with size 1.

>>> import mytorch.core as mt
>>> x = mt.tensor([[1.0, 5.0], [3.0, 2.0]])
>>> x.sum(0).tolist(), x.max(1).indices.tolist(), x.norm().item()
([4.0, 7.0], [1, 0], 6.244997978210449)
"""

from __future__ import annotations

import builtins
import math
from collections import namedtuple
from types import SimpleNamespace

import numpy as np

from mytorch.core import dtypes
from mytorch.core.autograd import Function
from mytorch.core.ops.elementwise import (
    Where,
    abs,
    exp,
    maximum,
    minimum,
    pow,
    sign,
    torch_dtype_name,
)
from mytorch.core.tensor import Tensor

__all__ = [
    "sum",
    "mean",
    "var",
    "std",
    "max",
    "min",
    "amax",
    "amin",
    "argmax",
    "argmin",
    "logsumexp",
    "prod",
    "cumsum",
    "norm",
    "all",
    "any",
    "topk",
    "sort",
    "argsort",
]

#: Named (values, indices) results, like ``torch.return_types``.
return_types = SimpleNamespace(
    **{name: namedtuple(name, ["values", "indices"]) for name in ("max", "min", "sort", "topk")}
)


# ----------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------


def _check(input, op: str) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")
    return input


def _range_error(d: int, n: int) -> IndexError:
    return IndexError(
        f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})"
    )


def _dim(dim, ndim: int, op: str) -> int:
    """Normalize a single ``dim`` (negatives allowed; a 0-d tensor accepts 0 and -1)."""
    if isinstance(dim, (tuple, list)) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}(): argument 'dim' must be int, not {type(dim).__name__}")
    n = builtins.max(ndim, 1)
    if not -n <= dim < n:
        raise _range_error(dim, n)
    return builtins.int(dim) % n


def _dims(dim, ndim: int) -> tuple | None:
    """Normalize ``dim`` (None, int or sequence; negatives allowed) to a sorted tuple.

    None means every dimension (also for ``()`` and for 0-d inputs).
    """
    if dim is None:
        return None
    n = builtins.max(ndim, 1)
    if isinstance(dim, (int, np.integer)):
        if not -n <= dim < n:
            raise _range_error(dim, n)
        return (builtins.int(dim) % n,) if ndim else None
    out = []
    for d in dim:
        if not -n <= d < n:
            raise _range_error(d, n)
        d = builtins.int(d) % n
        if d in out:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        out.append(d)
    if not out or not ndim:
        return None
    return tuple(sorted(out))


def _keep_shape(shape: tuple, dims: tuple | None) -> tuple:
    if dims is None:
        return (1,) * len(shape)
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


def _count(shape: tuple, dims: tuple | None) -> int:
    if dims is None:
        return builtins.int(np.prod(shape, dtype=np.int64))
    return builtins.int(np.prod([shape[d] for d in dims], dtype=np.int64))


def _unreduce(g: Tensor, shape: tuple, dims, keepdim: bool) -> Tensor:
    """``g`` with the reduced dimensions put back as size 1 (ready to broadcast)."""
    if keepdim or not shape:
        return g
    return g.reshape(_keep_shape(shape, dims))


def _arr(r) -> np.ndarray:
    return r if type(r) is np.ndarray else np.asarray(r)


def _int_sum_dtype(a: np.ndarray, dtype):
    if dtype is not None:
        return dtypes.to_dtype(dtype)
    return dtypes.int64 if a.dtype.kind in "biu" else None


def _require_float(input: Tensor, message: str) -> None:
    if input.dtype.kind != "f":
        raise RuntimeError(message.format(torch_dtype_name(input.dtype)))


def _nonempty(input: Tensor, dims, op: str) -> None:
    if dims is None:
        if input.data.size == 0:
            raise RuntimeError(
                f"{op}(): Expected reduction dim to be specified for input.numel() == 0. "
                f"Specify the reduction dim with the 'dim' argument."
            )
        return
    for d in dims:
        if input.shape[d] == 0:
            raise IndexError(f"{op}(): Expected reduction dim {d} to have non-zero size.")


# ----------------------------------------------------------------------------------------------
# sum, mean, var, std
# ----------------------------------------------------------------------------------------------


class Sum(Function):
    """out = sum of a over dims;  da = g broadcast back to a's shape"""

    @staticmethod
    def forward(ctx, a, dims, keepdim, dtype):
        ctx.shape, ctx.dims, ctx.keepdim = a.shape, dims, keepdim
        if a.ndim == 0:
            return a.astype(a.dtype if dtype is None else dtype, copy=True)
        return np.sum(a, axis=dims, keepdims=keepdim, dtype=dtype)

    @staticmethod
    def backward(ctx, g):
        g = _unreduce(g, ctx.shape, ctx.dims, ctx.keepdim)
        return g.expand(ctx.shape), None, None, None


def sum(input, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Sum over ``dim`` (all dimensions by default); bool and integer inputs sum to int64.

    >>> import mytorch.core as mt
    >>> mt.sum(mt.tensor([[1, 2], [3, 4]]), dim=1).tolist()
    [3, 7]
    """
    _check(input, "sum")
    dims = _dims(dim, input.ndim)
    return Sum.apply(input, dims, keepdim, _int_sum_dtype(input.data, dtype))


class Mean(Function):
    """out = mean of a over dims;  da = g / n broadcast back to a's shape"""

    @staticmethod
    def forward(ctx, a, dims, keepdim, dtype):
        ctx.shape, ctx.dims, ctx.keepdim = a.shape, dims, keepdim
        ctx.n = _count(a.shape, dims)
        if a.ndim == 0:
            return a.astype(a.dtype if dtype is None else dtype, copy=True)
        if ctx.n == 0:
            with np.errstate(invalid="ignore"):
                s = np.sum(a, axis=dims, keepdims=keepdim, dtype=dtype)
                return _arr(s) / np.array(0, s.dtype)
        return np.mean(a, axis=dims, keepdims=keepdim, dtype=dtype)

    @staticmethod
    def backward(ctx, g):
        g = _unreduce(g * (1.0 / ctx.n if ctx.n else math.nan), ctx.shape, ctx.dims, ctx.keepdim)
        return g.expand(ctx.shape), None, None, None


def mean(input, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Mean over ``dim`` (all dimensions by default); floating inputs only unless ``dtype``."""
    _check(input, "mean")
    dims = _dims(dim, input.ndim)
    if dtype is not None:
        dtype = dtypes.to_dtype(dtype)
    elif input.dtype.kind != "f":
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {torch_dtype_name(input.dtype)}"
        )
    return Mean.apply(input, dims, keepdim, dtype)


def _correction(op: str, unbiased, correction) -> float:
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}(): pass either 'unbiased' or 'correction', not both")
    if correction is not None:
        return correction
    return 0 if unbiased is False else 1


def _dof_scale(n: int, correction) -> float:
    """1 / max(0, n - correction), infinite when nothing is left (as PyTorch divides by 0)."""
    dof = n - correction
    return 1.0 / dof if dof > 0 else math.inf


class Var(Function):
    """out = sum((a - mean(a))^2) / (n - correction);  da = 2 g (a - mean(a)) / (n - correction)"""

    @staticmethod
    def forward(ctx, a, dims, correction, keepdim):
        ctx.shape, ctx.dims, ctx.keepdim, ctx.correction = a.shape, dims, keepdim, correction
        ctx.save_for_backward(a)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.var(a, axis=dims, ddof=correction, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        g = _unreduce(g, ctx.shape, ctx.dims, ctx.keepdim)
        scale = 2.0 * _dof_scale(_count(ctx.shape, ctx.dims), ctx.correction)
        return (a - mean(a, ctx.dims, keepdim=True)) * (g * scale), None, None, None


class Std(Function):
    """out = sqrt(var(a));  da = g (a - mean(a)) / ((n - correction) out) (0 where out == 0)"""

    @staticmethod
    def forward(ctx, a, dims, correction, keepdim):
        ctx.shape, ctx.dims, ctx.keepdim, ctx.correction = a.shape, dims, keepdim, correction
        with np.errstate(divide="ignore", invalid="ignore"):
            out = _arr(np.std(a, axis=dims, ddof=correction, keepdims=keepdim))
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        g = _unreduce(g, ctx.shape, ctx.dims, ctx.keepdim)
        out = _unreduce(out, ctx.shape, ctx.dims, ctx.keepdim)
        scale = Where.apply(out.data == 0, 0.0, g / out)
        scale = scale * _dof_scale(_count(ctx.shape, ctx.dims), ctx.correction)
        return (a - mean(a, ctx.dims, keepdim=True)) * scale, None, None, None


def _var_args(op: str, input, dim, unbiased, correction) -> tuple:
    _check(input, op)
    if isinstance(dim, bool):  # the var(input, unbiased) overload
        dim, unbiased = None, dim
    _require_float(input, "std and var only support floating point and complex dtypes, got {}")
    return _dims(dim, input.ndim), _correction(op, unbiased, correction)


def var(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Variance over ``dim``, dividing by n - correction (correction 1 by default).

    ``unbiased=False`` means correction 0.

    >>> import mytorch.core as mt
    >>> mt.var(mt.tensor([1.0, 2.0, 3.0, 4.0])).item(), mt.var(mt.tensor([1.0, 3.0]), unbiased=False).item()
    (1.6666666269302368, 1.0)
    """
    dims, c = _var_args("var", input, dim, unbiased, correction)
    return Var.apply(input, dims, c, keepdim)


def std(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Standard deviation over ``dim`` (square root of ``var`` with the same arguments)."""
    dims, c = _var_args("std", input, dim, unbiased, correction)
    return Std.apply(input, dims, c, keepdim)


# ----------------------------------------------------------------------------------------------
# Picking elements along a dimension (max/min with dim, sort, topk)
# ----------------------------------------------------------------------------------------------


class TakeAlongDim(Function):
    """out = a picked at ``idx`` along ``dim``;  da = g put back at ``idx`` (zeros elsewhere)"""

    @staticmethod
    def forward(ctx, a, idx, dim, keepdim):
        ctx.dim, ctx.shape = dim, a.shape
        ctx.save_for_backward(idx)
        out = np.take_along_axis(a, idx, dim)
        return out if keepdim else np.squeeze(out, dim)

    @staticmethod
    def backward(ctx, g):
        (idx,) = ctx.saved_arrays
        if g.shape != idx.shape:
            g = g.reshape(idx.shape)
        return ScatterAlongDim.apply(g, idx, ctx.dim, ctx.shape), None, None, None


class ScatterAlongDim(Function):
    """out = zeros of ``shape`` with a put at ``idx`` along ``dim`` (idx distinct along dim);  da = g picked at idx"""

    @staticmethod
    def forward(ctx, a, idx, dim, shape):
        ctx.dim = dim
        ctx.save_for_backward(idx)
        out = np.zeros(shape, a.dtype)
        np.put_along_axis(out, idx, a, dim)
        return out

    @staticmethod
    def backward(ctx, g):
        return TakeAlongDim.apply(g, ctx.saved_arrays[0], ctx.dim, True), None, None, None


def _on_1d(fn, input: Tensor, *args):
    """Run ``fn`` on a 0-d tensor viewed as shape (1,) and give 0-d results back."""
    out = fn(input.reshape((1,)), 0, *args)
    return type(out)(*(t.reshape(()) for t in out)) if isinstance(out, tuple) else out.reshape(())


def _max_min_dim(input: Tensor, dim, keepdim: bool, largest: bool):
    op = "max" if largest else "min"
    if input.ndim == 0:
        _dim(dim, 0, op)
        return _on_1d(lambda x, d: _max_min_dim(x, d, False, largest), input)
    d = _dim(dim, input.ndim, op)
    _nonempty(input, (d,), op)
    idx = (np.argmax if largest else np.argmin)(input.data, axis=d, keepdims=True)
    values = TakeAlongDim.apply(input, idx, d, keepdim)
    indices = Tensor._make(idx if keepdim else np.squeeze(idx, d))
    return getattr(return_types, op)(values, indices)


def _extremum_forward(reduce):
    """AMax/AMin forward: ``reduce`` (np.amax or np.amin) of a over dims."""

    def forward(ctx, a, dims, keepdim, nan_ties=False):
        ctx.shape, ctx.dims, ctx.keepdim, ctx.nan_ties = a.shape, dims, keepdim, nan_ties
        out = _arr(reduce(a, axis=dims, keepdims=keepdim))
        ctx.save_for_backward(a, out)
        return out

    return staticmethod(forward)


def _even_split(ctx, g: Tensor) -> tuple:
    """AMax/AMin backward: g split evenly among the elements equal to the extremum."""
    a, out = ctx.saved_tensors
    o = out.data if ctx.keepdim else out.data.reshape(_keep_shape(ctx.shape, ctx.dims))
    hit = a.data == o
    if ctx.nan_ties:  # max()/min() of a whole tensor: a NaN result ties with every NaN (PyTorch)
        hit |= np.isnan(a.data) & np.isnan(o)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = hit / hit.sum(axis=ctx.dims, keepdims=True)
    return (
        _unreduce(g, ctx.shape, ctx.dims, ctx.keepdim) * Tensor._make(w.astype(g.dtype)),
        None,
        None,
        None,
    )


class AMax(Function):
    """out = max of a over dims;  da = g split evenly among the elements equal to the max"""

    forward = _extremum_forward(np.amax)
    backward = staticmethod(_even_split)


class AMin(Function):
    """out = min of a over dims;  da = g split evenly among the elements equal to the min"""

    forward = _extremum_forward(np.amin)
    backward = staticmethod(_even_split)


def _amax_amin(cls, op: str, input, dim, keepdim: bool, nan_ties: bool = False) -> Tensor:
    _check(input, op)
    dims = _dims(dim, input.ndim)
    _nonempty(input, dims, op)
    return cls.apply(input, dims, keepdim, nan_ties)


def max(input, dim=None, keepdim: bool = False):
    """Largest element; with ``dim``, ``(values, indices)`` along it; with a Tensor, ``maximum``.

    ``max(x)`` splits the gradient evenly among tied maxima; ``max(x, dim)`` sends it to the
    returned index (the first maximum).

    >>> import mytorch.core as mt
    >>> x = mt.tensor([[1.0, 5.0], [3.0, 2.0]])
    >>> x.max().item(), x.max(dim=0).values.tolist(), x.max(dim=0).indices.tolist()
    (5.0, [3.0, 5.0], [1, 0])
    """
    if isinstance(dim, Tensor):
        return maximum(input, dim)
    _check(input, "max")
    if dim is None:
        return _amax_amin(AMax, "max", input, None, keepdim, nan_ties=True)
    return _max_min_dim(input, dim, keepdim, True)


def min(input, dim=None, keepdim: bool = False):
    """Smallest element; with ``dim``, ``(values, indices)`` along it; with a Tensor, ``minimum``."""
    if isinstance(dim, Tensor):
        return minimum(input, dim)
    _check(input, "min")
    if dim is None:
        return _amax_amin(AMin, "min", input, None, keepdim, nan_ties=True)
    return _max_min_dim(input, dim, keepdim, False)


def amax(input, dim=(), keepdim: bool = False) -> Tensor:
    """Maximum over ``dim`` (all by default); ties split the gradient evenly."""
    return _amax_amin(AMax, "amax", input, dim, keepdim)


def amin(input, dim=(), keepdim: bool = False) -> Tensor:
    """Minimum over ``dim`` (all by default); ties split the gradient evenly."""
    return _amax_amin(AMin, "amin", input, dim, keepdim)


def _arg_extreme(fn, op: str, input, dim, keepdim: bool) -> Tensor:
    _check(input, op)
    if input.dtype.kind == "b":
        raise RuntimeError(f"{op}(): does not support bool input")
    a = input.data
    if dim is None:
        _nonempty(input, None, op)
        r = fn(a.reshape(-1)).reshape((1,) * a.ndim if keepdim else ())
        return Tensor._make(r.astype(np.int64, copy=False))
    d = _dim(dim, a.ndim, op)
    if a.ndim == 0:
        return Tensor._make(np.zeros((), np.int64))
    _nonempty(input, (d,), op)
    return Tensor._make(_arr(fn(a, axis=d, keepdims=keepdim)).astype(np.int64, copy=False))


def argmax(input, dim=None, keepdim: bool = False) -> Tensor:
    """Index (int64) of the first maximum, over the flattened input or along ``dim``."""
    return _arg_extreme(np.argmax, "argmax", input, dim, keepdim)


def argmin(input, dim=None, keepdim: bool = False) -> Tensor:
    """Index (int64) of the first minimum, over the flattened input or along ``dim``."""
    return _arg_extreme(np.argmin, "argmin", input, dim, keepdim)


def _argsort(a: np.ndarray, d: int, descending: bool) -> np.ndarray:
    """Stable argsort along ``d``; descending keeps equal elements in their original order."""
    if not descending:
        return np.argsort(a, axis=d, kind="stable")
    idx = np.argsort(np.flip(a, d), axis=d, kind="stable")
    return (a.shape[d] - 1) - np.flip(idx, d)


def sort(input, dim: int = -1, descending: bool = False, stable: bool = False):
    """``(values, indices)`` of ``input`` sorted along ``dim`` (NaN counts as largest).

    The sort is always stable; the gradient goes back to each value's original place.

    >>> import mytorch.core as mt
    >>> mt.sort(mt.tensor([3.0, 1.0, 2.0]), descending=True).indices.tolist()
    [0, 2, 1]
    """
    _check(input, "sort")
    if input.ndim == 0:
        _dim(dim, 0, "sort")
        return _on_1d(lambda x, d: sort(x, d, descending, stable), input)
    d = _dim(dim, input.ndim, "sort")
    idx = _argsort(input.data, d, descending).astype(np.int64, copy=False)
    return return_types.sort(TakeAlongDim.apply(input, idx, d, True), Tensor._make(idx))


def argsort(input, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """Indices (int64) that sort ``input`` along ``dim``."""
    return sort(input, dim, descending, stable).indices


def _slice(a: np.ndarray, d: int, start: int, stop: int) -> np.ndarray:
    return a[(slice(None),) * d + (slice(start, stop),)]


def topk(input, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """``(values, indices)`` of the ``k`` largest (or smallest) elements along ``dim``.

    Results always come sorted; the gradient goes back to each value's original place.

    >>> import mytorch.core as mt
    >>> mt.topk(mt.tensor([1.0, 5.0, 3.0, 4.0]), 2).values.tolist()
    [5.0, 4.0]
    """
    _check(input, "topk")
    if input.dtype.kind == "b":
        raise RuntimeError("topk does not support bool dtypes on CPU")
    if input.ndim == 0:
        _dim(dim, 0, "topk")
        return _on_1d(lambda x, d: topk(x, k, d, largest, sorted), input)
    d = _dim(dim, input.ndim, "topk")
    a = input.data
    n = a.shape[d]
    if not 0 <= k <= n:
        raise RuntimeError(f"topk(): selected index k out of range (k={k}, size {n} at dim {d})")
    if 0 < k < n:  # partition first, then sort only the k chosen
        if largest:
            part = _slice(np.argpartition(a, n - k, axis=d), d, n - k, n)
        else:
            part = _slice(np.argpartition(a, k - 1, axis=d), d, 0, k)
        order = _argsort(np.take_along_axis(a, part, d), d, largest)
        idx = np.take_along_axis(part, order, d)
    else:
        idx = _slice(_argsort(a, d, largest), d, 0, k)
    idx = np.ascontiguousarray(idx, dtype=np.int64)
    return return_types.topk(TakeAlongDim.apply(input, idx, d, True), Tensor._make(idx))


# ----------------------------------------------------------------------------------------------
# logsumexp, prod, cumsum
# ----------------------------------------------------------------------------------------------


class LogSumExp(Function):
    """out = log(sum(exp(a))) over dims, shifted by the max for stability;  da = g * exp(a - out)"""

    @staticmethod
    def forward(ctx, a, dims, keepdim):
        ctx.shape, ctx.dims, ctx.keepdim = a.shape, dims, keepdim
        if a.dtype.kind != "f":
            a = a.astype(dtypes.get_default_dtype())
        m = np.amax(a, axis=dims, keepdims=True, initial=-np.inf)
        m = np.where(np.isfinite(m), m, 0).astype(a.dtype, copy=False)
        with np.errstate(divide="ignore"):
            out = np.log(np.sum(np.exp(a - m), axis=dims, keepdims=True)) + m
        if not keepdim:
            out = out.reshape(
                () if dims is None else tuple(s for i, s in enumerate(a.shape) if i not in dims)
            )
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        g = _unreduce(g, ctx.shape, ctx.dims, ctx.keepdim)
        out = _unreduce(out, ctx.shape, ctx.dims, ctx.keepdim)
        return g * exp(a - out), None, None


def logsumexp(input, dim, keepdim: bool = False) -> Tensor:
    """log(sum(exp(input))) over ``dim``, computed without overflow.

    >>> import mytorch.core as mt
    >>> round(mt.logsumexp(mt.tensor([1000.0, 1000.0]), 0).item(), 2)
    1000.69
    """
    _check(input, "logsumexp")
    return LogSumExp.apply(input, _dims(dim, input.ndim), keepdim)


class Prod(Function):
    """out = product of a over dims;  da = g * product of the other elements (exact with zeros)"""

    @staticmethod
    def forward(ctx, a, dims, keepdim, dtype):
        ctx.shape, ctx.dims, ctx.keepdim = a.shape, dims, keepdim
        if a.ndim == 0:
            out = a.astype(a.dtype if dtype is None else dtype, copy=True)
        else:
            out = _arr(np.prod(a, axis=dims, keepdims=keepdim, dtype=dtype))
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        dims = ctx.dims
        g = _unreduce(g, ctx.shape, dims, ctx.keepdim)
        zero = a.data == 0
        if not zero.any():
            return g * (_unreduce(out, ctx.shape, dims, ctx.keepdim) / a), None, None, None
        # The product of the others, p_i = prod_{k != i} a_k, written so that its own
        # derivative is right too (double backward): with m = the product of the non-zero
        # elements of the slice and s = the sum of its zeros (value 0, derivative 1),
        #   no zero:     p_i = m / a_i
        #   one zero:    p_i = m at the zero, s * m / a_i elsewhere
        #   two zeros:   p_i = (s - a_i) * m at a zero (the other zero times m), 0 elsewhere
        #   more zeros:  p_i = 0 (and so are its first derivatives)
        safe = Where.apply(zero, 1.0, a)
        m = Prod.apply(safe, dims, True, None)
        s = Sum.apply(Where.apply(zero, a, 0.0), dims, True, None)
        count = zero.sum(axis=dims, keepdims=True)
        ratio = m / safe
        one = Where.apply(zero, m, s * ratio)
        two = Where.apply(zero, (s - a) * m, 0.0)
        others = Where.apply(
            count == 0, ratio, Where.apply(count == 1, one, Where.apply(count == 2, two, 0.0))
        )
        return g * others, None, None, None


def prod(input, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Product over ``dim`` (all elements by default); bool and integers give int64.

    >>> import mytorch.core as mt
    >>> mt.prod(mt.tensor([[1.0, 2.0], [3.0, 4.0]]), 1).tolist()
    [2.0, 12.0]
    """
    _check(input, "prod")
    dims = _dims(dim, input.ndim)
    return Prod.apply(input, dims, keepdim, _int_sum_dtype(input.data, dtype))


class Cumsum(Function):
    """out = running sum of a along dim;  da = running sum of g from the end along dim"""

    @staticmethod
    def forward(ctx, a, dim, dtype):
        ctx.dim = dim
        return np.cumsum(a, axis=dim, dtype=dtype)

    @staticmethod
    def backward(ctx, g):
        return ReverseCumsum.apply(g, ctx.dim), None, None


class ReverseCumsum(Function):
    """out = running sum of a from the end along dim;  da = running sum of g along dim"""

    @staticmethod
    def forward(ctx, a, dim):
        ctx.dim = dim
        return np.flip(np.cumsum(np.flip(a, dim), axis=dim), dim)

    @staticmethod
    def backward(ctx, g):
        return Cumsum.apply(g, ctx.dim, None), None


def cumsum(input, dim: int, *, dtype=None) -> Tensor:
    """Running sum along ``dim``; bool and integers accumulate in int64.

    >>> import mytorch.core as mt
    >>> mt.cumsum(mt.tensor([1, 2, 3]), 0).tolist()
    [1, 3, 6]
    """
    _check(input, "cumsum")
    d = _dim(dim, input.ndim, "cumsum")
    dtype = _int_sum_dtype(input.data, dtype)
    if input.ndim == 0:
        return Cumsum.apply(input.reshape((1,)), 0, dtype).reshape(())
    return Cumsum.apply(input, d, dtype)


# ----------------------------------------------------------------------------------------------
# norm
# ----------------------------------------------------------------------------------------------


class Norm(Function):
    """out = (sum |a|^p)^(1/p) over dims (p = 0, 1, 2, inf, -inf or any float);  da = g * sign(a) * |a|^(p-1) / out^(p-1) (p = 2: a * g / out, 0 where out == 0; p = 1: sign(a) * g; p = +-inf: g split among the extreme |a|; p = 0: 0)"""

    @staticmethod
    def forward(ctx, a, p, dims, keepdim):
        ctx.shape, ctx.dims, ctx.keepdim, ctx.p = a.shape, dims, keepdim, p
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if p == 2.0:
                out = np.sqrt(np.sum(np.square(a), axis=dims, keepdims=keepdim))
            elif p == 1.0:
                out = np.sum(np.abs(a), axis=dims, keepdims=keepdim)
            elif p == math.inf:
                out = np.amax(np.abs(a), axis=dims, keepdims=keepdim, initial=0)
            elif p == -math.inf:
                out = np.amin(np.abs(a), axis=dims, keepdims=keepdim)
            elif p == 0.0:
                out = np.sum(a != 0, axis=dims, keepdims=keepdim, dtype=a.dtype)
            else:
                s = np.sum(np.abs(a) ** p, axis=dims, keepdims=keepdim)
                out = s ** (1.0 / p)
        out = _arr(out).astype(a.dtype, copy=False)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        p, dims = ctx.p, ctx.dims
        g = _unreduce(g, ctx.shape, dims, ctx.keepdim)
        out = _unreduce(out, ctx.shape, dims, ctx.keepdim)
        if p == 0.0:
            return Tensor._make(np.zeros(ctx.shape, g.dtype)), None, None, None
        if p == 1.0:
            return sign(a) * g, None, None, None
        zero = out.data == 0
        if p == 2.0:
            return a * Where.apply(zero, 0.0, g / out), None, None, None
        if math.isinf(p):
            mag = np.abs(a.data)
            hit = (mag == out.data) | np.isnan(mag)
            w = hit / hit.sum(axis=dims, keepdims=True)
            return sign(a) * (g * Tensor._make(w.astype(g.dtype))), None, None, None
        if p < 1.0:
            scaled = sign(a) * Where.apply(a.data == 0, 0.0, pow(abs(a), p - 1.0))
            return scaled * (g * pow(out, 1.0 - p)), None, None, None
        scaled = sign(a) * pow(abs(a), p - 1.0) if p < 2.0 else a * pow(abs(a), p - 2.0)
        return scaled * Where.apply(zero, 0.0, g / pow(out, p - 1.0)), None, None, None


def norm(input, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """Vector p-norm over ``dim`` (all elements by default): ``'fro'``/2, 1, inf, -inf, 0, any float.

    The gradient of the 2-norm at 0 is 0 (not NaN), as in PyTorch.

    >>> import mytorch.core as mt
    >>> mt.norm(mt.tensor([3.0, -4.0])).item(), mt.norm(mt.tensor([3.0, -4.0]), 1).item()
    (5.0, 7.0)
    """
    _check(input, "norm")
    if isinstance(p, str):
        if p != "fro":
            raise RuntimeError(
                f"norm(): p={p!r} is not supported (only vector norms: 'fro' or a number)"
            )
        if dim is not None and not isinstance(dim, (int, np.integer)) and len(dim) > 2:
            raise RuntimeError(f"norm(): p='fro' needs at most 2 dims, got {len(dim)}: {list(dim)}")
        p = 2.0
    elif p is None:
        p = 2.0
    _require_float(
        input, "linalg.vector_norm: Expected a floating point or complex tensor as input. Got {}"
    )
    if dtype is not None:
        input = input.to(dtype)
    return Norm.apply(input, builtins.float(p), _dims(dim, input.ndim), keepdim)


# ----------------------------------------------------------------------------------------------
# all, any (no gradient)
# ----------------------------------------------------------------------------------------------


def _all_any(fn, op: str, input, dim, keepdim: bool) -> Tensor:
    _check(input, op)
    a = input.data
    r = _arr(fn(a, axis=_dims(dim, a.ndim), keepdims=keepdim))
    return Tensor._make(r.astype(np.uint8) if a.dtype == np.uint8 else r)


def all(input, dim=None, keepdim: bool = False) -> Tensor:
    """True where every element over ``dim`` (all by default) is nonzero."""
    return _all_any(np.all, "all", input, dim, keepdim)


def any(input, dim=None, keepdim: bool = False) -> Tensor:
    """True where some element over ``dim`` (all by default) is nonzero."""
    return _all_any(np.any, "any", input, dim, keepdim)


# ----------------------------------------------------------------------------------------------
# sum_to: the adjoint of broadcasting (used by the engine)
# ----------------------------------------------------------------------------------------------


def sum_to(input: Tensor, shape: tuple) -> Tensor:
    """Sum ``input`` down to ``shape``: the adjoint of broadcasting ``shape`` to input's shape.

    >>> import mytorch.core as mt
    >>> sum_to(mt.ones(2, 3, 4), (3, 1)).tolist()
    [[8.0], [8.0], [8.0]]
    """
    shape = tuple(shape)
    big = input.shape
    if big == shape:
        return input
    lead = len(big) - len(shape)
    dims = list(range(lead))
    if lead >= 0:
        for i, s in enumerate(shape):
            if s != big[lead + i]:
                if s != 1:
                    break
                dims.append(lead + i)
        else:
            out = Sum.apply(input, tuple(dims), True, None) if dims else input
            return out.reshape(shape) if out.shape != shape else out
    raise RuntimeError(f"sum_to_size: size {list(shape)} is not expandable to size {list(big)}")
