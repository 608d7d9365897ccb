"""``GCNConv`` (Kipf & Welling 2017) and ``gcn_norm``, its symmetric normalization.

out = D^-1/2 (A + I) D^-1/2 X W + b, computed as one sparse product over the edge list: O(E F).

>>> import mytorch.core as mt
>>> conv = GCNConv(4, 2)
>>> conv(mt.randn(3, 4), mt.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])).shape
(3, 2)
"""

from __future__ import annotations

import numpy as np

import mytorch.core as mt
from mytorch.core import Tensor, sparse
from mytorch.graph.nn.inits import glorot, zeros
from mytorch.graph.nn.message_passing import MessagePassing
from mytorch.graph.utils import (
    add_remaining_self_loops,
    edge_array,
    linear_features,
    maybe_num_nodes,
)
from mytorch.nn import Linear, Parameter

__all__ = ["GCNConv", "gcn_norm"]


def gcn_norm(
    edge_index,
    edge_weight: Tensor | None = None,
    num_nodes: int | None = None,
    improved: bool = False,
    add_self_loops: bool = True,
    flow: str = "source_to_target",
    dtype=None,
):
    """Edge weights of D^-1/2 (A + fill I) D^-1/2: (edge_index with self-loops, edge_weight).

    The degree is the weighted in-degree of each target node (``flow`` source_to_target);
    self-loops get weight 1 (2 if ``improved``) where a node has none. Differentiable in
    ``edge_weight``.
    """
    ei = edge_array(edge_index)
    n = maybe_num_nodes(ei, num_nodes)
    if edge_weight is None:
        edge_weight = mt.ones(
            ei.shape[1], dtype=dtype if dtype is not None else mt.get_default_dtype()
        )
    if edge_weight.ndim != 1 or edge_weight.shape[0] != ei.shape[1]:
        raise ValueError(
            f"gcn_norm: edge_weight must have shape ({ei.shape[1]},), got {list(edge_weight.shape)}"
        )
    if add_self_loops:
        ei_t, edge_weight = add_remaining_self_loops(ei, edge_weight, 2.0 if improved else 1.0, n)
        ei = ei_t.numpy()
    row, col = (ei[0], ei[1]) if flow == "source_to_target" else (ei[1], ei[0])
    deg = mt.zeros(n, dtype=edge_weight.dtype).index_add(0, mt.from_numpy(col), edge_weight)
    inv_sqrt = deg.pow(-0.5)
    inv_sqrt = inv_sqrt.masked_fill(mt.from_numpy(~np.isfinite(inv_sqrt.detach().numpy())), 0.0)
    weight = inv_sqrt[mt.from_numpy(row)] * edge_weight * inv_sqrt[mt.from_numpy(col)]
    return mt.from_numpy(np.ascontiguousarray(ei)), weight


class GCNConv(MessagePassing):
    """Graph convolution: x_i' = sum over j in N(i) + i of w_ji / sqrt(d_j d_i) * (W x_j) + b.

    ``cached`` keeps the normalized adjacency of the first call (transductive learning on one
    fixed graph); ``normalize=False`` uses the given weights as they are; ``improved`` gives
    self-loops weight 2. Weight: Glorot uniform; bias: zeros.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        improved: bool = False,
        cached: bool = False,
        add_self_loops: bool = True,
        normalize: bool = True,
        bias: bool = True,
    ) -> None:
        super().__init__(aggr="add")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.improved, self.cached = improved, cached
        self.add_self_loops, self.normalize = add_self_loops, normalize
        self.lin = Linear(in_channels, out_channels, bias=False)
        self.bias = Parameter(mt.empty(out_channels)) if bias else None
        self._cached_norm = self._cached_adj = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        glorot(self.lin.weight)
        zeros(self.bias)
        self._cached_norm = self._cached_adj = None

    def _normalized(self, edge_index, edge_weight, n: int, dtype):
        """(edge_index, edge_weight) of the normalized adjacency (computed once if cached)."""
        if self.cached and self._cached_norm is not None:
            if self._cached_norm[2] != n:
                raise RuntimeError(
                    f"GCNConv(cached=True) saw a graph of {self._cached_norm[2]} nodes and now "
                    f"one of {n}; call reset_parameters() or use cached=False"
                )
            return self._cached_norm[:2]
        if self.normalize:
            ei, w = gcn_norm(
                edge_index, edge_weight, n, self.improved, self.add_self_loops, self.flow, dtype
            )
        else:
            ei, w = edge_index, edge_weight
        if self.cached:
            self._cached_norm = (ei, w, n)
        return ei, w

    def forward(self, x, edge_index, edge_weight: Tensor | None = None) -> Tensor:
        """x: (N, in) dense, or a sparse COO matrix (e.g. bag-of-words features)."""
        n = x.shape[0]
        edge_index, edge_weight = self._normalized(edge_index, edge_weight, n, x.dtype)
        x = linear_features(x, self.lin.weight)  # (N, out)
        out = self.propagate(edge_index, x=x, edge_weight=edge_weight)
        return out if self.bias is None else out + self.bias

    def message(self, x_j: Tensor, edge_weight: Tensor | None) -> Tensor:
        return x_j if edge_weight is None else edge_weight.view(-1, 1) * x_j

    def message_and_aggregate(self, edge_index, x: Tensor, edge_weight=None, size=None):
        """One sparse product with the (N, N) adjacency, rows = targets sorted (built once
        when cached)."""
        adj = self._cached_adj if self.cached else None
        if adj is None:
            ei = edge_array(edge_index)
            src, dst = (ei[0], ei[1]) if self.flow == "source_to_target" else (ei[1], ei[0])
            order = np.argsort(dst, kind="stable")
            if edge_weight is None:
                w = mt.ones(ei.shape[1], dtype=x.dtype)
            elif edge_weight.requires_grad:
                w = edge_weight[mt.from_numpy(order)]
            else:
                w = mt.from_numpy(np.ascontiguousarray(edge_weight.numpy()[order]))
            n_src, n_dst = size if size is not None else (x.shape[0], x.shape[0])
            adj = sparse.sparse_coo_tensor(
                mt.from_numpy(np.stack([dst[order], src[order]])), w, (n_dst, n_src)
            )
            if self.cached:
                self._cached_adj = adj
        if adj.dtype != x.dtype:
            adj = sparse.sparse_coo_tensor(adj.indices(), adj.values().to(x.dtype), adj.shape)
        return sparse.mm(adj, x)

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}"
