"""Global pooling: one vector per graph of a batch, from its nodes' features.

>>> import mytorch.core as mt
>>> x = mt.tensor([[1.0], [3.0], [10.0]])
>>> global_mean_pool(x, mt.tensor([0, 0, 1])).tolist()
[[2.0], [10.0]]
"""

from __future__ import annotations

from mytorch.core import Tensor
from mytorch.graph.utils import index_array, scatter

__all__ = ["global_add_pool", "global_mean_pool", "global_max_pool"]


def _pool(x: Tensor, batch, size: int | None, reduce: str) -> Tensor:
    if batch is None:
        return scatter(x, [0] * x.shape[0], 0, 1, reduce)
    b = index_array(batch, "batch")
    if b.size != x.shape[0]:
        raise ValueError(f"batch has {b.size} entries but x has {x.shape[0]} nodes")
    return scatter(x, b, 0, size, reduce)


def global_add_pool(x: Tensor, batch=None, size: int | None = None) -> Tensor:
    """(B, F) the sum of each graph's node features (B = ``size`` or batch.max() + 1)."""
    return _pool(x, batch, size, "sum")


def global_mean_pool(x: Tensor, batch=None, size: int | None = None) -> Tensor:
    """(B, F) the mean of each graph's node features."""
    return _pool(x, batch, size, "mean")


def global_max_pool(x: Tensor, batch=None, size: int | None = None) -> Tensor:
    """(B, F) the element-wise max over each graph's nodes (0 for a graph with no nodes)."""
    return _pool(x, batch, size, "max")
