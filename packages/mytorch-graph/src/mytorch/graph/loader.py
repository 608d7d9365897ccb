"""Mini-batches of graphs: ``DataLoader`` (many small graphs, batched block-diagonally) and
``NeighborLoader`` (seed nodes of one big graph with sampled neighbourhoods, GraphSAGE style).

>>> import mytorch.core as mt
>>> from mytorch.graph.datasets import KarateClub
>>> loader = NeighborLoader(KarateClub()[0], num_neighbors=[3, 2], batch_size=4)
>>> sub = next(iter(loader))
>>> sub.batch_size, sub.n_id[:4].tolist()
(4, [0, 1, 2, 3])
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

import mytorch.core as mt
from mytorch.core.data import DataLoader as _BaseLoader
from mytorch.graph.data import Batch, Data
from mytorch.graph.utils import edge_array, index_array

__all__ = ["DataLoader", "NeighborLoader"]


class DataLoader(_BaseLoader):
    """Batches of ``Data`` graphs as one ``Batch`` each (graphs side by side, ``batch`` vector
    telling nodes apart); otherwise the core ``DataLoader`` (shuffle, drop_last, ...)."""

    def __init__(self, dataset, batch_size: int = 1, shuffle: bool = False, **kwargs) -> None:
        kwargs.setdefault("collate_fn", Batch.from_data_list)
        super().__init__(dataset, batch_size=batch_size, shuffle=shuffle, **kwargs)


class NeighborLoader:
    """Mini-batches of ``batch_size`` seed nodes, each with up to ``num_neighbors[k]`` sampled
    in-neighbours per node at hop k (-1: all), as a ``Data`` subgraph.

    In each batch the seeds come first (``batch_size`` of them), ``n_id`` maps local to global
    node ids and every node-level attribute of ``data`` is sliced to the sampled nodes. Costs
    O(sampled edges) per batch after an O(N + E) index built once. Sampling draws from
    mytorch's global random generator (``manual_seed``).
    """

    def __init__(
        self,
        data: Data,
        num_neighbors: Sequence[int],
        batch_size: int = 1,
        input_nodes=None,
        shuffle: bool = False,
        replace: bool = False,
    ) -> None:
        if not num_neighbors:
            raise ValueError("num_neighbors must list one sample size per hop")
        self.data, self.num_neighbors = data, [int(k) for k in num_neighbors]
        self.batch_size, self.shuffle, self.replace = int(batch_size), shuffle, replace
        n = data.num_nodes
        self.seeds = np.arange(n) if input_nodes is None else index_array(input_nodes)
        ei = edge_array(data.edge_index)
        order = np.argsort(ei[1], kind="stable")  # incoming edges of each node, contiguous
        self._src = ei[0][order]
        self._edge_id = order
        self._ptr = np.concatenate([[0], np.cumsum(np.bincount(ei[1], minlength=n))])

    def __len__(self) -> int:
        return -(-len(self.seeds) // self.batch_size)

    def __iter__(self) -> Iterator[Data]:
        seeds = self.seeds
        if self.shuffle:
            seeds = seeds[mt.randperm(len(seeds)).numpy()]
        rng = np.random.default_rng(int(mt.randint(0, 2**62, (1,)).item()))
        for start in range(0, len(seeds), self.batch_size):
            yield self._sample(seeds[start : start + self.batch_size], rng)

    def _sample(self, seeds: np.ndarray, rng: np.random.Generator) -> Data:
        n = self.data.num_nodes
        local = np.full(n, -1, np.int64)
        local[seeds] = np.arange(seeds.size)
        nodes = [seeds]
        count = seeds.size
        frontier = seeds
        rows, cols, eids = [], [], []
        for k in self.num_neighbors:
            lo, hi = self._ptr[frontier], self._ptr[frontier + 1]
            deg = hi - lo
            take = (
                deg
                if k < 0
                else np.minimum(deg, k)
                if not self.replace
                else np.where(deg > 0, k, 0)
            )
            owner = np.repeat(np.arange(frontier.size), take)  # (S,) which frontier node
            if self.replace or k < 0:
                offs = (
                    (rng.random(owner.size) * deg[owner]).astype(np.int64)
                    if self.replace
                    else np.arange(owner.size) - np.repeat(np.cumsum(take) - take, take)
                )
            else:  # without replacement: the k smallest random keys among each node's edges
                cand_owner = np.repeat(np.arange(frontier.size), deg)
                keys = rng.random(cand_owner.size)
                order = np.lexsort((keys, cand_owner))
                rank = np.arange(order.size) - np.repeat(np.cumsum(deg) - deg, deg)
                pos = np.arange(order.size) - np.repeat(np.cumsum(deg) - deg, deg)
                chosen = order[rank < np.repeat(take, deg)]
                offs = pos[chosen]
                owner = cand_owner[chosen]
            edge_pos = lo[owner] + offs  # (S,) positions in the target-sorted edge list
            src = self._src[edge_pos]
            new = np.unique(src[local[src] < 0])
            local[new] = count + np.arange(new.size)
            count += new.size
            nodes.append(new)
            rows.append(local[src])
            cols.append(local[frontier[owner]])
            eids.append(self._edge_id[edge_pos])
            frontier = new
        n_id = np.concatenate(nodes)
        edge_index = np.stack([np.concatenate(rows), np.concatenate(cols)])
        out = Data(edge_index=mt.from_numpy(edge_index), num_nodes=n_id.size)
        pick = mt.from_numpy(n_id)
        e_id = np.concatenate(eids)
        for key, value in self.data.items():
            if key == "edge_index":
                continue
            if isinstance(value, mt.Tensor) and value.ndim and value.shape[0] == n:
                out[key] = value[pick]
            elif (
                isinstance(value, mt.Tensor)
                and value.ndim
                and value.shape[0] == self.data.num_edges
            ):
                out[key] = value[mt.from_numpy(e_id)]
        out.n_id = pick
        out.e_id = mt.from_numpy(e_id)
        out.batch_size = int(seeds.size)
        return out
