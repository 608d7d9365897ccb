"""``GATConv`` (Velickovic et al. 2018): attention over each node's incoming edges.

alpha_ij = softmax over j in N(i) of leaky_relu(a_src . W x_j + a_dst . W x_i), one per head;
x_i' = concat (or mean) over heads of sum_j alpha_ij W x_j, plus bias. Scores and messages live
on the E edges: O(E * heads * channels), never N x N.

>>> import mytorch.core as mt
>>> conv = GATConv(4, 3, heads=2)
>>> conv(mt.randn(5, 4), mt.tensor([[0, 1, 2, 3], [1, 2, 3, 4]])).shape
(5, 6)
"""

from __future__ import annotations

import numpy as np

import mytorch.core as mt
import mytorch.core.functional as F
from mytorch.core import Tensor, sparse
from mytorch.graph.nn.inits import glorot, zeros
from mytorch.graph.nn.message_passing import MessagePassing
from mytorch.graph.utils import add_self_loops as _add_self_loops
from mytorch.graph.utils import edge_array, linear_features, remove_self_loops, softmax
from mytorch.nn import Linear, Parameter

__all__ = ["GATConv"]


class GATConv(MessagePassing):
    """Graph attention layer with ``heads`` heads of ``out_channels`` each.

    ``concat=True`` gives (N, heads * out_channels), else the heads' mean (N, out_channels).
    ``negative_slope`` is the LeakyReLU slope of the scores, ``dropout`` the probability of
    dropping an attention coefficient in training, ``add_self_loops`` lets each node attend to
    itself. Weights and attention vectors: Glorot uniform; bias: zeros.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        heads: int = 1,
        concat: bool = True,
        negative_slope: float = 0.2,
        dropout: float = 0.0,
        add_self_loops: bool = True,
        bias: bool = True,
    ) -> None:
        super().__init__(aggr="add", node_dim=0)
        if heads < 1:
            raise ValueError(f"heads must be >= 1, got {heads}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.in_channels, self.out_channels, self.heads = in_channels, out_channels, heads
        self.concat, self.negative_slope, self.dropout = concat, negative_slope, dropout
        self.add_self_loops = add_self_loops
        self._memo = self._adj = None  # edge structure reused between calls (see _edges)
        self.lin = Linear(in_channels, heads * out_channels, bias=False)
        self.att_src = Parameter(mt.empty(1, heads, out_channels))
        self.att_dst = Parameter(mt.empty(1, heads, out_channels))
        size = heads * out_channels if concat else out_channels
        self.bias = Parameter(mt.empty(size)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        glorot(self.lin.weight)
        glorot(self.att_src)
        glorot(self.att_dst)
        zeros(self.bias)

    def forward(self, x, edge_index, return_attention_weights: bool | None = None):
        """x: (N, in) dense or a sparse COO matrix. Returns (N, heads * out) or (N, out); with
        ``return_attention_weights`` also (edge_index with self-loops, sorted by target, and
        alpha (E, heads), in that edge order)."""
        h, c = self.heads, self.out_channels
        n = x.shape[0]
        x = linear_features(x, self.lin.weight).view(-1, h, c)  # (N, H, C)
        alpha_src = (x * self.att_src).sum(-1)  # (N, H)
        alpha_dst = (x * self.att_dst).sum(-1)  # (N, H)
        edge_index, adj = self._edges(edge_index, n)
        ei = edge_array(edge_index)
        src, dst = mt.from_numpy(ei[0]), mt.from_numpy(ei[1])
        alpha = self.edge_update(alpha_src[src], alpha_dst[dst], dst, n)  # (E, H)
        dropped = F.dropout(alpha, p=self.dropout, training=self.training)
        self._adj = adj
        out = self.propagate(edge_index, x=x, alpha=dropped, size=(n, n))  # (N, H, C)
        self._adj = None
        out = out.reshape(n, h * c) if self.concat else out.mean(1)  # (N, H*C) or (N, C)
        if self.bias is not None:
            out = out + self.bias
        if return_attention_weights:
            return out, (edge_index, alpha)
        return out

    def _edges(self, edge_index, n: int):
        """The edge list with self-loops and the (target, source) pattern of the attention
        matrices; reused while the same edges come back (full-batch training)."""
        ei = edge_array(edge_index)
        memo = self._memo
        if memo is not None and memo[0] == n and np.array_equal(memo[1], ei):
            return memo[2], memo[3]
        out = edge_index
        if self.add_self_loops:
            out, _ = remove_self_loops(out)
            out, _ = _add_self_loops(out, num_nodes=n)
        loops = edge_array(out)
        # Sorted by target, the per-node softmax and sums find their groups without sorting.
        loops = loops[:, np.lexsort((loops[0], loops[1]))]
        out = mt.from_numpy(np.ascontiguousarray(loops))
        pattern = sparse.sparse_coo_tensor(
            mt.from_numpy(np.stack([loops[1], loops[0]])),
            mt.zeros(loops.shape[1]),
            (n, n),
            check_invariants=False,
        )
        self._memo = (n, ei.copy(), out, pattern)
        return out, pattern

    def edge_update(self, alpha_j: Tensor, alpha_i: Tensor, index: Tensor, size_i: int) -> Tensor:
        """(E, H) attention coefficients: a softmax over each target node's incoming edges."""
        alpha = F.leaky_relu(alpha_j + alpha_i, self.negative_slope)  # (E, H)
        return softmax(alpha, index, num_nodes=size_i)

    def message(self, x_j: Tensor, alpha: Tensor) -> Tensor:
        return x_j * alpha.unsqueeze(-1)  # (E, H, C)

    def message_and_aggregate(self, edge_index, x: Tensor, alpha: Tensor, size=None) -> Tensor:
        """sum_j alpha_ij x_j for every head at once: one multi-head sparse product."""
        pattern = self._adj
        if pattern is None:  # called on its own
            ei = edge_array(edge_index)
            n_src, n_dst = size if size is not None else (x.shape[0], x.shape[0])
            pattern = sparse.sparse_coo_tensor(
                mt.from_numpy(np.stack([ei[1], ei[0]])), alpha, (n_dst, n_src)
            )
        return sparse.spmm(pattern.with_values(alpha), x)  # (N, H, C)

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, heads={self.heads}"
