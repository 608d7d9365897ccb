"""Smoke test: the installed package imports and a GCN learns the karate club's split."""

import numpy as np

import mytorch.core as mt
import mytorch.core.functional as F
import mytorch.graph
from mytorch.core import optim
from mytorch.graph.datasets import KarateClub
from mytorch.graph.nn import GCNConv


def test_gcn_separates_the_karate_club():
    assert mytorch.graph.__version__
    data = KarateClub()[0]
    mt.manual_seed(0)
    conv1, conv2 = GCNConv(34, 8, cached=True), GCNConv(8, 2, cached=True)
    params = list(conv1.parameters()) + list(conv2.parameters())
    opt = optim.Adam(params, lr=0.05)
    train = mt.tensor([0, 33])  # one labelled member per faction, as in Kipf & Welling's demo
    for _ in range(50):
        logits = conv2(F.relu(conv1(data.x, data.edge_index)), data.edge_index)
        loss = F.cross_entropy(logits[train], data.y[train])
        opt.zero_grad()
        loss.backward()
        opt.step()
    acc = (logits.detach().numpy().argmax(1) == data.y.numpy()).mean()
    assert acc >= 0.8, acc  # chance is 0.5
    assert np.isfinite(loss.item())
