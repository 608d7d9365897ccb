"""Embedding lookup: rows of a weight matrix gathered by integer indices.

>>> import mytorch.core as mt
>>> w = mt.tensor([[0.0, 0.0], [1.0, 2.0], [3.0, 4.0]])
>>> embedding(mt.tensor([2, 1]), w).tolist()
[[3.0, 4.0], [1.0, 2.0]]
"""

from __future__ import annotations

import numpy as np

from mytorch.core.autograd import Function
from mytorch.core.grad_mode import no_grad
from mytorch.core.tensor import Tensor

__all__ = ["embedding"]

# A one-hot (num_embeddings, N) product sums the rows fastest for small vocabularies
_ONEHOT_LIMIT = 1 << 18  # num_embeddings * N up to which it always is
_ONEHOT_ROWS, _ONEHOT_MAX = 64, 1 << 23  # and up to this vocabulary (twice that for D >= 64)


def _sum_rows(rows: np.ndarray, flat: np.ndarray, num: int) -> np.ndarray:
    """(num, D): out[r] = sum of rows[i] (N, D) over the i with flat[i] == r (flat (N,))."""
    n, dim = rows.shape
    size = num * n
    small = num <= (_ONEHOT_ROWS * 2 if dim >= 64 else _ONEHOT_ROWS) and size <= _ONEHOT_MAX
    if size <= _ONEHOT_LIMIT or small:
        onehot = np.zeros((num, n), rows.dtype)
        onehot[flat, np.arange(n)] = 1
        return onehot @ rows
    out = np.zeros((num, dim), rows.dtype)
    # One occurrence of each distinct index is written directly (a plain fancy assignment);
    # only the remaining repeats go through the slower element-wise np.add.at.
    order = np.arange(n)
    owner = np.empty(num, np.intp)
    owner[flat] = order  # for each index, one position where it occurs
    one = owner[flat] == order  # (N,) exactly one True per distinct index
    out[flat[one]] = rows[one]
    if not one.all():
        rest = ~one
        lin = flat[rest][:, None] * dim + np.arange(dim)  # (R, D) flat positions in out
        np.add.at(out.reshape(-1), lin.reshape(-1), rows[rest].reshape(-1))
    return out


def _scatter_rows(g: np.ndarray, idx: np.ndarray, num: int, padding_idx, scale: bool):
    """(num, D) sums of the rows of g (*, D) that index each row; padding row zero."""
    flat = idx.reshape(-1).astype(np.intp, copy=False)
    out = _sum_rows(g.reshape(flat.size, g.shape[-1]), flat, num)
    if scale:
        counts = np.bincount(flat, minlength=num)
        out /= np.maximum(counts, 1).astype(g.dtype)[:, None]
    if padding_idx is not None:
        out[padding_idx] = 0
    return out


class Embedding(Function):
    """out = weight[indices];  dweight[r] = sum of g rows whose index is r (0 for padding_idx)"""

    @staticmethod
    def forward(ctx, indices, weight, padding_idx, scale_grad_by_freq):
        ctx.num = weight.shape[0]
        ctx.padding_idx, ctx.scale = padding_idx, scale_grad_by_freq
        ctx.save_for_backward(indices)
        return np.take(weight, indices, axis=0)  # (*, D)

    @staticmethod
    def backward(ctx, grad):
        (indices,) = ctx.saved_arrays
        dw = EmbeddingBackward.apply(grad, indices, ctx.num, ctx.padding_idx, ctx.scale)
        return None, dw, None, None


class EmbeddingBackward(Function):
    """out[r] = sum of g rows whose index is r (/ count of r if scaled, 0 for padding_idx);  dg = gout[indices] (0 at padding_idx; unscaled, as PyTorch)"""

    @staticmethod
    def forward(ctx, g, indices, num, padding_idx, scale):
        ctx.padding_idx = padding_idx
        ctx.save_for_backward(indices)
        return _scatter_rows(g, indices, num, padding_idx, scale)

    @staticmethod
    def backward(ctx, gout):
        # Like PyTorch's embedding double backward, the frequency scaling is not applied again.
        rows = gout
        if ctx.padding_idx is not None:
            keep = np.ones((gout.shape[0], 1), dtype=gout.dtype)
            keep[ctx.padding_idx] = 0
            rows = gout * Tensor._make(keep)
        (indices,) = ctx.saved_tensors
        return Embedding.apply(indices, rows, None, False), None, None, None, None


def _renorm_(weight: Tensor, indices: np.ndarray, max_norm: float, norm_type: float) -> None:
    """Rescale, in place, the rows used by ``indices`` whose norm exceeds ``max_norm``."""
    rows = np.unique(indices)
    w = weight.data[rows]  # (U, D)
    if norm_type == 2:
        norms = np.sqrt(np.sum(w * w, axis=1))
    else:
        norms = np.linalg.norm(w, ord=norm_type, axis=1)
    scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(weight.dtype)
    with no_grad():
        weight.data[rows] = w * scale[:, None]
        weight._version += 1


def embedding(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """Rows of ``weight`` (num_embeddings, D) picked by the integer ``input`` (*): out (*, D).

    The row at ``padding_idx`` receives no gradient; ``max_norm`` renormalizes the looked-up
    rows of ``weight`` in place first; ``scale_grad_by_freq`` divides each row's gradient by
    how often it occurs in ``input``. ``sparse`` gradients are returned dense.
    """
    idx = input.data if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar "
            f"types: Long, Int; but got {idx.dtype} instead (while checking arguments for "
            "embedding)"
        )
    if weight.ndim != 2:
        raise RuntimeError(f"embedding: 'weight' must be 2-D, got {weight.ndim}-D")
    num = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= num):
        bad = int(idx.max() if idx.max() >= num else idx.min())
        raise IndexError(f"index out of range in self: index {bad} with {num} embeddings")
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx = padding_idx % num
    if max_norm is not None:
        _renorm_(weight, idx, max_norm, norm_type)
    return Embedding.apply(Tensor._make(idx), weight, padding_idx, bool(scale_grad_by_freq))
