"""Transforms applied to a ``Data`` graph (PyTorch Geometric's ``torch_geometric.transforms``).

>>> import mytorch.core as mt
>>> from mytorch.graph.data import Data
>>> NormalizeFeatures()(Data(x=mt.tensor([[1.0, 3.0], [0.0, 0.0]]))).x.tolist()
[[0.25, 0.75], [0.0, 0.0]]
"""

from __future__ import annotations

from mytorch.graph.data import Data

__all__ = ["NormalizeFeatures"]


class NormalizeFeatures:
    """Scale each node's features to sum to 1 (rows of zeros stay zero), as GCN does."""

    def __call__(self, data: Data) -> Data:
        x = data.x
        total = x.sum(-1, keepdim=True)
        data.x = x / total.masked_fill(total == 0, 1.0)
        return data

    def __repr__(self) -> str:
        return "NormalizeFeatures()"
