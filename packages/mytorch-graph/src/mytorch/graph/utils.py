"""Edge-list utilities with PyTorch Geometric's names: self-loops, degrees, symmetrization,
subgraphs, k-hop neighbourhoods, scatter and softmax over groups.

Graphs are an ``edge_index`` (2, E) int64 tensor: row 0 the source node of each edge, row 1 its
target. Every function here costs O(N + E); none builds an N x N matrix except ``to_dense_adj``,
which exists for small graphs and tests.

>>> import mytorch.core as mt
>>> ei = mt.tensor([[0, 1, 1], [1, 0, 2]])
>>> add_self_loops(ei)[0].tolist()
[[0, 1, 1, 0, 1, 2], [1, 0, 2, 0, 1, 2]]
>>> degree(ei[1], 3).tolist()
[1.0, 1.0, 1.0]
"""

from __future__ import annotations

import numpy as np

import mytorch.core as mt
import mytorch.core.functional as F
from mytorch.core import Tensor, sparse

__all__ = [
    "add_remaining_self_loops",
    "add_self_loops",
    "coalesce",
    "contains_self_loops",
    "degree",
    "dropout_features",
    "is_undirected",
    "k_hop_subgraph",
    "maybe_num_nodes",
    "remove_self_loops",
    "scatter",
    "softmax",
    "subgraph",
    "to_dense_adj",
    "to_undirected",
]


def edge_array(edge_index, name: str = "edge_index") -> np.ndarray:
    """The (2, E) int64 array of an edge index, checked."""
    ei = edge_index.numpy() if isinstance(edge_index, Tensor) else np.asarray(edge_index)
    if ei.ndim != 2 or ei.shape[0] != 2:
        raise ValueError(f"{name} must have shape (2, num_edges), got {list(ei.shape)}")
    if ei.dtype.kind not in "iu" and ei.size:
        raise TypeError(f"{name} must hold integers, got dtype {ei.dtype}")
    if ei.size and ei.min() < 0:
        raise ValueError(f"{name} has a negative node index {int(ei.min())}")
    return ei.astype(np.int64, copy=False)


def index_array(index, name: str = "index") -> np.ndarray:
    """A 1-D int64 array from an index tensor, list or array, checked."""
    idx = index.numpy() if isinstance(index, Tensor) else np.asarray(index)
    if idx.dtype == np.bool_:
        return np.flatnonzero(idx).astype(np.int64)
    if idx.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {list(idx.shape)}")
    if idx.dtype.kind not in "iu" and idx.size:
        raise TypeError(f"{name} must hold integers or booleans, got dtype {idx.dtype}")
    return idx.astype(np.int64, copy=False)


def _edges(arr: np.ndarray) -> Tensor:
    return mt.from_numpy(np.ascontiguousarray(arr, dtype=np.int64))


def maybe_num_nodes(edge_index, num_nodes: int | None = None) -> int:
    """``num_nodes`` if given, else one more than the largest node index (0 without edges)."""
    if num_nodes is not None:
        return int(num_nodes)
    ei = edge_array(edge_index) if not isinstance(edge_index, np.ndarray) else edge_index
    return int(ei.max()) + 1 if ei.size else 0


def _check_nodes(ei: np.ndarray, n: int) -> None:
    if ei.size and ei.max() >= n:
        raise ValueError(f"edge_index refers to node {int(ei.max())} but num_nodes is {n}")


def degree(index, num_nodes: int | None = None, dtype=None) -> Tensor:
    """(num_nodes,) how often each node appears in the 1-D ``index`` (e.g. ``edge_index[1]``
    gives in-degrees), as ``dtype`` (default float32)."""
    idx = index_array(index)
    n = int(num_nodes) if num_nodes is not None else (int(idx.max()) + 1 if idx.size else 0)
    if idx.size and idx.max() >= n:
        raise ValueError(f"index refers to node {int(idx.max())} but num_nodes is {n}")
    counts = np.bincount(idx, minlength=n)
    return mt.tensor(counts, dtype=dtype if dtype is not None else mt.get_default_dtype())


def contains_self_loops(edge_index) -> bool:
    """Whether any edge goes from a node to itself."""
    ei = edge_array(edge_index)
    return bool(np.any(ei[0] == ei[1]))


def remove_self_loops(edge_index, edge_attr: Tensor | None = None):
    """Drop the edges (i, i): (edge_index, edge_attr) with those columns removed."""
    ei = edge_array(edge_index)
    keep = ei[0] != ei[1]
    attr = None if edge_attr is None else edge_attr[mt.from_numpy(keep)]
    return _edges(ei[:, keep]), attr


def _loop_attr(edge_attr: Tensor, ei: np.ndarray, n: int, fill_value) -> Tensor:
    """(n, *) the attributes of n new self-loops."""
    shape = (n,) + tuple(edge_attr.shape[1:])
    if fill_value is None:
        return mt.ones(shape, dtype=edge_attr.dtype)
    if isinstance(fill_value, (int, float)):
        return mt.full(shape, float(fill_value), dtype=edge_attr.dtype)
    if isinstance(fill_value, Tensor):
        return fill_value.to(edge_attr.dtype).expand(shape)
    if fill_value in ("add", "sum", "mean", "max", "min"):
        return scatter(edge_attr, mt.from_numpy(ei[1]), 0, n, fill_value)
    raise ValueError(
        f"fill_value must be None, a number, a tensor or one of add, sum, mean, max, min; "
        f"got {fill_value!r}"
    )


def add_self_loops(
    edge_index, edge_attr: Tensor | None = None, fill_value=None, num_nodes: int | None = None
):
    """Append an edge (i, i) for every node: (edge_index, edge_attr).

    The loops' attributes are ``fill_value``: 1 when None, a number, a tensor, or a reduction
    ("add", "mean", "max", "min") of the attributes of each node's incoming edges.
    """
    ei = edge_array(edge_index)
    n = maybe_num_nodes(ei, num_nodes)
    _check_nodes(ei, n)
    loops = np.arange(n, dtype=np.int64)
    out = np.concatenate([ei, np.stack([loops, loops])], axis=1)
    attr = None
    if edge_attr is not None:
        attr = mt.cat([edge_attr, _loop_attr(edge_attr, ei, n, fill_value)], 0)
    return _edges(out), attr


def add_remaining_self_loops(
    edge_index, edge_attr: Tensor | None = None, fill_value=None, num_nodes: int | None = None
):
    """Add (i, i) only for nodes without one; existing loops keep their attributes."""
    ei = edge_array(edge_index)
    n = maybe_num_nodes(ei, num_nodes)
    _check_nodes(ei, n)
    is_loop = ei[0] == ei[1]
    has_loop = np.zeros(n, bool)
    has_loop[ei[0, is_loop]] = True
    missing = np.flatnonzero(~has_loop).astype(np.int64)
    out = np.concatenate([ei, np.stack([missing, missing])], axis=1)
    attr = None
    if edge_attr is not None:
        if fill_value in ("add", "sum", "mean", "max", "min"):
            full = _loop_attr(edge_attr[mt.from_numpy(~is_loop)], ei[:, ~is_loop], n, fill_value)
        else:
            full = _loop_attr(edge_attr, ei, n, fill_value)
        attr = mt.cat([edge_attr, full[mt.from_numpy(missing)]], 0)
    return _edges(out), attr


def coalesce(
    edge_index, edge_attr: Tensor | None = None, num_nodes: int | None = None, reduce="sum"
):
    """Edges sorted by (source, target) with duplicates merged (their attributes reduced)."""
    ei = edge_array(edge_index)
    n = maybe_num_nodes(ei, num_nodes)
    key = ei[0] * max(n, 1) + ei[1]
    uniq, inverse = np.unique(key, return_inverse=True)
    out = np.stack([uniq // max(n, 1), uniq % max(n, 1)])
    if edge_attr is None:
        return _edges(out)
    attr = scatter(edge_attr, mt.from_numpy(inverse.reshape(-1)), 0, uniq.size, reduce)
    return _edges(out), attr


def to_undirected(
    edge_index, edge_attr: Tensor | None = None, num_nodes: int | None = None, reduce="add"
):
    """Every edge in both directions, coalesced; with attributes: (edge_index, edge_attr)."""
    ei = edge_array(edge_index)
    both = np.concatenate([ei, ei[::-1]], axis=1)
    if edge_attr is None:
        return coalesce(both, None, num_nodes)
    return coalesce(both, mt.cat([edge_attr, edge_attr], 0), num_nodes, reduce)


def is_undirected(edge_index, num_nodes: int | None = None) -> bool:
    """Whether for every edge (i, j) the edge (j, i) exists too."""
    ei = edge_array(edge_index)
    n = max(maybe_num_nodes(ei, num_nodes), 1)
    forward = np.unique(ei[0] * n + ei[1])
    backward = np.unique(ei[1] * n + ei[0])
    return forward.shape == backward.shape and bool(np.all(forward == backward))


def subgraph(
    subset,
    edge_index,
    edge_attr: Tensor | None = None,
    relabel_nodes: bool = False,
    num_nodes: int | None = None,
    return_edge_mask: bool = False,
):
    """The edges whose two ends are both in ``subset`` (node indices or a bool mask).

    With ``relabel_nodes`` the nodes are renumbered 0..len(subset)-1 in subset's order.
    Returns (edge_index, edge_attr) and, if asked, the (E,) bool mask of kept edges.
    """
    ei = edge_array(edge_index)
    sub = index_array(subset, "subset")
    n = max(maybe_num_nodes(ei, num_nodes), int(sub.max()) + 1 if sub.size else 0)
    member = np.zeros(n, bool)
    member[sub] = True
    mask = member[ei[0]] & member[ei[1]]
    out = ei[:, mask]
    if relabel_nodes:
        new = np.full(n, -1, np.int64)
        new[sub] = np.arange(sub.size)
        out = new[out]
    attr = None if edge_attr is None else edge_attr[mt.from_numpy(mask)]
    if return_edge_mask:
        return _edges(out), attr, mt.from_numpy(mask)
    return _edges(out), attr


def k_hop_subgraph(
    node_idx,
    num_hops: int,
    edge_index,
    relabel_nodes: bool = False,
    num_nodes: int | None = None,
    flow: str = "source_to_target",
):
    """The nodes within ``num_hops`` of ``node_idx`` (the nodes whose messages can reach it)
    and the edges among them: (subset, edge_index, mapping, edge_mask).

    ``subset`` is sorted; ``mapping`` gives the positions of ``node_idx`` in it; with
    ``relabel_nodes`` the edges use those positions.
    """
    if flow not in ("source_to_target", "target_to_source"):
        raise ValueError(f"flow must be source_to_target or target_to_source, got {flow!r}")
    ei = edge_array(edge_index)
    n = maybe_num_nodes(ei, num_nodes)
    seeds = (
        np.array([int(node_idx)])
        if isinstance(node_idx, (int, np.integer))
        else index_array(node_idx, "node_idx")
    )
    src, dst = (ei[0], ei[1]) if flow == "source_to_target" else (ei[1], ei[0])
    reached = np.zeros(n, bool)
    reached[seeds] = True
    frontier = reached.copy()
    for _ in range(num_hops):
        new = np.zeros(n, bool)
        new[src[frontier[dst]]] = True
        frontier = new & ~reached
        reached |= new
    subset = np.flatnonzero(reached).astype(np.int64)
    edge_mask = reached[ei[0]] & reached[ei[1]]
    out = ei[:, edge_mask]
    position = np.full(n, -1, np.int64)
    position[subset] = np.arange(subset.size)
    mapping = position[seeds]
    if relabel_nodes:
        out = position[out]
    return mt.from_numpy(subset), _edges(out), mt.from_numpy(mapping), mt.from_numpy(edge_mask)


def scatter(
    src: Tensor, index, dim: int = 0, dim_size: int | None = None, reduce: str = "sum"
) -> Tensor:
    """Reduce the slices of ``src`` along ``dim`` that the 1-D ``index`` sends to the same
    place: out.shape[dim] = ``dim_size`` (default index.max() + 1).

    ``reduce`` is "sum"/"add", "mean", "max" or "min"; places that receive nothing are 0.
    Differentiable in ``src``; O(E) in time and memory.
    """
    idx = index_array(index)
    d = dim % src.ndim
    if idx.size != src.shape[d]:
        raise ValueError(
            f"scatter: index has {idx.size} entries but src.shape[{d}] = {src.shape[d]}"
        )
    n = int(dim_size) if dim_size is not None else (int(idx.max()) + 1 if idx.size else 0)
    shape = tuple(src.shape[:d]) + (n,) + tuple(src.shape[d + 1 :])
    zeros = mt.zeros(shape, dtype=src.dtype)
    index_t = mt.from_numpy(idx)
    if reduce in ("sum", "add"):
        return zeros.index_add(d, index_t, src)
    if reduce == "mean":
        total = zeros.index_add(d, index_t, src)
        count = np.maximum(np.bincount(idx, minlength=n), 1).astype(src.dtype)
        return total / mt.from_numpy(count.reshape((n,) + (1,) * (src.ndim - d - 1)))
    if reduce in ("max", "min", "amax", "amin"):
        full = np.broadcast_to(idx.reshape((-1,) + (1,) * (src.ndim - d - 1)), src.shape)
        kind = "amax" if reduce in ("max", "amax") else "amin"
        return zeros.scatter_reduce(d, mt.from_numpy(full), src, kind, include_self=False)
    raise ValueError(f"scatter: reduce must be sum, add, mean, max or min, got {reduce!r}")


def softmax(src: Tensor, index, ptr=None, num_nodes: int | None = None, dim: int = 0) -> Tensor:
    """Softmax of ``src`` over each group of entries sharing a value of ``index`` (e.g. the
    attention scores of a node's incoming edges); ``ptr`` is accepted for PyG compatibility
    and must be None."""
    if ptr is not None:
        raise ValueError("softmax: ptr (CSR offsets) is not supported; pass index instead")
    return mt.segment_softmax(src, index_array(index), num_nodes, dim)


def to_dense_adj(
    edge_index, batch=None, edge_attr: Tensor | None = None, max_num_nodes: int | None = None
) -> Tensor:
    """(B, N, N) dense adjacency of each graph in the batch (duplicates add up).

    Quadratic in N: for small graphs and for checking sparse code against a dense reference.
    """
    ei = edge_array(edge_index)
    if batch is None:
        n = max_num_nodes if max_num_nodes is not None else maybe_num_nodes(ei)
        b = np.zeros(n, np.int64)
    else:
        b = index_array(batch, "batch")
    num_graphs = int(b.max()) + 1 if b.size else 1
    counts = np.bincount(b, minlength=num_graphs)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    n = max_num_nodes if max_num_nodes is not None else int(counts.max() if counts.size else 0)
    g = b[ei[0]]
    r, c = ei[0] - starts[g], ei[1] - starts[g]
    flat = mt.from_numpy((g * n * n + r * n + c).astype(np.int64))
    values = edge_attr if edge_attr is not None else mt.ones(ei.shape[1])
    rest = tuple(values.shape[1:])
    out = mt.zeros((num_graphs * n * n,) + rest, dtype=values.dtype).index_add(0, flat, values)
    return out.reshape((num_graphs, n, n) + rest)


def dropout_features(x, p: float = 0.5, training: bool = True):
    """Dropout on node features that may be a sparse COO matrix (``sparse.to_sparse(x)``).

    For a sparse matrix only the stored values are dropped and rescaled: the zeros would stay
    zero anyway, so this has the distribution of dense dropout at the cost of nnz, not N x F.
    """
    if isinstance(x, sparse.SparseTensor):
        return x.with_values(F.dropout(x.values(), p, training))  # same pattern and sort order
    return F.dropout(x, p, training)


def linear_features(x, weight: Tensor) -> Tensor:
    """``x @ weight.T`` for dense or sparse COO node features x (N, F): (N, out)."""
    if isinstance(x, sparse.SparseTensor):
        return sparse.mm(x, weight.t())
    return x @ weight.t()
