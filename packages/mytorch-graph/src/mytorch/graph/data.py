"""``Data`` (one graph: node features, edges, labels, masks) and ``Batch`` (many small graphs
as one block-diagonal graph with a ``batch`` vector), as in PyTorch Geometric.

>>> import mytorch.core as mt
>>> g = Data(x=mt.ones(3, 2), edge_index=mt.tensor([[0, 1], [1, 2]]), y=mt.tensor([1]))
>>> g
Data(x=[3, 2], edge_index=[2, 2], y=[1])
>>> b = Batch.from_data_list([g, g])
>>> b.edge_index.tolist(), b.batch.tolist()
([[0, 1, 3, 4], [1, 2, 4, 5]], [0, 0, 0, 1, 1, 1])
>>> b.to_data_list()[1].edge_index.tolist()
[[0, 1], [1, 2]]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

import mytorch.core as mt
from mytorch.core import Tensor
from mytorch.graph import utils

__all__ = ["Data", "Batch"]


class Data:
    """A graph: ``x`` (N, F) node features, ``edge_index`` (2, E), optional ``edge_attr``
    (E, *), ``y`` labels, ``pos``, and any other attributes given as keywords (masks...).

    Attributes whose name contains "index" hold node indices (shifted when batching);
    attributes with N rows are node-level.
    """

    def __init__(
        self,
        x: Tensor | None = None,
        edge_index: Tensor | None = None,
        edge_attr: Tensor | None = None,
        y: Tensor | None = None,
        pos: Tensor | None = None,
        **kwargs,
    ) -> None:
        object.__setattr__(self, "_store", {})
        for key, value in dict(
            x=x, edge_index=edge_index, edge_attr=edge_attr, y=y, pos=pos
        ).items():
            if value is not None:
                self[key] = value
        for key, value in kwargs.items():
            self[key] = value

    # ---- attribute access
    def __getattr__(self, key: str):
        store = object.__getattribute__(self, "_store")
        if key in store:
            return store[key]
        if key in ("x", "edge_index", "edge_attr", "y", "pos"):
            return None
        raise AttributeError(f"'{type(self).__name__}' has no attribute '{key}'")

    def __setattr__(self, key: str, value) -> None:
        if isinstance(getattr(type(self), key, None), property):
            object.__setattr__(self, key, value)
        else:
            self[key] = value

    def __delattr__(self, key: str) -> None:
        self._store.pop(key, None)

    def __getitem__(self, key: str):
        return self._store[key]

    def __setitem__(self, key: str, value) -> None:
        if key == "num_nodes":
            self._store["_num_nodes"] = None if value is None else int(value)
            return
        if key == "edge_index" and value is not None:
            utils.edge_array(value)  # fail early on a malformed edge index
        if value is None:
            self._store.pop(key, None)
        else:
            self._store[key] = value

    def __contains__(self, key: str) -> bool:
        return key in self.keys()

    def keys(self) -> list[str]:
        return [k for k in self._store if not k.startswith("_")]

    def items(self) -> Iterator[tuple[str, object]]:
        for k in self.keys():
            yield k, self._store[k]

    def to_dict(self) -> dict:
        return dict(self.items())

    def clone(self) -> Data:
        out = type(self).__new__(type(self))
        object.__setattr__(out, "_store", dict(self._store))
        return out

    # ---- sizes
    @property
    def num_nodes(self) -> int:
        """Given explicitly, else the rows of ``x`` or ``pos``, else max node index + 1."""
        n = self._store.get("_num_nodes")
        if n is not None:
            return n
        for key in ("x", "pos"):
            if key in self._store:
                return int(self._store[key].shape[0])
        if "edge_index" in self._store:
            return utils.maybe_num_nodes(self._store["edge_index"])
        return 0

    @num_nodes.setter
    def num_nodes(self, value: int | None) -> None:
        self["num_nodes"] = value

    @property
    def num_edges(self) -> int:
        ei = self._store.get("edge_index")
        return 0 if ei is None else int(ei.shape[1])

    @property
    def num_node_features(self) -> int:
        x = self._store.get("x")
        return 0 if x is None else (1 if x.ndim == 1 else int(x.shape[-1]))

    @property
    def num_features(self) -> int:
        return self.num_node_features

    @property
    def num_edge_features(self) -> int:
        a = self._store.get("edge_attr")
        return 0 if a is None else (1 if a.ndim == 1 else int(a.shape[-1]))

    # ---- structure
    def is_undirected(self) -> bool:
        return utils.is_undirected(self.edge_index, self.num_nodes)

    def has_self_loops(self) -> bool:
        return utils.contains_self_loops(self.edge_index)

    def has_isolated_nodes(self) -> bool:
        ei = utils.edge_array(self.edge_index)
        seen = np.zeros(self.num_nodes, bool)
        seen[ei.reshape(-1)] = True
        return not bool(seen.all())

    def subgraph(self, subset) -> Data:
        """The graph induced by ``subset`` (indices or bool mask), nodes renumbered in order."""
        sub = utils.index_array(subset, "subset")
        n = self.num_nodes
        edge_index, _, mask = utils.subgraph(
            sub, self.edge_index, relabel_nodes=True, num_nodes=n, return_edge_mask=True
        )
        out = Data(edge_index=edge_index, num_nodes=sub.size)
        pick, edge_pick = mt.from_numpy(sub), mask
        for key, value in self.items():
            if key == "edge_index":
                continue
            if isinstance(value, Tensor) and value.ndim and value.shape[0] == n:
                out[key] = value[pick]
            elif isinstance(value, Tensor) and value.ndim and value.shape[0] == self.num_edges:
                out[key] = value[edge_pick]
            else:
                out[key] = value
        return out

    # ---- batching rules
    def __inc__(self, key: str, value) -> int:
        """How much a graph's ``key`` is shifted by per preceding graph: its node count for
        index attributes, else 0."""
        return self.num_nodes if "index" in key or key == "face" else 0

    def __cat_dim__(self, key: str, value) -> int:
        """The dim along which ``key`` is concatenated when batching."""
        return -1 if "index" in key or key == "face" else 0

    def __repr__(self) -> str:
        parts = []
        for key, value in self.items():
            if isinstance(value, Tensor):
                parts.append(f"{key}=[{', '.join(map(str, value.shape))}]")
            else:
                parts.append(f"{key}={value!r}")
        if "_num_nodes" in self._store and self._store["_num_nodes"] is not None:
            if "x" not in self._store:
                parts.append(f"num_nodes={self._store['_num_nodes']}")
        return f"{type(self).__name__}({', '.join(parts)})"


class Batch(Data):
    """Several graphs as one disconnected graph: node indices shifted, ``batch`` (N,) giving
    each node's graph, ``ptr`` (B + 1,) the node offsets. ``to_data_list`` undoes it."""

    @classmethod
    def from_data_list(cls, data_list: Sequence[Data]) -> Batch:
        if not data_list:
            raise ValueError("Batch.from_data_list: data_list is empty")
        keys = data_list[0].keys()
        for i, d in enumerate(data_list):
            if d.keys() != keys:
                raise ValueError(
                    f"Batch.from_data_list: graph {i} has attributes {d.keys()}, graph 0 has {keys}"
                )
        counts = np.array([d.num_nodes for d in data_list], np.int64)
        ptr = np.concatenate([[0], np.cumsum(counts)])
        out = cls()
        slices, incs, scalars = {}, {}, {}
        for key in keys:
            first = data_list[0][key]
            if not isinstance(first, Tensor):
                out[key] = [d[key] for d in data_list]
                scalars[key] = True
                continue
            dim = data_list[0].__cat_dim__(key, first)
            parts, inc_list, sizes = [], [], []
            for d, offset in zip(data_list, ptr[:-1]):
                value = d[key]
                inc = d.__inc__(key, value) and int(offset)
                if value.ndim == 0:
                    value = value.reshape(1)
                if inc:
                    value = value + inc
                parts.append(value)
                inc_list.append(int(inc))
                sizes.append(int(value.shape[dim]))
            out[key] = mt.cat(parts, dim)
            slices[key] = np.concatenate([[0], np.cumsum(sizes)])
            incs[key] = (inc_list, dim, data_list[0][key].ndim == 0)
        out["batch"] = mt.from_numpy(np.repeat(np.arange(len(data_list)), counts))
        out["ptr"] = mt.from_numpy(ptr)
        out._store["_num_nodes"] = int(ptr[-1])
        out._store["_slices"] = slices
        out._store["_incs"] = incs
        out._store["_scalars"] = scalars
        out._store["_num_graphs"] = len(data_list)
        out._store["_counts"] = counts
        return out

    @property
    def num_graphs(self) -> int:
        return self._store.get("_num_graphs", 0)

    def get_example(self, i: int) -> Data:
        """Graph ``i`` as it was before batching."""
        if not 0 <= i < self.num_graphs:
            raise IndexError(f"graph index {i} out of range for a batch of {self.num_graphs}")
        out = Data()
        for key, value in self.items():
            if key in ("batch", "ptr"):
                continue
            if key in self._store["_scalars"]:
                out[key] = value[i]
                continue
            lo, hi = self._store["_slices"][key][i : i + 2]
            inc_list, dim, was_scalar = self._store["_incs"][key]
            part = value.narrow(dim % value.ndim, int(lo), int(hi - lo))
            if inc_list[i]:
                part = part - inc_list[i]
            out[key] = part.reshape(()) if was_scalar else part
        out.num_nodes = int(self._store["_counts"][i])
        return out

    def to_data_list(self) -> list[Data]:
        return [self.get_example(i) for i in range(self.num_graphs)]

    def __len__(self) -> int:
        return self.num_graphs
