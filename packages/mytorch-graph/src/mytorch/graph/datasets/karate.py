"""Zachary's karate club (Zachary 1977): 34 members, 78 friendships, and the two groups the
club split into (0: stayed with the instructor "Mr. Hi", 1: left with the officer).

>>> g = KarateClub()[0]
>>> g.num_nodes, g.num_edges, g.y.sum().item()
(34, 156, 17)
"""

from __future__ import annotations

import numpy as np

import mytorch.core as mt
from mytorch.graph.data import Data
from mytorch.graph.utils import to_undirected

__all__ = ["KarateClub"]

# The 78 undirected friendships (i < j) of W. W. Zachary, "An information flow model for
# conflict and fission in small groups", J. Anthropological Research 33 (1977).
_EDGES = (
    "0-1 0-2 0-3 0-4 0-5 0-6 0-7 0-8 0-10 0-11 0-12 0-13 0-17 0-19 0-21 0-31 1-2 1-3 1-7 1-13 "
    "1-17 1-19 1-21 1-30 2-3 2-7 2-8 2-9 2-13 2-27 2-28 2-32 3-7 3-12 3-13 4-6 4-10 5-6 5-10 "
    "5-16 6-16 8-30 8-32 8-33 9-33 13-33 14-32 14-33 15-32 15-33 18-32 18-33 19-33 20-32 20-33 "
    "22-32 22-33 23-25 23-27 23-29 23-32 23-33 24-25 24-27 24-31 25-31 26-29 26-33 27-33 28-31 "
    "28-33 29-32 29-33 30-32 30-33 31-32 31-33 32-33"
)
# Which faction each member joined after the split (0: Mr. Hi, 1: Officer).
_CLUB = "0000000001000011001010111111111111"


class KarateClub:
    """A one-graph dataset: x = identity features (34, 34), y = faction, edges both ways."""

    num_classes = 2

    def __init__(self, transform=None) -> None:
        pairs = np.array([[int(v) for v in e.split("-")] for e in _EDGES.split()]).T
        edge_index = to_undirected(pairs, num_nodes=34)
        self.transform = transform
        self._data = Data(
            x=mt.eye(34),
            edge_index=edge_index,
            y=mt.tensor([int(c) for c in _CLUB]),
        )

    @property
    def num_features(self) -> int:
        return 34

    def __len__(self) -> int:
        return 1

    def __getitem__(self, i: int) -> Data:
        if i not in (0, -1):
            raise IndexError(f"KarateClub has one graph; index {i} is out of range")
        data = self._data.clone()
        return self.transform(data) if self.transform is not None else data
