"""``GINConv`` (Xu et al. 2019, graph isomorphism network): x_i' = h((1 + eps) x_i + sum_j x_j)
with ``h`` a neural network (usually an MLP), as powerful as the 1-WL test.

>>> import mytorch.core as mt
>>> import mytorch.nn as nn
>>> GINConv(nn.Linear(4, 2))(mt.randn(3, 4), mt.tensor([[0, 1], [1, 2]])).shape
(3, 2)
"""

from __future__ import annotations

import mytorch.core as mt
from mytorch.core import Tensor
from mytorch.graph.nn.message_passing import MessagePassing
from mytorch.nn import Module, Parameter

__all__ = ["GINConv"]


class GINConv(MessagePassing):
    """GIN layer around the module ``nn``; ``eps`` is learned when ``train_eps``."""

    def __init__(self, nn: Module, eps: float = 0.0, train_eps: bool = False) -> None:
        super().__init__(aggr="add")
        self.nn = nn
        self.initial_eps = eps
        if train_eps:
            self.eps = Parameter(mt.tensor([float(eps)]))
        else:
            self.register_buffer("eps", mt.tensor([float(eps)]))

    def reset_parameters(self) -> None:
        if hasattr(self.nn, "reset_parameters"):
            self.nn.reset_parameters()
        self.eps.data[...] = self.initial_eps

    def forward(self, x, edge_index, size: tuple[int, int] | None = None) -> Tensor:
        if isinstance(x, Tensor):
            x = (x, x)
        out = self.propagate(edge_index, x=x, size=size)  # (N_dst, F) sum of neighbours
        return self.nn(out + (1 + self.eps) * x[1])

    def extra_repr(self) -> str:
        return f"nn={self.nn!r}"
