"""Indexing ops: ``x[index]``, ``x[index] = v``, gather/scatter, index_select/index_add, masks.

Indexing follows NumPy/PyTorch rules (ints, slices, None, Ellipsis, integer and boolean
tensors, mixed basic and advanced indices). Backward of a read scatters the gradient back,
adding up repeated indices; backward of a scatter gathers it.

>>> import mytorch.core as mt
>>> x = mt.arange(12.0).reshape(3, 4)
>>> x[mt.tensor([0, 0, 2]), 1:3].tolist()
[[1.0, 2.0], [1.0, 2.0], [9.0, 10.0]]
>>> mt.gather(x, 1, mt.tensor([[3], [0], [1]])).tolist()
[[3.0], [4.0], [9.0]]
"""

from __future__ import annotations

import numpy as np

from mytorch.core.autograd import Function
from mytorch.core.grad_mode import _state
from mytorch.core.ops.movement import ConstantPad, _reshape, _wrap_dim, expand
from mytorch.core.tensor import Tensor

__all__ = [
    "getitem",
    "setitem",
    "index_put",
    "gather",
    "scatter",
    "scatter_add",
    "index_select",
    "index_add",
    "masked_fill",
    "masked_select",
    "nonzero",
    "take",
    "take_along_dim",
]

_INDEX_DTYPE_ERROR = "tensors used as indices must be long, int, byte or bool tensors"


# ----------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------


def _index_item(item):
    """One element of an index as NumPy understands it, and whether it is an advanced index."""
    if isinstance(item, Tensor):
        item = item.data
    elif isinstance(item, (list, tuple)):
        arr = np.asarray(item)
        item = arr.astype(np.int64) if arr.size == 0 else arr
    elif isinstance(item, (bool, np.bool_)):
        return bool(item), True
    elif isinstance(item, np.integer):
        return int(item), False
    if isinstance(item, np.ndarray):
        kind = item.dtype.kind
        if kind == "b":
            return item, True
        if kind in "iu":
            if item.dtype == np.uint8:
                return item.astype(bool), True
            if item.ndim == 0:
                return int(item), False
            return item, True
        raise IndexError(f"{_INDEX_DTYPE_ERROR}, got an index of dtype {item.dtype}")
    return item, False


def _normalize(index) -> tuple:
    """(key, whether it has advanced parts); 0-d int tensors act as ints.

    The key is ``(pre, index)``: NumPy reads ``a[pre][index]`` (``pre`` None: ``a[index]``).
    PyTorch applies integers before advanced indices (``x[1, :, [0, 2]]`` has shape (n, 2),
    where NumPy gives (2, n)), so with both present the ints go into the basic ``pre`` step.
    """
    if type(index) is not tuple:
        index = (index,)
    out = []
    advanced = has_int = False
    for item in index:
        if type(item) is int:
            has_int = True
        elif not (type(item) is slice or item is None or item is Ellipsis):
            item, adv = _index_item(item)
            advanced = advanced or adv
            has_int = has_int or type(item) is int
        out.append(item)
    if advanced and has_int:
        return _split_ints(out), True
    return (None, tuple(out)), advanced


def _split_ints(items: list) -> tuple:
    """Split an index into a basic step (ints, slices, None) and the advanced rest."""
    pre, post = [], []
    for item in items:
        if type(item) is int:
            pre.append(item)
        elif type(item) is slice or item is None:
            pre.append(item)
            post.append(slice(None))
        elif item is Ellipsis:
            pre.append(item)
            post.append(item)
        elif isinstance(item, np.ndarray):
            pre.extend([slice(None)] * (item.ndim if item.dtype == np.bool_ else 1))
            post.append(item)
        else:  # a Python bool: consumes no dim
            post.append(item)
    return tuple(pre), tuple(post)


def _index_error(e: Exception, shape: tuple) -> IndexError:
    msg = str(e).replace("axis", "dimension").replace("array", "tensor")
    if msg.startswith("too many indices"):
        msg = f"too many indices for tensor of dimension {len(shape)}"
    return IndexError(f"{msg} (indexed tensor has shape {list(shape)})")


def _save_key(ctx, key: tuple, *arrays) -> None:
    """Save the index arrays of ``key`` (then ``arrays``) for backward; the rest stays on ctx."""
    pre, index = key
    ctx.key = (pre, tuple(_SAVED if type(i) is np.ndarray else i for i in index))
    ctx.save_for_backward(*(i for i in index if type(i) is np.ndarray), *arrays)


def _saved_key(ctx) -> tuple:
    """(key, the other saved arrays) as ``_save_key`` kept them."""
    arrays = iter(ctx.saved_arrays)
    pre, index = ctx.key
    return (pre, tuple(next(arrays) if i is _SAVED else i for i in index)), list(arrays)


_SAVED = object()  # marks where a saved index array goes back into a key


def _take(a: np.ndarray, key: tuple) -> np.ndarray:
    pre, index = key
    if pre is not None:
        a = a[pre]
    out = a[index]
    if type(out) is not np.ndarray:  # an all-int index: keep a 0-d view, as PyTorch does
        out = a[index + (Ellipsis,)]
    return out


def _target(a: np.ndarray, key: tuple) -> np.ndarray:
    """The view that ``key[1]`` indexes into (``a`` itself when there is no basic step)."""
    return a if key[0] is None else a[key[0]]


def _repeats_possible(index: tuple) -> bool:
    return any(type(i) is np.ndarray and i.dtype.kind != "b" for i in index)


def _fresh(a: np.ndarray) -> np.ndarray:
    """A writable C-contiguous copy of ``a``; a broadcast zero becomes a (lazily zeroed) array."""
    if a.ndim and not any(a.strides) and a.size:
        v = a.reshape(-1)[0]
        return np.zeros(a.shape, a.dtype) if v == 0 else np.full(a.shape, v, a.dtype)
    return a.copy()


def _zeros(shape: tuple, dtype) -> Tensor:
    """A zero tensor that costs nothing until a scatter op turns it into real memory."""
    return Tensor._make(np.broadcast_to(np.zeros((), dtype), shape))


def _add_rows(out: np.ndarray, idx: np.ndarray, src: np.ndarray) -> None:
    """``out[idx[i]] += src[i]`` for every i, adding up repeats (``idx`` 1-D, non-negative).

    Narrow float rows of a not much larger ``out`` take one ``np.bincount``; otherwise unique
    indices take one fancy-indexed add, and repeats the cheapest of a one-hot matrix product
    (few distinct rows), one pass per repeat rank (few repeats) or a sorted ``add.reduceat``
    (many repeats), instead of the slow ``np.add.at``.
    """
    n = idx.size
    if n <= 1:
        if n:
            out[idx] += src
        return
    width = out[0].size if out.ndim else 1
    if out.dtype.kind == "f" and width <= 8 and out.shape[0] <= 8 * n:
        # one bincount over (row, column) cells: sums in float64, no sort
        cells = idx if width == 1 else (idx[:, None] * width + np.arange(width)).reshape(-1)
        sums = np.bincount(cells, weights=src.reshape(-1), minlength=out.size)
        out += sums.reshape(out.shape).astype(out.dtype, copy=False)
        return
    order = np.argsort(idx, kind="stable")
    s = idx[order]
    first = np.empty(n, bool)
    first[0] = True
    np.not_equal(s[1:], s[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    if starts.size == n:
        out[idx] += src
        return
    uniq = s[starts]
    if out.dtype.kind == "f":
        if uniq.size * n <= 1 << 20:  # a one-hot matrix product runs on BLAS
            onehot = np.zeros((uniq.size, n), out.dtype)  # (U, N)
            onehot[np.cumsum(first) - 1, order] = 1
            summed = onehot @ src.reshape(n, -1)  # (U, row size)
            out[uniq] += summed.reshape((uniq.size,) + out.shape[1:])
            return
    counts = np.diff(np.append(starts, n))
    most = int(counts.max())
    ordered = src[order]
    if most <= 8:  # the k-th occurrences of distinct indices are distinct: one add per rank
        rank = np.arange(n) - np.repeat(starts, counts)
        for k in range(most):
            m = rank == k
            out[s[m]] += ordered[m]
        return
    out[uniq] += np.add.reduceat(ordered, starts, axis=0)


def _accumulate(out: np.ndarray, index: tuple, v) -> None:
    """``out[index] += v`` where repeated indices add up."""
    first = index[0]
    if (
        type(first) is np.ndarray
        and first.dtype.kind in "iu"
        and len(index) <= out.ndim
        and all(type(i) is slice and i == slice(None) for i in index[1:])
    ):  # rows of the first dim, as in an embedding lookup
        rows = first.reshape(-1)
        if rows.size and rows.min() < 0:
            rows = np.where(rows < 0, rows + out.shape[0], rows)
        v = np.broadcast_to(v, first.shape + out.shape[1:])
        _add_rows(out, rows, v.reshape((rows.size,) + out.shape[1:]))
        return
    np.add.at(out, index, v)


def _index_array(index, op: str, name: str = "index") -> np.ndarray:
    data = index.data if isinstance(index, Tensor) else np.asarray(index)
    if data.dtype not in (np.int64, np.int32):
        raise RuntimeError(
            f"{op}(): Expected dtype int32 or int64 for {name}, but got {data.dtype}"
        )
    return data


def _check_bounds(idx: np.ndarray, size: int, dim: int, op: str, allow_negative=False) -> None:
    if not idx.size:
        return
    lo, hi = int(idx.min()), int(idx.max())
    if hi >= size or lo < (-size if allow_negative else 0):
        bad = hi if hi >= size else lo
        raise RuntimeError(
            f"{op}(): index {bad} is out of bounds for dimension {dim} with size {size}"
        )


# ----------------------------------------------------------------------------------------------
# x[index] and x[index] = v
# ----------------------------------------------------------------------------------------------


class Index(Function):
    """out = a[index] (basic indices give a view);  da = zeros with g added at index (repeats add)"""

    @staticmethod
    def forward(ctx, a, key, advanced):
        ctx.shape, ctx.advanced = a.shape, advanced
        _save_key(ctx, key)
        return _take(a, key)

    @staticmethod
    def backward(ctx, g):
        key = _saved_key(ctx)[0]
        return IndexBackward.apply(g, ctx.shape, key, ctx.advanced), None, None


class IndexBackward(Function):
    """out = zeros(shape) with g added at index (the adjoint of indexing);  dg = gg[index]"""

    @staticmethod
    def forward(ctx, g, shape, key, advanced):
        ctx.advanced = advanced
        _save_key(ctx, key)
        out = np.zeros(shape, g.dtype)
        if advanced and _repeats_possible(key[1]):
            _accumulate(_target(out, key), key[1], g)
        else:
            _target(out, key)[key[1]] = g
        return out

    @staticmethod
    def backward(ctx, gg):
        return Index.apply(gg, _saved_key(ctx)[0], ctx.advanced), None, None, None


def getitem(input: Tensor, index) -> Tensor:
    """``input[index]`` with PyTorch/NumPy semantics; basic indexing returns a view.

    >>> import mytorch.core as mt
    >>> x = mt.arange(6).reshape(2, 3)
    >>> x[:, None, -1].tolist(), x[x > 3].tolist()
    ([[2], [5]], [4, 5])
    """
    idx, advanced = _normalize(index)
    try:
        if input.requires_grad and _state.enabled:
            return Index.apply(input, idx, advanced)
        return Tensor._make(_take(input.data, idx))
    except IndexError as e:
        raise _index_error(e, input.data.shape) from None


class IndexPut(Function):
    """out = a with v written (or added, if accumulate) at index;  da = g (zeroed at index unless accumulating),  dv = g[index]"""

    @staticmethod
    def forward(ctx, a, key, v, accumulate, advanced):
        ctx.accumulate, ctx.advanced = accumulate, advanced
        ctx.v_ndim = np.ndim(v)
        _save_key(ctx, key)
        out = _fresh(a)
        view = _target(out, key)
        if accumulate:
            target = _take(out, key).shape
            v = np.asarray(v, out.dtype)
            if v.ndim > len(target):
                v = v.reshape(v.shape[v.ndim - len(target) :])
            _accumulate(view, key[1], np.broadcast_to(v, target))
        else:
            view[key[1]] = v
        return out

    @staticmethod
    def backward(ctx, g):
        need_a, _, need_v, _, _ = ctx.needs_input_grad
        key = _saved_key(ctx)[0]
        da = dv = None
        if need_a:
            da = g if ctx.accumulate else IndexPut.apply(g, key, 0, False, ctx.advanced)
        if need_v:
            dv = Index.apply(g, key, ctx.advanced)
            if dv.ndim < ctx.v_ndim:
                dv = dv.reshape((1,) * (ctx.v_ndim - dv.ndim) + dv.shape)
        return da, None, dv, None, None


def setitem(input: Tensor, index, value) -> None:
    """``input[index] = value``: in place; recorded (like PyTorch) when gradients are involved.

    A leaf that requires grad refuses while grad mode is on. Otherwise, when ``input`` or
    ``value`` requires grad, ``input`` takes the result of an out-of-place index_put and its
    history; elsewhere the write goes straight into the array.
    """
    idx, advanced = _normalize(index)
    v_grad = isinstance(value, Tensor) and value.requires_grad
    try:
        if _state.enabled and (input.requires_grad or v_grad):
            if input.requires_grad and input.grad_fn is None:
                raise RuntimeError(
                    "a leaf Variable that requires grad is being used in an in-place operation."
                )
            if isinstance(value, Tensor) and value.dtype != input.dtype:
                value = value.to(input.dtype)
            input._inplace(IndexPut.apply(input, idx, value, False, advanced))
            return
        data = value.data if isinstance(value, Tensor) else value
        _target(input.data, idx)[idx[1]] = data
    except IndexError as e:
        raise _index_error(e, input.data.shape) from None
    except ValueError as e:
        msg = str(e)
        if "read-only" in msg:
            raise RuntimeError(
                "unsupported operation: some elements of the input tensor and the written-to "
                "tensor refer to a single memory location (an expanded tensor). Please clone() "
                "the tensor before performing the operation."
            ) from None
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {list(np.shape(data))} cannot be broadcast "
            f"to the indexing result ({msg})"
        ) from None
    input._version += 1


def index_put(input: Tensor, indices, values, accumulate: bool = False) -> Tensor:
    """A copy of ``input`` with ``values`` put (or added) at ``indices`` (a tuple of tensors)."""
    if isinstance(indices, (Tensor, np.ndarray)):
        raise TypeError("index_put(): indices must be a tuple of tensors")
    idx, advanced = _normalize(tuple(indices))
    if isinstance(values, Tensor) and values.dtype != input.dtype:
        raise RuntimeError(
            f"index_put(): Index put requires the source and destination dtypes match, got "
            f"{input.dtype} for the destination and {values.dtype} for the source."
        )
    try:
        return IndexPut.apply(input, idx, values, bool(accumulate), advanced)
    except IndexError as e:
        raise _index_error(e, input.data.shape) from None


# ----------------------------------------------------------------------------------------------
# gather / scatter / scatter_add
# ----------------------------------------------------------------------------------------------


def _linear_index(index: np.ndarray, dim: int, shape: tuple) -> np.ndarray:
    """Flat positions in a C-contiguous array of ``shape`` of the elements scatter ops touch."""
    strides = np.cumprod((1,) + shape[:0:-1])[::-1]
    lin = index * strides[dim]
    for k, n in enumerate(index.shape):
        if k != dim and n > 1:
            lin = lin + (np.arange(n) * strides[k]).reshape((n,) + (1,) * (index.ndim - k - 1))
    return lin


def _prefix(a: np.ndarray, shape: tuple, skip: int | None = None) -> np.ndarray:
    """``a`` cut down to ``shape`` in every dim but ``skip`` (index may be smaller than src)."""
    if a.shape == shape:
        return a
    return a[tuple(slice(None) if k == skip else slice(0, s) for k, s in enumerate(shape))]


class Gather(Function):
    """out[i][j] = a[i][index[i][j]] (along ``dim``);  da = scatter_add of g into zeros"""

    @staticmethod
    def forward(ctx, a, dim, index):
        ctx.shape, ctx.dim = a.shape, dim
        ctx.save_for_backward(index)
        return np.take_along_axis(_prefix(a, index.shape, dim), index, axis=dim)

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_arrays
        return ScatterAdd.apply(_zeros(ctx.shape, g.dtype), ctx.dim, index, g), None, None


def _grad_to_src(g: Tensor, dim: int, index: np.ndarray, src_shape: tuple) -> Tensor:
    """d src of a scatter: g gathered at index, zero-padded where src is larger than index."""
    out = Gather.apply(g, dim, index)
    if out.shape != src_shape:
        widths = tuple((0, s - i) for s, i in zip(src_shape, index.shape))
        out = ConstantPad.apply(out, widths, 0)
    return out


class ScatterAdd(Function):
    """out = a, then out[i][index[i][j]] += src[i][j] (along ``dim``);  da = g,  dsrc = gather(g)"""

    @staticmethod
    def forward(ctx, a, dim, index, src):
        ctx.dim, ctx.src_shape = dim, src.shape
        ctx.save_for_backward(index)
        out = _fresh(a)
        lin = _linear_index(index, dim, out.shape)
        _add_rows(out.reshape(-1), lin.reshape(-1), _prefix(src, index.shape).reshape(-1))
        return out

    @staticmethod
    def backward(ctx, g):
        need_a, _, _, need_src = ctx.needs_input_grad
        (index,) = ctx.saved_arrays
        dsrc = _grad_to_src(g, ctx.dim, index, ctx.src_shape) if need_src else None
        return (g if need_a else None), None, None, dsrc


class Scatter(Function):
    """out = a, then out[i][index[i][j]] = src[i][j] (or a scalar);  da = g zeroed where written,  dsrc = gather(g)"""

    @staticmethod
    def forward(ctx, a, dim, index, src, reduce):
        ctx.dim, ctx.reduce = dim, reduce
        ctx.src_shape = np.shape(src)
        ctx.save_for_backward(index)
        out = _fresh(a)
        flat = out.reshape(-1)
        lin = _linear_index(index, dim, out.shape).reshape(-1)
        if isinstance(src, np.ndarray) and src.ndim:
            vals = _prefix(src, index.shape).reshape(-1)
        else:
            vals = np.broadcast_to(np.asarray(src, out.dtype), lin.shape)
        if reduce is None:
            flat[lin] = vals
        elif reduce == "add":
            _add_rows(flat, lin, vals.astype(out.dtype, copy=False))
        else:
            np.multiply.at(flat, lin, vals)
        return out

    @staticmethod
    def backward(ctx, g):
        if ctx.reduce is not None:
            raise RuntimeError(
                f"scatter(): the derivative for reduce={ctx.reduce!r} is not implemented"
            )
        need_a, _, _, need_src, _ = ctx.needs_input_grad
        (index,) = ctx.saved_arrays
        da = Scatter.apply(g, ctx.dim, index, 0, None) if need_a else None
        dsrc = _grad_to_src(g, ctx.dim, index, ctx.src_shape) if need_src else None
        return da, None, None, dsrc, None


def _check_scatter(op: str, input: Tensor, dim: int, index, src=None) -> tuple:
    """Validate a gather/scatter call the way PyTorch does; return (dim, index array)."""
    idx = _index_array(index, op)
    shape = input.data.shape
    if not shape and op != "gather":
        raise RuntimeError(f"{op}(): expected an input with at least one dimension")
    d = _wrap_dim(dim, len(shape))
    if idx.ndim != len(shape) and not (idx.ndim <= 1 and len(shape) <= 1):
        raise RuntimeError(
            f"{op}(): Index tensor must have the same number of dimensions as input tensor "
            f"(index has {idx.ndim}, input has {len(shape)})"
        )
    if src is not None and src.ndim != idx.ndim:
        raise RuntimeError(
            f"{op}(): Index tensor must have the same number of dimensions as src tensor "
            f"(index has {idx.ndim}, src has {src.ndim})"
        )
    for k in range(idx.ndim):
        too_big_self = k != d and idx.shape[k] > shape[k]
        too_big_src = src is not None and idx.shape[k] > src.shape[k]
        if too_big_self or too_big_src:
            extra = "" if src is None else f" and to be no larger size than src {list(src.shape)}"
            raise RuntimeError(
                f"{op}(): Expected index {list(idx.shape)} to be no larger than self "
                f"{list(shape)} apart from dimension {d}{extra}"
            )
    _check_bounds(idx, shape[d] if shape else 1, d, op)
    return d, idx.astype(np.int64, copy=False)


def gather(input: Tensor, dim: int, index, *, sparse_grad: bool = False) -> Tensor:
    """``out[i][j][k] = input[i][index[i][j][k]][k]`` for dim=1 (and likewise for other dims).

    ``index`` has the input's rank and is no larger than it outside ``dim``; ``out`` has
    index's shape.
    """
    d, idx = _check_scatter("gather", input, dim, index)
    if input.data.ndim == 0:
        return _reshape(Gather.apply(_reshape(input, (1,)), 0, idx.reshape(-1)), idx.shape)
    return Gather.apply(input, d, idx)


def scatter(input: Tensor, dim: int, index, src=None, value=None, reduce=None) -> Tensor:
    """A copy of ``input`` with ``src`` (a tensor) or ``value`` (a scalar) written at ``index``.

    ``out[i][index[i][j]] = src[i][j]`` for dim=1. With ``reduce='add'`` or ``'multiply'`` the
    values are combined instead (no gradient then, as in PyTorch).
    """
    if src is not None and not isinstance(src, Tensor):
        src, value = None, src
    if src is None and value is None:
        raise RuntimeError("scatter(): Expected either src or value")
    if reduce is not None and reduce not in ("add", "multiply"):
        raise RuntimeError(
            f"scatter(): reduce argument must be either add or multiply, got {reduce!r}"
        )
    if src is not None:
        if src.dtype != input.dtype:
            raise RuntimeError(
                f"scatter(): Expected self.dtype to be equal to src.dtype, got {input.dtype} and "
                f"{src.dtype}"
            )
        d, idx = _check_scatter("scatter", input, dim, index, src.data)
        return Scatter.apply(input, d, idx, src, reduce)
    if isinstance(value, Tensor):
        value = value.item()
    d, idx = _check_scatter("scatter", input, dim, index)
    return Scatter.apply(input, d, idx, value, reduce)


def scatter_add(input: Tensor, dim: int, index, src: Tensor) -> Tensor:
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim``; repeats add up."""
    if src.dtype != input.dtype:
        raise RuntimeError(
            f"scatter_add(): Expected self.dtype to be equal to src.dtype, got {input.dtype} and "
            f"{src.dtype}"
        )
    d, idx = _check_scatter("scatter_add", input, dim, index, src.data)
    return ScatterAdd.apply(input, d, idx, src)


def take_along_dim(input: Tensor, indices, dim: int | None = None) -> Tensor:
    """Pick values along ``dim`` at ``indices`` (broadcast against ``input`` outside ``dim``)."""
    idx = _index_array(indices, "take_along_dim", "indices")
    if dim is None:
        flat = _reshape(input, (input.data.size,))
        return gather(flat, 0, Tensor._make(idx.reshape(-1)))
    shape = input.data.shape
    d = _wrap_dim(dim, len(shape))
    if idx.ndim != len(shape):
        raise RuntimeError(
            f"take_along_dim(): input and indices should have the same number of dimensions, "
            f"but got {len(shape)} dimensions for input, and {idx.ndim} dimensions for indices"
        )
    common = list(
        np.broadcast_shapes(
            shape[:d] + (1,) + shape[d + 1 :], idx.shape[:d] + (1,) + idx.shape[d + 1 :]
        )
    )
    in_shape = tuple(common[:d]) + (shape[d],) + tuple(common[d + 1 :])
    idx_shape = tuple(common[:d]) + (idx.shape[d],) + tuple(common[d + 1 :])
    return gather(expand(input, in_shape), d, Tensor._make(np.broadcast_to(idx, idx_shape)))


# ----------------------------------------------------------------------------------------------
# index_select / index_add
# ----------------------------------------------------------------------------------------------


class IndexSelect(Function):
    """out = a taken at ``index`` along ``dim``;  da = index_add of g into zeros"""

    @staticmethod
    def forward(ctx, a, dim, index):
        ctx.shape, ctx.dim = a.shape, dim
        ctx.save_for_backward(index)
        return np.take(a, index, axis=dim)

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_arrays
        return IndexAdd.apply(_zeros(ctx.shape, g.dtype), ctx.dim, index, g, 1), None, None


class IndexAdd(Function):
    """out = a, then out[index[i]] += alpha * src[i] along ``dim``;  da = g,  dsrc = alpha * g[index]"""

    @staticmethod
    def forward(ctx, a, dim, index, src, alpha):
        ctx.dim, ctx.alpha = dim, alpha
        ctx.save_for_backward(index)
        out = _fresh(a)
        src = np.moveaxis(src, dim, 0)
        if alpha != 1:
            src = src * np.asarray(alpha, out.dtype)
        _add_rows(np.moveaxis(out, dim, 0), index, src.astype(out.dtype, copy=False))
        return out

    @staticmethod
    def backward(ctx, g):
        need_a, _, _, need_src, _ = ctx.needs_input_grad
        dsrc = None
        if need_src:
            dsrc = IndexSelect.apply(g, ctx.dim, ctx.saved_arrays[0])
            if ctx.alpha != 1:
                dsrc = dsrc * ctx.alpha
        return (g if need_a else None), None, None, dsrc, None


def _select_index(index, op: str, size: int, dim: int) -> np.ndarray:
    idx = _index_array(index, op)
    if idx.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector, got shape {list(idx.shape)}")
    _check_bounds(idx, size, dim, op)
    return idx.reshape(-1).astype(np.int64, copy=False)


def index_select(input: Tensor, dim: int, index) -> Tensor:
    """The slices of ``input`` at positions ``index`` (a 1-D int tensor) along ``dim``."""
    shape = input.data.shape
    if not shape:
        idx = _select_index(index, "index_select", 1, 0)
        return _reshape(IndexSelect.apply(_reshape(input, (1,)), 0, idx), ())
    d = _wrap_dim(dim, len(shape))
    idx = _select_index(index, "index_select", shape[d], d)
    return IndexSelect.apply(input, d, idx)


def index_add(input: Tensor, dim: int, index, source: Tensor, *, alpha=1) -> Tensor:
    """A copy of ``input`` with ``alpha * source[i]`` added at ``index[i]`` along ``dim``."""
    shape = input.data.shape
    d = _wrap_dim(dim, len(shape))
    idx = _select_index(index, "index_add", shape[d] if shape else 1, d)
    src_shape = source.data.shape
    want = shape[:d] + (idx.size,) + shape[d + 1 :]
    if src_shape != want:
        if len(src_shape) == len(shape) and src_shape[d] != idx.size:
            raise RuntimeError(
                f"index_add_(): Number of indices ({idx.size}) should be equal to "
                f"source.size(dim): ({src_shape[d]}), for dim: {d}"
            )
        raise RuntimeError(
            f"index_add_(): source has shape {list(src_shape)} but {list(want)} was expected "
            f"(self {list(shape)} with {idx.size} indices along dim {d})"
        )
    return IndexAdd.apply(input, d, idx, source, alpha)


# ----------------------------------------------------------------------------------------------
# masks
# ----------------------------------------------------------------------------------------------


class MaskedFill(Function):
    """out = where(mask, value, a);  da = g zeroed where mask,  dvalue = sum of g where mask"""

    @staticmethod
    def forward(ctx, a, mask, value):
        ctx.save_for_backward(mask)
        out = np.where(mask, value, a)
        return out if out.dtype == a.dtype else out.astype(a.dtype)

    @staticmethod
    def backward(ctx, g):
        need_a, _, need_v = ctx.needs_input_grad
        (mask,) = ctx.saved_arrays
        da = MaskedFill.apply(g, mask, 0) if need_a else None
        dv = MaskedFill.apply(g, ~mask, 0).sum() if need_v else None
        return da, None, dv


def _mask_array(mask, op: str) -> np.ndarray:
    m = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"{op} only supports boolean masks, but got mask with dtype {m.dtype}")
    return m


def masked_fill(input: Tensor, mask, value) -> Tensor:
    """``input`` with ``value`` (a scalar or 0-d tensor) where the bool ``mask`` is True.

    >>> import mytorch.core as mt
    >>> x = mt.zeros(2, 3)
    >>> x.masked_fill(mt.tensor([True, False, True]), 5.0).tolist()
    [[5.0, 0.0, 5.0], [5.0, 0.0, 5.0]]
    """
    m = _mask_array(mask, "masked_fill")
    if isinstance(value, Tensor) and value.data.ndim != 0:
        raise RuntimeError(
            f"masked_fill only supports a 0-dimensional value tensor, but got tensor with "
            f"{value.data.ndim} dimension(s)."
        )
    try:
        np.broadcast_shapes(input.data.shape, m.shape)
    except ValueError:
        raise RuntimeError(
            f"masked_fill: the mask of shape {list(m.shape)} does not broadcast with the input "
            f"of shape {list(input.data.shape)}"
        ) from None
    return MaskedFill.apply(input, m, value)


def masked_select(input: Tensor, mask) -> Tensor:
    """The 1-D tensor of elements of ``input`` where ``mask`` is True (both broadcast)."""
    m = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_select: expected BoolTensor for mask, got {m.dtype}")
    try:
        shape = np.broadcast_shapes(input.data.shape, m.shape)
    except ValueError:
        raise RuntimeError(
            f"masked_select: the mask of shape {list(m.shape)} does not broadcast with the "
            f"input of shape {list(input.data.shape)}"
        ) from None
    x = expand(input, shape)
    return getitem(x, Tensor._make(np.broadcast_to(m, shape)))


def nonzero(input: Tensor, *, as_tuple: bool = False):
    """Indices of non-zero elements: an (n, ndim) int64 tensor, or one 1-D tensor per dim."""
    a = input.data
    if as_tuple:
        return tuple(
            Tensor._make(i.astype(np.int64, copy=False)) for i in np.nonzero(np.atleast_1d(a))
        )
    return Tensor._make(np.argwhere(a).astype(np.int64, copy=False))


def take(input: Tensor, index) -> Tensor:
    """Elements of the flattened ``input`` at ``index`` (negative indices count from the end)."""
    idx = _index_array(index, "take")
    _check_bounds(idx, input.data.size, 0, "take", allow_negative=True)
    flat = _reshape(input, (input.data.size,))
    return getitem(flat, Tensor._make(idx) if idx.ndim else int(idx))
