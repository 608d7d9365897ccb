"""one_hot, normalize, cosine_similarity and pairwise_distance.

>>> import mytorch.core as mt
>>> one_hot(mt.tensor([0, 2]), 3).tolist()
[[1, 0, 0], [0, 0, 1]]
"""

from __future__ import annotations

import numpy as np

from mytorch.core.ops.elementwise import clamp
from mytorch.core.ops.movement import broadcast_tensors
from mytorch.core.tensor import Tensor

__all__ = ["cosine_similarity", "normalize", "one_hot", "pairwise_distance"]


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 tensor of shape (*tensor.shape, num_classes) with a 1 at each index.

    ``num_classes=-1`` uses ``tensor.max() + 1``.
    """
    t = tensor.data
    if t.dtype.kind not in "iu":
        raise RuntimeError(
            f"one_hot is only applicable to index tensor of integer type, got {tensor.dtype}"
        )
    if num_classes == -1:
        if t.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(t.max()) + 1
    if t.size:
        lo, hi = int(t.min()), int(t.max())
        if lo < 0:
            raise RuntimeError(f"one_hot: Class values must be non-negative, got {lo}.")
        if hi >= num_classes:
            raise RuntimeError(
                f"one_hot: Class values must be smaller than num_classes ({num_classes}), got {hi}."
            )
    return Tensor._make((t[..., None] == np.arange(num_classes)).astype(np.int64))


def normalize(
    input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: Tensor | None = None
) -> Tensor:
    """input / max(||input||_p, eps) along ``dim``.

    >>> import mytorch.core as mt
    >>> normalize(mt.tensor([[3.0, 4.0]])).tolist()
    [[0.6000000238418579, 0.800000011920929]]
    """
    denom = clamp(input.norm(p, dim, keepdim=True), min=eps)
    result = input / denom
    if out is not None:
        return out.copy_(result)
    return result


def _clamped_norm(x: Tensor, dim: int, eps: float) -> Tensor:
    """||x|| along dim (kept), raised to at least eps in value while its gradient is the norm's."""
    n = x.norm(2, dim, keepdim=True)
    lift = np.maximum(n.data, eps) - n.data
    return n + Tensor._make(lift) if lift.any() else n


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum(x1 * x2) / (||x1|| * ||x2||) along ``dim``, each norm at least eps; broadcasts."""
    x1, x2 = broadcast_tensors(x1, x2)
    if x1.ndim == 0:
        raise RuntimeError("cosine_similarity: expected inputs with at least 1 dimension")
    return ((x1 / _clamped_norm(x1, dim, eps)) * (x2 / _clamped_norm(x2, dim, eps))).sum(dim)


def pairwise_distance(
    x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False
) -> Tensor:
    """||x1 - x2 + eps||_p along the last dimension."""
    return (x1 - x2 + eps).norm(p, -1, keepdim=keepdim)
