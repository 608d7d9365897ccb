"""Convergence on real data: short trainings reach accuracies a broken model cannot."""

import numpy as np

import mytorch.core as mt
import mytorch.core.functional as F
from mytorch.core import optim
from mytorch.graph.datasets import Planetoid
from mytorch.graph.loader import NeighborLoader
from mytorch.graph.nn import GATConv, GCNConv, SAGEConv
from mytorch.graph.transforms import NormalizeFeatures


def cora():
    return Planetoid(name="Cora", transform=NormalizeFeatures())[0]


def test_gcn_and_gat_learn_cora_quickly():
    data = cora()
    train = mt.from_numpy(np.flatnonzero(data.train_mask.numpy()))
    test = data.test_mask.numpy()
    for make, least in (
        (lambda: (GCNConv(1433, 16, cached=True), GCNConv(16, 7, cached=True)), 0.75),
        (lambda: (GATConv(1433, 4, heads=2), GATConv(8, 7)), 0.6),
    ):
        mt.manual_seed(0)
        conv1, conv2 = make()
        opt = optim.Adam(list(conv1.parameters()) + list(conv2.parameters()), lr=0.01)
        for _ in range(40):
            h = F.dropout(F.relu(conv1(data.x, data.edge_index)), 0.5)
            loss = F.cross_entropy(conv2(h, data.edge_index)[train], data.y[train])
            opt.zero_grad()
            loss.backward()
            opt.step()
        with mt.no_grad():
            pred = conv2(F.relu(conv1(data.x, data.edge_index)), data.edge_index).numpy()
        acc = (pred.argmax(1)[test] == data.y.numpy()[test]).mean()
        assert acc > least, (type(conv1).__name__, acc)  # chance ~0.3 (largest class)


def test_graphsage_with_neighbour_sampling_learns_cora():
    data = cora()
    mt.manual_seed(0)
    conv1, conv2 = SAGEConv(1433, 32), SAGEConv(32, 7)
    opt = optim.Adam(list(conv1.parameters()) + list(conv2.parameters()), lr=0.01)
    loader = NeighborLoader(
        data, num_neighbors=[10, 5], batch_size=70, input_nodes=data.train_mask, shuffle=True
    )
    for _ in range(8):
        for sub in loader:
            h = F.relu(conv1(sub.x, sub.edge_index))
            out = conv2(h, sub.edge_index)[: sub.batch_size]
            loss = F.cross_entropy(out, sub.y[: sub.batch_size])
            opt.zero_grad()
            loss.backward()
            opt.step()
    with mt.no_grad():
        pred = conv2(F.relu(conv1(data.x, data.edge_index)), data.edge_index).numpy()
    test = data.test_mask.numpy()
    acc = (pred.argmax(1)[test] == data.y.numpy()[test]).mean()
    assert acc > 0.65, acc
