"""``SAGEConv`` (Hamilton et al. 2017, GraphSAGE): a node's features next to the mean of its
neighbours'. x_i' = W_l mean_{j in N(i)} x_j + W_r x_i (+ L2 normalization if asked).

>>> import mytorch.core as mt
>>> SAGEConv(4, 2)(mt.randn(3, 4), mt.tensor([[0, 1], [1, 2]])).shape
(3, 2)
"""

from __future__ import annotations

import mytorch.core.functional as F
from mytorch.core import Tensor
from mytorch.graph.nn.message_passing import MessagePassing
from mytorch.nn import Linear

__all__ = ["SAGEConv"]


class SAGEConv(MessagePassing):
    """GraphSAGE layer. ``in_channels`` may be a pair (source, target) for bipartite inputs
    such as sampled mini-batches, where ``x`` is then a pair of tensors. ``aggr``: mean (the
    default), add, max or min. ``lin_l`` carries the bias; ``lin_r`` (the root) has none."""

    def __init__(
        self,
        in_channels: int | tuple[int, int],
        out_channels: int,
        aggr: str = "mean",
        normalize: bool = False,
        root_weight: bool = True,
        bias: bool = True,
    ) -> None:
        super().__init__(aggr=aggr)
        if isinstance(in_channels, int):
            in_channels = (in_channels, in_channels)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.normalize, self.root_weight = normalize, root_weight
        self.lin_l = Linear(in_channels[0], out_channels, bias=bias)
        self.lin_r = Linear(in_channels[1], out_channels, bias=False) if root_weight else None

    def reset_parameters(self) -> None:
        self.lin_l.reset_parameters()
        if self.lin_r is not None:
            self.lin_r.reset_parameters()

    def forward(self, x, edge_index, size: tuple[int, int] | None = None) -> Tensor:
        if isinstance(x, Tensor):
            x = (x, x)
        out = self.lin_l(self.propagate(edge_index, x=x, size=size))  # (N_dst, out)
        if self.root_weight and x[1] is not None:
            out = out + self.lin_r(x[1])
        if self.normalize:
            out = F.normalize(out, p=2.0, dim=-1)
        return out

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, aggr={self.aggr!r}"
