"""Synthetic graph families for graph classification: generated, not collected.

Five families of connected graphs with 10-30 nodes each, told apart only by their structure
(every node has the same feature, 1):

0 ring: a cycle with 0-2 random chords;   1 tree: a random recursive tree;
2 grid: a rows x cols lattice;            3 communities: two dense random blocks joined by a
few edges;                                4 random: an Erdos-Renyi graph G(n, 3/n), connected
by joining its components in a chain.

>>> ds = GraphFamilies(num_graphs=10, seed=0)
>>> len(ds), ds.num_classes, ds[0].x.shape[1]
(10, 5, 1)
"""

from __future__ import annotations

import numpy as np

import mytorch.core as mt
from mytorch.graph.data import Data
from mytorch.graph.utils import to_undirected

__all__ = ["GraphFamilies"]

FAMILIES = ("ring", "tree", "grid", "communities", "random")


def _ring(n: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    edges = [(i, (i + 1) % n) for i in range(n)]
    for _ in range(rng.integers(0, 3)):
        a, b = rng.choice(n, 2, replace=False)
        edges.append((int(a), int(b)))
    return edges


def _tree(n: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    return [(i, int(rng.integers(0, i))) for i in range(1, n)]


def _grid(n: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    rows = int(rng.integers(2, max(3, int(np.sqrt(n))) + 1))
    cols = max(2, n // rows)
    edges = []
    for r in range(rows):
        for c in range(cols):
            v = r * cols + c
            if c + 1 < cols:
                edges.append((v, v + 1))
            if r + 1 < rows:
                edges.append((v, v + cols))
    return edges


def _connect(n: int, edges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join the components of the graph in a chain (one edge between consecutive ones)."""
    parent = list(range(n))

    def find(v: int) -> int:
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        return v

    for a, b in edges:
        parent[find(a)] = find(b)
    roots = sorted({find(v) for v in range(n)})
    return edges + [(roots[k], roots[k + 1]) for k in range(len(roots) - 1)]


def _communities(n: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    half = n // 2
    block = np.arange(n) >= half
    p = np.where(block[:, None] == block[None, :], 0.5, 0.02)
    upper = np.triu(rng.random((n, n)) < p, 1)
    return _connect(n, [(int(a), int(b)) for a, b in zip(*np.nonzero(upper))])


def _random(n: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    upper = np.triu(rng.random((n, n)) < 3.0 / n, 1)
    return _connect(n, [(int(a), int(b)) for a, b in zip(*np.nonzero(upper))])


_MAKERS = (_ring, _tree, _grid, _communities, _random)


class GraphFamilies:
    """``num_graphs`` graphs, classes in equal shares and shuffled, generated from ``seed``;
    ``dataset[i]`` is a ``Data`` with x (n, 1) ones, edge_index (both directions), y (1,)."""

    num_classes = len(FAMILIES)
    num_features = 1

    def __init__(
        self, num_graphs: int = 1000, seed: int = 0, min_nodes: int = 10, max_nodes: int = 30
    ) -> None:
        if not 4 <= min_nodes <= max_nodes:
            raise ValueError(f"need 4 <= min_nodes <= max_nodes, got {min_nodes}, {max_nodes}")
        rng = np.random.default_rng(seed)
        labels = rng.permutation(np.arange(num_graphs) % len(FAMILIES))
        self.graphs = []
        for label in labels:
            n = int(rng.integers(min_nodes, max_nodes + 1))
            edges = np.array(_MAKERS[label](n, rng), dtype=np.int64).T
            n = int(edges.max()) + 1  # a grid rounds n down to rows * cols
            edge_index = to_undirected(edges[:, edges[0] != edges[1]], num_nodes=n)
            self.graphs.append(
                Data(x=mt.ones(n, 1), edge_index=edge_index, y=mt.tensor([int(label)]))
            )

    def __len__(self) -> int:
        return len(self.graphs)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return self.graphs[i]
        return self.graphs[i]
