"""``MessagePassing``: the base of every graph layer, as in PyTorch Geometric.

``propagate(edge_index, **kwargs)`` calls ``message`` once for all edges (arguments ending in
``_j`` are gathered at the source of each edge, ``_i`` at its target), ``aggregate`` to reduce
the messages arriving at each node, then ``update``. A subclass overrides any of the three.
A layer that can do message and aggregation in one sparse product (GCN) overrides
``message_and_aggregate``; it is used unless a subclass overrides ``message`` below it.

>>> import mytorch.core as mt
>>> class Sum(MessagePassing):
...     def forward(self, x, edge_index):
...         return self.propagate(edge_index, x=x)
>>> Sum(aggr="add")(mt.tensor([[1.0], [2.0], [4.0]]), mt.tensor([[0, 1, 2], [2, 2, 0]])).tolist()
[[4.0], [0.0], [3.0]]
"""

from __future__ import annotations

import inspect

import mytorch.core as mt
from mytorch.core import Tensor
from mytorch.graph.utils import edge_array, scatter
from mytorch.nn import Module

__all__ = ["MessagePassing"]

_AGGRS = ("add", "sum", "mean", "max", "min")


def _defining_class(cls: type, name: str) -> type:
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return klass
    raise AttributeError(name)


class MessagePassing(Module):
    """Base class for message passing layers: out_i = update(aggregate_j message(x_i, x_j)).

    ``aggr``: "add"/"sum", "mean", "max" or "min"; ``flow``: "source_to_target" (messages go
    from edge_index[0] to edge_index[1]) or "target_to_source"; ``node_dim``: the dim of the
    node axis in the tensors passed to ``propagate``.
    """

    def __init__(
        self, aggr: str = "add", *, flow: str = "source_to_target", node_dim: int = -2
    ) -> None:
        super().__init__()
        if aggr not in _AGGRS:
            raise ValueError(f"aggr must be one of {', '.join(_AGGRS)}, got {aggr!r}")
        if flow not in ("source_to_target", "target_to_source"):
            raise ValueError(f"flow must be source_to_target or target_to_source, got {flow!r}")
        self.aggr, self.flow, self.node_dim = aggr, flow, node_dim
        cls = type(self)
        self._message_args = [p for p in inspect.signature(cls.message).parameters if p != "self"]
        self._update_args = [
            p for p in inspect.signature(cls.update).parameters if p not in ("self", "inputs")
        ]
        fused = _defining_class(cls, "message_and_aggregate")
        self._fuse = fused is not MessagePassing and issubclass(
            fused, _defining_class(cls, "message")
        )
        self._mp_args = [
            p
            for p in inspect.signature(cls.message_and_aggregate).parameters
            if p not in ("self", "edge_index")
        ]

    # ---- the three steps
    def message(self, x_j: Tensor) -> Tensor:
        """(E, *) the message along each edge; by default the source node's features."""
        return x_j

    def aggregate(
        self, inputs: Tensor, index: Tensor, ptr=None, dim_size: int | None = None
    ) -> Tensor:
        """(N, *) the messages reduced per target node (``index``) with ``self.aggr``."""
        return scatter(inputs, index, self._dim(inputs), dim_size, self.aggr)

    def update(self, inputs: Tensor) -> Tensor:
        """The new node features from the aggregated messages; by default unchanged."""
        return inputs

    def message_and_aggregate(self, edge_index: Tensor) -> Tensor:
        """Message and aggregation fused (e.g. one sparse matrix product)."""
        raise NotImplementedError(f"{type(self).__name__} does not fuse message and aggregate")

    # ---- plumbing
    def _dim(self, t: Tensor) -> int:
        return self.node_dim % t.ndim

    def propagate(self, edge_index, size: tuple[int, int] | None = None, **kwargs) -> Tensor:
        """Run message, aggregate and update over the edges; ``kwargs`` feed their arguments.

        A keyword given as a pair ``(x_source, x_target)`` feeds ``x_j`` from the first and
        ``x_i`` from the second (bipartite graphs, sampled mini-batches). ``size`` is
        (num_source_nodes, num_target_nodes) when it cannot be read off the tensors.
        """
        ei = edge_array(edge_index)
        j, i = (0, 1) if self.flow == "source_to_target" else (1, 0)
        src, dst = ei[j], ei[i]
        n_src, n_dst = (None, None) if size is None else size
        node_level = {n[:-2] for n in self._message_args if n.endswith(("_i", "_j"))} | {"x"}
        for key in node_level & kwargs.keys():
            value = kwargs[key]
            if isinstance(value, (tuple, list)):
                if isinstance(value[0], Tensor) and n_src is None:
                    n_src = value[0].shape[self._dim(value[0])]
                if isinstance(value[1], Tensor) and n_dst is None:
                    n_dst = value[1].shape[self._dim(value[1])]
            elif isinstance(value, Tensor):
                n_src = value.shape[self._dim(value)] if n_src is None else n_src
                n_dst = value.shape[self._dim(value)] if n_dst is None else n_dst
        if n_dst is None or n_src is None:
            n = int(ei.max()) + 1 if ei.size else 0
            n_src, n_dst = n_src or n, n_dst or n
        if ei.size and (src.max() >= n_src or dst.max() >= n_dst):
            raise ValueError(
                f"edge_index refers to node {int(max(src.max(), dst.max()))} but the graph has "
                f"{n_src} source and {n_dst} target nodes"
            )
        index = mt.from_numpy(dst)
        if self._fuse:
            args = {k: kwargs.get(k) for k in self._mp_args if k in kwargs}
            if "size" in self._mp_args:
                args["size"] = (n_src, n_dst)
            out = self.message_and_aggregate(edge_index, **args)
        else:
            src_t = mt.from_numpy(src)
            args = {}
            for name in self._message_args:
                if name.endswith(("_i", "_j")) and name[:-2] in kwargs:
                    value = kwargs[name[:-2]]
                    side = 1 if name.endswith("_i") else 0
                    if isinstance(value, (tuple, list)):
                        value = value[side]
                    if value is None:
                        args[name] = None
                        continue
                    pick = index if side == 1 else src_t
                    args[name] = value.index_select(self._dim(value), pick)
                elif name == "index":
                    args[name] = index
                elif name == "edge_index_i":
                    args[name] = index
                elif name == "edge_index_j":
                    args[name] = src_t
                elif name in ("size_i", "dim_size"):
                    args[name] = n_dst
                elif name == "size_j":
                    args[name] = n_src
                elif name == "ptr":
                    args[name] = None
                elif name in kwargs:
                    args[name] = kwargs[name]
            msg = self.message(**args)
            out = self.aggregate(msg, index=index, ptr=None, dim_size=n_dst)
        extra = {k: kwargs[k] for k in self._update_args if k in kwargs}
        return self.update(out, **extra)

    def extra_repr(self) -> str:
        return f"aggr={self.aggr!r}"
