"""Graph layers with PyTorch Geometric's names: ``MessagePassing``, ``GCNConv``, ``GATConv``,
``SAGEConv``, ``GINConv`` and global pooling."""

from mytorch.graph.nn.gat_conv import GATConv
from mytorch.graph.nn.gcn_conv import GCNConv, gcn_norm
from mytorch.graph.nn.gin_conv import GINConv
from mytorch.graph.nn.message_passing import MessagePassing
from mytorch.graph.nn.pool import global_add_pool, global_max_pool, global_mean_pool
from mytorch.graph.nn.sage_conv import SAGEConv

__all__ = [
    "GATConv",
    "GCNConv",
    "GINConv",
    "MessagePassing",
    "SAGEConv",
    "gcn_norm",
    "global_add_pool",
    "global_max_pool",
    "global_mean_pool",
]
