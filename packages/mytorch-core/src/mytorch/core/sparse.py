"""Sparse COO matrices and their product with dense matrices, in O(nnz) time and memory.

A ``SparseTensor`` holds ``indices`` (2, nnz) int64 and ``values`` (nnz,), a Tensor that can
require grad, for a matrix of ``size`` (m, n). As in PyTorch, duplicate coordinates are allowed
and mean their sum; ``mm(A, B)`` is ``A.to_dense() @ B`` without ever forming the dense matrix,
and is differentiable in both ``A.values()`` and ``B``.

>>> import mytorch.core as mt
>>> from mytorch.core import sparse
>>> a = sparse.sparse_coo_tensor(mt.tensor([[0, 1, 1], [2, 0, 0]]), mt.tensor([1.0, 2.0, 3.0]), (2, 3))
>>> sparse.mm(a, mt.ones(3, 2)).tolist()
[[1.0, 1.0], [5.0, 5.0]]
>>> a.to_dense().tolist()
[[0.0, 0.0, 1.0], [5.0, 0.0, 0.0]]
"""

from __future__ import annotations

import numpy as np

from mytorch.core.autograd import Function
from mytorch.core.tensor import Tensor

__all__ = ["SparseTensor", "sparse_coo_tensor", "to_sparse", "mm", "spmm"]


def _plan(index: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """How to sum rows by ``index`` (nnz,): (order that sorts it, distinct values, where each
    run of equal values starts in the sorted order)."""
    order = np.argsort(index, kind="stable")
    s = index[order]
    if s.size == 0:
        return order, s, s
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    return order, s[starts], starts


def _spmm_rows(
    values: np.ndarray,
    dense: np.ndarray,
    col: np.ndarray,
    uniq: np.ndarray,
    starts: np.ndarray,
    n_rows: int,
) -> np.ndarray:
    """(n_rows, *rest): out[uniq[k]] = sum over run k of values[e] * dense[col[e]], for entries
    already in row order (``values`` (nnz, *heads), ``dense`` (n, *heads, C) or (n, F))."""
    n, rest = dense.shape[0], dense.shape[1:]
    nnz = col.shape[0]
    out = np.zeros((n_rows,) + rest, dense.dtype)
    if nnz == 0:
        return out
    if nnz >= 10 * starts.shape[0] or out[0].size <= 16:
        # long runs or narrow rows: a run sum per feature row is cheap enough
        return _spmm_long_runs(values, dense, col, uniq, starts, out)
    # Short runs are summed in buckets of similar length: a run of length L <= 2^b is padded to
    # 2^b with a zero entry, so one gather and one sum over a (runs, 2^b, *rest) block handles
    # the whole bucket (at most twice the entries; numpy's reduceat pays per run and column).
    padded = np.concatenate([dense, np.zeros((1,) + rest, dense.dtype)])  # row n is zero
    col_pad = np.append(col, n)
    heads = values.shape[1:]
    v_pad = np.concatenate([values, np.zeros((1,) + heads, values.dtype)])
    lengths = np.diff(np.append(starts, nnz))  # (runs,)
    bucket = np.ceil(np.log2(lengths)).astype(np.int64)  # lengths <= 2^bucket
    runs = np.zeros((starts.shape[0],) + rest, dense.dtype)
    trail = (1,) * (len(rest) - len(heads))
    for b in np.unique(bucket):
        sel = np.flatnonzero(bucket == b)
        width = 1 << int(b)
        pos = starts[sel, None] + np.arange(width)  # (R, width) entry ids
        pos = np.where(np.arange(width) < lengths[sel, None], pos, nnz)  # nnz: the zero entry
        block = padded[col_pad[pos]]  # (R, width, *rest)
        block *= v_pad[pos].reshape(pos.shape + heads + trail)
        runs[sel] = block.sum(1)
    out[uniq] = runs
    return out


def _spmm_long_runs(values, dense, col, uniq, starts, out) -> np.ndarray:
    """``_spmm_rows`` feature-major: gathers and run sums stream along contiguous rows."""
    n, nnz = dense.shape[0], col.shape[0]
    width = out[0].size
    dense_t = np.ascontiguousarray(dense.reshape(n, width).T)  # (F, n)
    contrib = np.take(dense_t, col, axis=1)  # (F, nnz)
    v = values.reshape(nnz, -1).T  # (H or 1, nnz)
    contrib.reshape(v.shape[0], -1, nnz)[...] *= v[:, None, :]
    out.reshape(out.shape[0], width)[uniq] = np.add.reduceat(contrib, starts, axis=1).T
    return out


class SparseMM(Function):
    """out (m, *) = A @ B with A given as (values, row, col) (values (nnz,) or (nnz, H) for H heads of B (n, H, C));  dvalues = rowwise dot(g[row], B[col]),  dB = A^T @ g"""

    @staticmethod
    def forward(
        ctx, values, dense, row, col, n_rows, order, uniq, starts, t_order, t_uniq, t_starts
    ):
        ctx.n_cols = dense.shape[0]
        ctx.save_for_backward(
            values, dense, row, col, order, uniq, starts, t_order, t_uniq, t_starts
        )
        if order.size and not (order[0] == 0 and np.all(order[1:] > order[:-1])):
            values, col = values[order], col[order]  # into row order (unless already there)
        return _spmm_rows(values, dense, col, uniq, starts, n_rows)

    @staticmethod
    def backward(ctx, g):
        values, dense, row, col, order, uniq, starts, t_order, t_uniq, t_starts = ctx.saved_tensors
        need_values, need_dense = ctx.needs_input_grad[:2]
        r, c = row.data, col.data
        dvalues = ddense = None
        plans = (order.data, uniq.data, starts.data, t_order.data, t_uniq.data, t_starts.data)
        if need_values:  # one dot product per stored entry (and head), never (m, n)
            dvalues = SampledDot.apply(g, dense, r, c, values.shape, ctx.n_cols, *plans)
        if need_dense:
            ddense = SparseMM.apply(values, g, c, r, ctx.n_cols, *plans[3:], *plans[:3])
        return (dvalues, ddense) + (None,) * 9


class SampledDot(Function):
    """out[k] = dot(a[row[k]], b[col[k]]) per stored entry (and head; the gradient of sparse values);  da = S @ b,  db = S^T @ a with S the sparse matrix of gout"""

    @staticmethod
    def forward(ctx, a, b, row, col, shape, n_cols, order, uniq, starts, t_order, t_uniq, t_starts):
        ctx.n_rows, ctx.n_cols = a.shape[0], n_cols
        ctx.save_for_backward(a, b, row, col, order, uniq, starts, t_order, t_uniq, t_starts)
        nnz = row.shape[0]
        heads = int(np.prod(shape[1:])) if len(shape) > 1 else 1
        ga = a.reshape(a.shape[0], heads, -1)[row]  # (nnz, H, C)
        gb = b.reshape(b.shape[0], heads, -1)[col]
        return np.einsum("khc,khc->kh", ga, gb).reshape((nnz,) + tuple(shape[1:]))

    @staticmethod
    def backward(ctx, gout):
        a, b, row, col, order, uniq, starts, t_order, t_uniq, t_starts = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad[:2]
        r, c = row.data, col.data
        plans = (order.data, uniq.data, starts.data, t_order.data, t_uniq.data, t_starts.data)
        da = SparseMM.apply(gout, b, r, c, ctx.n_rows, *plans) if need_a else None
        db = SparseMM.apply(gout, a, c, r, ctx.n_cols, *plans[3:], *plans[:3]) if need_b else None
        return (da, db) + (None,) * 10


class SparseTensor:
    """A sparse (m, n) matrix in coordinate (COO) format; see ``sparse_coo_tensor``."""

    def __init__(self, indices: np.ndarray, values: Tensor, size: tuple[int, int]) -> None:
        self._indices = indices
        self._values = values
        self.shape = tuple(int(s) for s in size)
        self._coalesced = False
        self._plans = None  # (row plan, column plan), built on the first product

    def _get_plans(self) -> tuple:
        if self._plans is None:
            self._plans = _plan(self._indices[0]) + _plan(self._indices[1])
        return self._plans

    # ---- PyTorch's accessors
    def indices(self) -> Tensor:
        """(2, nnz) int64 coordinates: row indices, then column indices."""
        return Tensor._make(self._indices)

    def values(self) -> Tensor:
        """(nnz,) the stored values (keeps its autograd history)."""
        return self._values

    def size(self, dim: int | None = None):
        return self.shape if dim is None else self.shape[dim]

    def dim(self) -> int:
        return 2

    @property
    def ndim(self) -> int:
        return 2

    @property
    def dtype(self):
        return self._values.dtype

    @property
    def requires_grad(self) -> bool:
        return self._values.requires_grad

    @property
    def is_sparse(self) -> bool:
        return True

    def _nnz(self) -> int:
        return int(self._indices.shape[1])

    def is_coalesced(self) -> bool:
        return self._coalesced

    def coalesce(self) -> SparseTensor:
        """Duplicates summed and entries sorted by (row, column); differentiable in values."""
        if self._coalesced:
            return self
        row, col = self._indices
        key = row * self.shape[1] + col
        uniq, inverse = np.unique(key, return_inverse=True)
        summed = _index_add_values(self._values, inverse, uniq.size)
        idx = np.stack([uniq // self.shape[1], uniq % self.shape[1]]).astype(np.int64)
        out = SparseTensor(idx, summed, self.shape)
        out._coalesced = True
        return out

    def with_values(self, values: Tensor) -> SparseTensor:
        """The same pattern (and its cached sort orders) holding other ``values`` (nnz, *)."""
        if not isinstance(values, Tensor) or values.ndim < 1 or values.shape[0] != self._nnz():
            raise RuntimeError(
                f"with_values: values must be a Tensor with {self._nnz()} rows, got "
                f"{getattr(values, 'shape', values)}"
            )
        out = SparseTensor(self._indices, values, self.shape)
        out._coalesced = self._coalesced
        out._plans = self._get_plans()
        return out

    def t(self) -> SparseTensor:
        """The transpose (n, m), sharing values."""
        out = SparseTensor(self._indices[::-1].copy(), self._values, self.shape[::-1])
        if self._plans is not None:
            out._plans = self._plans[3:] + self._plans[:3]
        return out

    def to_dense(self) -> Tensor:
        """The dense (m, n) matrix; duplicates add up. Only for small matrices and tests."""
        eye = Tensor._make(np.eye(self.shape[1], dtype=self._values.dtype))
        return mm(self, eye)

    def mm(self, other: Tensor) -> Tensor:
        return mm(self, other)

    def __matmul__(self, other: Tensor) -> Tensor:
        return mm(self, other)

    def __repr__(self) -> str:
        return (
            f"SparseTensor(size={self.shape}, nnz={self._nnz()}, dtype={self.dtype}, "
            f"layout=sparse_coo)"
        )


def _index_add_values(values: Tensor, inverse: np.ndarray, n: int) -> Tensor:
    from mytorch.core.ops.indexing import index_add

    zeros = Tensor._make(np.zeros(n, values.dtype))
    return index_add(zeros, 0, Tensor._make(inverse.astype(np.int64)), values)


def sparse_coo_tensor(indices, values, size=None, *, dtype=None, check_invariants: bool = True):
    """A sparse (m, n) COO matrix with ``values[k]`` at ``(indices[0, k], indices[1, k])``.

    ``size`` defaults to one past the largest index in each row of ``indices``. Duplicate
    coordinates are kept and mean their sum (``coalesce()`` merges them).
    """
    idx = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"sparse_coo_tensor: indices must be an integer tensor, got {idx.dtype}")
    if idx.ndim != 2 or idx.shape[0] != 2:
        raise RuntimeError(
            f"sparse_coo_tensor: only 2-D sparse matrices are supported: indices must have "
            f"shape (2, nnz), got {list(idx.shape)}"
        )
    if not isinstance(values, Tensor):
        values = Tensor._make(np.asarray(values))
    if dtype is not None:
        values = values.to(dtype)
    if values.ndim < 1 or values.shape[0] != idx.shape[1]:
        raise RuntimeError(
            f"sparse_coo_tensor: values must have shape ({idx.shape[1]},) (or ({idx.shape[1]}, "
            f"H) for H matrices sharing the pattern) to match indices {list(idx.shape)}, got "
            f"{list(values.shape)}"
        )
    idx = idx.astype(np.int64, copy=False)
    if size is None:
        size = tuple(int(i.max()) + 1 if idx.shape[1] else 0 for i in idx)
    size = tuple(int(s) for s in size)
    if len(size) != 2:
        raise RuntimeError(f"sparse_coo_tensor: size must have 2 entries, got {list(size)}")
    if check_invariants and idx.shape[1]:
        for d in range(2):
            lo, hi = int(idx[d].min()), int(idx[d].max())
            if lo < 0 or hi >= size[d]:
                bad = lo if lo < 0 else hi
                raise RuntimeError(
                    f"sparse_coo_tensor: index {bad} in row {d} of indices is out of bounds for "
                    f"size {list(size)}"
                )
    return SparseTensor(idx, values, size)


def to_sparse(input: Tensor) -> SparseTensor:
    """The non-zero entries of a dense 2-D tensor as a coalesced COO matrix (like PyTorch's
    ``Tensor.to_sparse()``); the values are copied, without autograd history."""
    if not isinstance(input, Tensor) or input.ndim != 2:
        raise RuntimeError(
            f"to_sparse: expected a 2-D Tensor, got {getattr(input, 'shape', input)}"
        )
    a = input.detach().numpy()
    row, col = np.nonzero(a)  # row-major order: sorted by (row, column)
    idx = np.stack([row, col]).astype(np.int64)
    out = SparseTensor(idx, Tensor._make(a[row, col].copy()), a.shape)
    out._coalesced = True
    return out


def mm(mat1: SparseTensor, mat2: Tensor) -> Tensor:
    """``mat1 @ mat2`` for a sparse (m, n) ``mat1`` and a dense (n, F) ``mat2``: dense (m, F).

    Costs O(nnz * F); gradients flow to ``mat1.values()`` and ``mat2``.
    """
    if not isinstance(mat1, SparseTensor):
        raise TypeError(f"sparse.mm: mat1 must be a SparseTensor, got {type(mat1).__name__}")
    if not isinstance(mat2, Tensor):
        raise TypeError(f"sparse.mm: mat2 must be a Tensor, got {type(mat2).__name__}")
    if mat2.ndim != 2 or mat2.shape[0] != mat1.shape[1]:
        raise RuntimeError(
            f"sparse.mm: mat1 and mat2 shapes cannot be multiplied ({mat1.shape[0]}x"
            f"{mat1.shape[1]} and {'x'.join(map(str, mat2.shape))})"
        )
    values = mat1._values
    if values.ndim != 1:
        raise RuntimeError(
            f"sparse.mm: mat1 has values of shape {list(values.shape)}; multi-head values need "
            f"sparse.spmm"
        )
    if values.dtype != mat2.dtype:
        raise RuntimeError(
            f"sparse.mm: expected mat1 and mat2 to have the same dtype, got {values.dtype} and "
            f"{mat2.dtype}"
        )
    row, col = mat1._indices
    return SparseMM.apply(values, mat2, row, col, mat1.shape[0], *mat1._get_plans())


def spmm(mat1: SparseTensor, mat2: Tensor) -> Tensor:
    """Multi-head sparse product: ``mat1`` holds values (nnz, H), one matrix per head, and
    ``mat2`` is (n, H, C); out[:, h] = A_h @ mat2[:, h], an (m, H, C) tensor. O(nnz * H * C).

    (Graph attention uses it: one attention matrix per head over the same edges.)
    """
    if not isinstance(mat1, SparseTensor):
        raise TypeError(f"sparse.spmm: mat1 must be a SparseTensor, got {type(mat1).__name__}")
    values = mat1._values
    heads = tuple(values.shape[1:])
    if (
        mat2.ndim != 2 + len(heads)
        or mat2.shape[0] != mat1.shape[1]
        or tuple(mat2.shape[1:-1]) != heads
    ):
        raise RuntimeError(
            f"sparse.spmm: with values of shape {list(values.shape)} mat2 must have shape "
            f"({mat1.shape[1]}, {', '.join(map(str, heads + ('C',)))}), got {list(mat2.shape)}"
        )
    if values.dtype != mat2.dtype:
        raise RuntimeError(
            f"sparse.spmm: expected mat1 and mat2 to have the same dtype, got {values.dtype} and "
            f"{mat2.dtype}"
        )
    row, col = mat1._indices
    return SparseMM.apply(values, mat2, row, col, mat1.shape[0], *mat1._get_plans())
