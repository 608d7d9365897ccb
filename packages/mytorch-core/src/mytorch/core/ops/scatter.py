"""Scatter reductions and segment softmax: the O(edges) building blocks of message passing.

``scatter_reduce`` combines the elements of ``src`` that ``index`` sends to the same place of
``input`` with sum, mean, amax or amin (PyTorch's ``Tensor.scatter_reduce``, ``include_self``
included). ``segment_softmax`` normalizes the rows of ``src`` within each group of rows that
share an index (attention over a node's incoming edges). ``index_add`` and ``scatter_add`` live
with the other indexing ops.

>>> import mytorch.core as mt
>>> src = mt.tensor([1.0, 5.0, 2.0, 3.0])
>>> idx = mt.tensor([0, 0, 2, 2])
>>> mt.zeros(3).scatter_reduce(0, idx, src, "amax", include_self=False).tolist()
[5.0, 0.0, 3.0]
>>> [round(v, 4) for v in mt.segment_softmax(mt.tensor([0.0, 0.0, 1.0, 1.0]), idx).tolist()]
[0.5, 0.5, 0.5, 0.5]
"""

from __future__ import annotations

import numpy as np

from mytorch.core.autograd import Function
from mytorch.core.ops.indexing import (
    IndexAdd,
    IndexSelect,
    Scatter,
    _add_rows,
    _check_scatter,
    _fresh,
    _grad_to_src,
    _index_array,
    _linear_index,
    _prefix,
    _zeros,
)
from mytorch.core.tensor import Tensor

__all__ = ["scatter_reduce", "segment_softmax"]

_REDUCTIONS = ("sum", "mean", "amax", "amin")


def _lowest(dtype) -> np.generic:
    return np.array(-np.inf if dtype.kind == "f" else np.iinfo(dtype).min, dtype)


def _highest(dtype) -> np.generic:
    return np.array(np.inf if dtype.kind == "f" else np.iinfo(dtype).max, dtype)


def _counts(lin: np.ndarray, shape: tuple) -> np.ndarray:
    """How many scattered elements land on each position of an array of ``shape``."""
    return np.bincount(lin, minlength=int(np.prod(shape))).reshape(shape)


class ScatterReduce(Function):
    """out = a with src reduced in at index (sum/mean/amax/amin);  da, dsrc = g routed to the elements that made each result (ties share it evenly)"""

    @staticmethod
    def forward(ctx, a, dim, index, src, reduce, include_self):
        ctx.dim, ctx.reduce, ctx.include_self = dim, reduce, include_self
        ctx.shape, ctx.src_shape = a.shape, src.shape
        out = _fresh(a)
        flat = out.reshape(-1)  # (numel,) view of out
        lin = _linear_index(index, dim, out.shape).reshape(-1)  # (M,) positions in flat
        vals = np.ascontiguousarray(_prefix(src, index.shape)).reshape(-1)  # (M,)
        if reduce in ("sum", "mean"):
            if not include_self:
                flat[lin] = 0
            _add_rows(flat, lin, vals)
            if reduce == "mean":
                n = np.bincount(lin, minlength=flat.size) + (1 if include_self else 0)
                hit = n > 0
                if out.dtype.kind == "f":
                    flat[hit] /= n[hit].astype(out.dtype)
                else:  # integer mean rounds down, as in PyTorch
                    flat[hit] //= n[hit].astype(out.dtype)
        else:
            if not include_self:
                flat[lin] = _lowest(out.dtype) if reduce == "amax" else _highest(out.dtype)
            (np.maximum if reduce == "amax" else np.minimum).at(flat, lin, vals)
        if reduce in ("sum", "mean"):
            ctx.save_for_backward(index)
        else:  # which elements won is read off the inputs and the result
            ctx.save_for_backward(index, a, src, out)
        return out

    @staticmethod
    def backward(ctx, g):
        saved = ctx.saved_tensors
        need_a, _, _, need_src, _, _ = ctx.needs_input_grad
        dim, reduce, include_self = ctx.dim, ctx.reduce, ctx.include_self
        shape, src_shape = ctx.shape, ctx.src_shape
        idx = saved[0].data
        lin = _linear_index(idx, dim, shape).reshape(-1)
        touched = _counts(lin, shape)  # (input's shape) elements scattered onto each position
        if reduce in ("sum", "mean"):
            if reduce == "mean":
                n = np.maximum(touched + (1 if include_self else 0), 1).astype(g.dtype)
                g = g / Tensor._make(n)
            da = g if include_self else Scatter.apply(g, dim, idx, 0, None)
            dsrc = _grad_to_src(g, dim, idx, src_shape) if need_src else None
            return (da if need_a else None), None, None, dsrc, None, None
        # amax / amin: the gradient goes to every element equal to the result, shared evenly.
        a, src, result = saved[1].data, saved[2].data, saved[3].data
        # As in PyTorch, an input value equal to the result counts as a tie even when
        # include_self=False leaves it out (it then gets no gradient, but takes a share).
        self_is = a == result
        src_is = _prefix(src, idx.shape) == np.take_along_axis(result, idx, axis=dim)
        ties = self_is.astype(g.dtype)
        _add_rows(ties.reshape(-1), lin, src_is.astype(g.dtype).reshape(-1))
        share = g / Tensor._make(np.maximum(ties, 1))  # (a's shape)
        if not include_self:
            self_is &= touched == 0
        da = share * Tensor._make(self_is.astype(g.dtype)) if need_a else None
        dsrc = None
        if need_src:
            mask = np.zeros(src_shape, g.dtype)
            _prefix(mask, idx.shape)[...] = src_is
            dsrc = _grad_to_src(share, dim, idx, src_shape) * Tensor._make(mask)
        return da, None, None, dsrc, None, None


def scatter_reduce(
    input: Tensor, dim: int, index, src: Tensor, reduce: str, *, include_self: bool = True
) -> Tensor:
    """A copy of ``input`` where the ``src`` elements sent to each position by ``index`` along
    ``dim`` are combined with ``reduce`` ("sum", "mean", "amax" or "amin").

    ``include_self=False`` leaves the original value of every position that receives at least
    one element out of its reduction; positions that receive none keep ``input``'s value. The
    gradient of amax/amin is shared evenly between tied elements, as in PyTorch.

    >>> import mytorch.core as mt
    >>> x = mt.tensor([10.0, 20.0])
    >>> x.scatter_reduce(0, mt.tensor([1, 1, 1]), mt.tensor([1.0, 2.0, 6.0]), "mean").tolist()
    [10.0, 7.25]
    """
    if reduce not in _REDUCTIONS:
        raise RuntimeError(
            f"scatter_reduce(): reduce argument must be one of {', '.join(_REDUCTIONS)} "
            f"(prod is not supported), got {reduce!r}"
        )
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_reduce(): src must be a Tensor, got {type(src).__name__}")
    if src.dtype != input.dtype:
        raise RuntimeError(
            f"scatter_reduce(): Expected self.dtype to be equal to src.dtype, got {input.dtype} "
            f"and {src.dtype}"
        )
    d, idx = _check_scatter("scatter_reduce", input, dim, index, src.data)
    return ScatterReduce.apply(input, d, idx, src, reduce, bool(include_self))


# ----------------------------------------------------------------------------------------------
# segment softmax
# ----------------------------------------------------------------------------------------------


def _segment_max(src: np.ndarray, index: np.ndarray, num: int) -> np.ndarray:
    """(num, *rest): the largest row of ``src`` (E, *rest) in each group; -inf where empty."""
    out = np.full((num,) + src.shape[1:], _lowest(src.dtype))
    if index.size == 0:
        return out
    order = np.argsort(index, kind="stable")
    s = index[order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    out[s[starts]] = np.maximum.reduceat(src[order], starts, axis=0)
    return out


class SegmentSoftmax(Function):
    """out[e] = exp(src[e]) / sum of exp(src[e']) over the e' with index[e'] == index[e];  dsrc = y * (g - sum over the group of g * y)"""

    @staticmethod
    def forward(ctx, src, index, num):
        ctx.num = num
        shifted = src - _segment_max(src, index, num)[index]  # (E, *rest) <= 0 in each group
        e = np.exp(shifted)
        total = np.zeros((num,) + src.shape[1:], src.dtype)
        _add_rows(total, index, e)
        out = e / total[index]
        ctx.save_for_backward(out, index)
        return out

    @staticmethod
    def backward(ctx, g):
        y, index = ctx.saved_tensors
        idx = index.data
        gy = g * y  # (E, *rest)
        group = IndexAdd.apply(_zeros((ctx.num,) + y.shape[1:], y.dtype), 0, idx, gy, 1)
        return gy - y * IndexSelect.apply(group, 0, idx), None, None


def segment_softmax(src: Tensor, index, num_segments: int | None = None, dim: int = 0) -> Tensor:
    """Softmax of ``src`` along ``dim`` taken separately within each group of positions that
    share a value of the 1-D ``index`` (size ``src.shape[dim]``); each group sums to 1.

    ``num_segments`` defaults to ``index.max() + 1``; groups with no member are simply absent.
    Costs O(E) memory for E = ``src.numel()`` (never a dense (groups, E) matrix).

    >>> import mytorch.core as mt
    >>> y = mt.segment_softmax(mt.tensor([1.0, 2.0, 3.0]), mt.tensor([0, 1, 1]))
    >>> [round(v, 4) for v in y.tolist()]
    [1.0, 0.2689, 0.7311]
    """
    idx = _index_array(index, "segment_softmax")
    if src.dtype.kind != "f":
        raise TypeError(f"segment_softmax(): src must be floating point, got {src.dtype}")
    if src.ndim == 0:
        raise RuntimeError("segment_softmax(): src must have at least one dimension")
    d = dim % src.ndim if -src.ndim <= dim < src.ndim else None
    if d is None:
        raise IndexError(
            f"segment_softmax(): dim {dim} is out of range for src with {src.ndim} dimensions"
        )
    if idx.ndim != 1 or idx.size != src.shape[d]:
        raise RuntimeError(
            f"segment_softmax(): index must be 1-D with src.shape[{d}] = {src.shape[d]} "
            f"entries, got shape {list(idx.shape)}"
        )
    num = int(idx.max()) + 1 if num_segments is None and idx.size else int(num_segments or 0)
    if idx.size and (idx.min() < 0 or idx.max() >= num):
        bad = int(idx.max() if idx.max() >= num else idx.min())
        raise RuntimeError(
            f"segment_softmax(): index {bad} is out of bounds for num_segments = {num}"
        )
    idx = idx.astype(np.intp, copy=False)
    if d == 0:
        return SegmentSoftmax.apply(src, idx, num)
    moved = src.movedim(d, 0)
    return SegmentSoftmax.apply(moved, idx, num).movedim(0, d)
