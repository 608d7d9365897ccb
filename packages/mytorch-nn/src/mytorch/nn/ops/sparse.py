"""Embedding lookup, implemented in mytorch.core (``mytorch.core.ops.embedding``); kept here
so that existing imports from ``mytorch.nn.ops.sparse`` keep working.

>>> import mytorch.core as mt
>>> w = mt.tensor([[0.0, 0.0], [1.0, 2.0], [3.0, 4.0]])
>>> embedding(mt.tensor([2, 1]), w).tolist()
[[3.0, 4.0], [1.0, 2.0]]
"""

from mytorch.core.ops.embedding import Embedding, EmbeddingBackward, embedding  # noqa: F401

__all__ = ["embedding"]
