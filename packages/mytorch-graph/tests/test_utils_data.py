"""Edge-list utilities, Data/Batch, pooling, loaders and datasets."""

import hashlib
from importlib import resources

import numpy as np
import pytest

import mytorch.core as mt
from mytorch.graph import Batch, Data, utils
from mytorch.graph.datasets import GraphFamilies, KarateClub, Planetoid
from mytorch.graph.loader import DataLoader, NeighborLoader
from mytorch.graph.nn import global_add_pool, global_max_pool, global_mean_pool
from mytorch.graph.transforms import NormalizeFeatures

EI = mt.tensor([[0, 1, 1, 2, 3, 3], [1, 0, 2, 2, 1, 4]])  # a self-loop at 2, node 5 isolated


def test_self_loops_and_degree():
    ei, attr = utils.add_self_loops(EI, mt.arange(6.0), fill_value=-1.0, num_nodes=6)
    assert ei.numpy()[:, 6:].tolist() == [[0, 1, 2, 3, 4, 5]] * 2
    assert attr.tolist()[6:] == [-1.0] * 6
    ei, attr = utils.add_remaining_self_loops(EI, mt.arange(6.0), fill_value=9.0, num_nodes=6)
    assert ei.shape == (2, 11) and attr.tolist()[3] == 3.0 and 9.0 in attr.tolist()
    ei, attr = utils.remove_self_loops(EI, mt.arange(6.0))
    assert not utils.contains_self_loops(ei) and attr.tolist() == [0.0, 1.0, 2.0, 4.0, 5.0]
    assert utils.degree(EI[1], 6).tolist() == [1, 2, 2, 0, 1, 0]
    _, mean_loops = utils.add_self_loops(EI, mt.arange(6.0), fill_value="mean", num_nodes=6)
    assert mean_loops.tolist()[6:] == [1.0, 2.0, 2.5, 0.0, 5.0, 0.0]


def test_to_undirected_coalesce_and_is_undirected():
    und = utils.to_undirected(EI)
    assert utils.is_undirected(und) and not utils.is_undirected(EI)
    pairs = set(map(tuple, und.numpy().T))
    assert pairs == {(0, 1), (1, 0), (1, 2), (2, 1), (2, 2), (3, 1), (1, 3), (3, 4), (4, 3)}
    ei, w = utils.coalesce(mt.tensor([[1, 0, 1], [2, 1, 2]]), mt.tensor([1.0, 2.0, 3.0]))
    assert ei.tolist() == [[0, 1], [1, 2]] and w.tolist() == [2.0, 4.0]


def test_subgraph_and_k_hop():
    ei, attr = utils.subgraph(mt.tensor([1, 2, 3]), EI, mt.arange(6.0), relabel_nodes=True)
    assert ei.tolist() == [[0, 1, 2], [1, 1, 0]] and attr.tolist() == [2.0, 3.0, 4.0]
    subset, sub_ei, mapping, mask = utils.k_hop_subgraph(2, 1, EI, relabel_nodes=True)
    assert subset.tolist() == [1, 2] and mapping.tolist() == [1]  # 1 -> 2 and 2 -> 2
    subset, _, _, mask = utils.k_hop_subgraph(2, 2, EI, num_nodes=6)
    assert subset.tolist() == [0, 1, 2, 3]  # 0 -> 1 and 3 -> 1 at two hops
    assert mask.numpy().tolist() == [True, True, True, True, True, False]


@pytest.mark.parametrize("reduce", ["sum", "mean", "max", "min"])
def test_scatter_and_pooling(reduce):
    x = np.random.default_rng(0).standard_normal((7, 3)).astype(np.float32)
    batch = np.array([0, 0, 2, 2, 2, 0, 3])  # graph 1 has no node
    got = utils.scatter(mt.tensor(x), mt.tensor(batch), 0, 4, reduce).numpy()
    fn = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min}[reduce]
    want = np.stack([fn(x[batch == b], 0) if (batch == b).any() else np.zeros(3) for b in range(4)])
    np.testing.assert_allclose(got, want, rtol=1e-6)
    pool = {"sum": global_add_pool, "mean": global_mean_pool, "max": global_max_pool}.get(reduce)
    if pool is not None:
        np.testing.assert_allclose(pool(mt.tensor(x), mt.tensor(batch), 4).numpy(), want, 1e-6)
        assert pool(mt.tensor(x)).shape == (1, 3)


def test_softmax_groups_sum_to_one():
    y = utils.softmax(mt.randn(6, 2), EI[1], num_nodes=6).numpy()
    sums = np.zeros((6, 2))
    np.add.at(sums, EI[1].numpy(), y)
    np.testing.assert_allclose(sums[[0, 1, 2, 4]], 1.0, rtol=1e-6)
    assert np.all(sums[[3, 5]] == 0)


def test_to_dense_adj_for_a_batch():
    adj = utils.to_dense_adj(mt.tensor([[0, 1, 2], [1, 0, 3]]), batch=mt.tensor([0, 0, 1, 1]))
    assert adj.shape == (2, 2, 2)
    assert adj.numpy().tolist() == [[[0, 1], [1, 0]], [[0, 1], [0, 0]]]


def graph(n: int, seed: int) -> Data:
    rng = np.random.default_rng(seed)
    return Data(
        x=mt.tensor(rng.standard_normal((n, 3)).astype(np.float32)),
        edge_index=mt.tensor(rng.integers(0, n, (2, 2 * n))),
        edge_attr=mt.tensor(rng.random((2 * n, 2)).astype(np.float32)),
        y=mt.tensor([seed]),
        node_label=mt.tensor(rng.integers(0, 5, n)),
    )


def test_batch_round_trip_and_block_diagonal_edges():
    graphs = [graph(n, s) for s, n in enumerate([3, 5, 1, 4])]
    b = Batch.from_data_list(graphs)
    assert b.num_graphs == 4 and b.num_nodes == 13 and b.x.shape == (13, 3)
    assert b.batch.tolist() == [0] * 3 + [1] * 5 + [2] + [3] * 4
    assert b.ptr.tolist() == [0, 3, 8, 9, 13] and b.y.tolist() == [0, 1, 2, 3]
    ei, batch = b.edge_index.numpy(), b.batch.numpy()
    assert np.all(batch[ei[0]] == batch[ei[1]])  # no edge between graphs
    for original, back in zip(graphs, b.to_data_list()):
        assert back.keys() == original.keys() and back.num_nodes == original.num_nodes
        for key, value in original.items():
            np.testing.assert_array_equal(back[key].numpy(), value.numpy(), err_msg=key)


def test_data_basics():
    d = Data(x=mt.ones(4, 2), edge_index=mt.tensor([[0, 1], [1, 0]]), train_mask=mt.ones(4) > 0)
    assert d.num_nodes == 4 and d.num_edges == 2 and d.num_features == 2
    assert d.is_undirected() and not d.has_self_loops() and d.has_isolated_nodes()
    assert "train_mask" in d and d.y is None
    sub = d.subgraph(mt.tensor([1, 0]))
    assert sub.edge_index.tolist() == [[1, 0], [0, 1]] and sub.x.shape == (2, 2)
    with pytest.raises(ValueError, match="edge_index must have shape"):
        Data(edge_index=mt.tensor([1, 2]))
    with pytest.raises(AttributeError, match="no attribute 'foo'"):
        d.foo


def test_graph_data_loader_batches():
    ds = GraphFamilies(num_graphs=12, seed=1)
    batches = list(DataLoader(ds, batch_size=5, shuffle=True))
    assert [b.num_graphs for b in batches] == [5, 5, 2]
    assert sum(b.num_nodes for b in batches) == sum(g.num_nodes for g in ds)


def test_graph_families_are_honest_and_distinct():
    ds = GraphFamilies(num_graphs=50, seed=0)
    labels = np.array([g.y.item() for g in ds])
    assert np.bincount(labels).tolist() == [10] * 5
    for g in ds:
        assert g.is_undirected() and not g.has_self_loops() and not g.has_isolated_nodes()
        assert 4 <= g.num_nodes <= 30
    trees = [g for g in ds if g.y.item() == 1]
    assert all(g.num_edges == 2 * (g.num_nodes - 1) for g in trees)


def test_neighbor_loader_samples_within_budget():
    data = Planetoid(name="Cora")[0]
    mt.manual_seed(0)
    loader = NeighborLoader(data, num_neighbors=[5, 3], batch_size=32, input_nodes=data.train_mask)
    assert len(loader) == 5
    seen = []
    for sub in loader:
        n_id, ei = sub.n_id.numpy(), sub.edge_index.numpy()
        seen.extend(n_id[: sub.batch_size].tolist())
        assert sub.x.shape == (len(n_id), 1433) and sub.y.shape == (len(n_id),)
        assert len(set(n_id.tolist())) == len(n_id)  # no node twice
        # every sampled edge exists in the full graph, in the same direction
        full = set(map(tuple, data.edge_index.numpy().T))
        assert all((n_id[s], n_id[t]) in full for s, t in ei.T)
        # at most 5 edges into each seed
        assert np.bincount(ei[1][ei[1] < sub.batch_size], minlength=sub.batch_size).max() <= 5
        np.testing.assert_array_equal(data.edge_index.numpy()[:, sub.e_id.numpy()], n_id[ei])
    assert sorted(seen) == np.flatnonzero(data.train_mask.numpy()).tolist()


@pytest.mark.parametrize(
    "name,nodes,edges,classes", [("Cora", 2708, 10556, 7), ("CiteSeer", 3327, 9104, 6)]
)
def test_planetoid_bundles_match_checksums_and_split(name, nodes, edges, classes):
    ds = Planetoid(name=name, transform=NormalizeFeatures())
    data = ds[0]
    assert (data.num_nodes, data.num_edges, ds.num_classes) == (nodes, edges, classes)
    assert data.is_undirected() and not data.has_self_loops()
    train, val, test = (data[m].numpy() for m in ("train_mask", "val_mask", "test_mask"))
    assert (train.sum(), val.sum(), test.sum()) == (20 * classes, 500, 1000)
    assert not (train & val).any() and not (val & test).any() and not (train & test).any()
    assert np.bincount(data.y.numpy()[train]).tolist() == [20] * classes
    rows = data.x.numpy().sum(1)
    np.testing.assert_allclose(rows[rows > 0], 1.0, rtol=1e-5)  # normalized features
    from mytorch.graph.datasets.planetoid import _FILES

    filename, sha256, _ = _FILES[name.lower()]
    blob = resources.files("mytorch.graph.datasets").joinpath("data", filename).read_bytes()
    assert hashlib.sha256(blob).hexdigest() == sha256


def test_karate_club():
    data = KarateClub()[0]
    assert (data.num_nodes, data.num_edges) == (34, 156) and data.is_undirected()
    assert data.y.numpy()[[0, 33]].tolist() == [0, 1]
    assert utils.degree(data.edge_index[0], 34).numpy()[[0, 33]].tolist() == [16, 17]
