"""mytorch.graph: graph neural networks by message passing over edge lists (never N x N).

``Data``/``Batch`` hold graphs; ``mytorch.graph.utils`` has self-loops, degrees, subgraphs
and scatter; ``mytorch.graph.nn`` the layers (GCNConv, GATConv, SAGEConv, GINConv) and global
pooling; ``mytorch.graph.datasets`` Cora, CiteSeer (bundled Planetoid split), the karate club
and synthetic graph families; ``mytorch.graph.loader`` mini-batching. Names and signatures
follow PyTorch Geometric.

>>> import mytorch.core as mt
>>> from mytorch.graph.datasets import KarateClub
>>> from mytorch.graph.nn import GCNConv
>>> data = KarateClub()[0]
>>> GCNConv(data.num_features, 4)(data.x, data.edge_index).shape
(34, 4)
"""

from importlib.metadata import PackageNotFoundError, version

from mytorch.graph import datasets, loader, nn, transforms, utils
from mytorch.graph.data import Batch, Data

try:
    __version__ = version("mytorch-graph")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["Batch", "Data", "datasets", "loader", "nn", "transforms", "utils"]
