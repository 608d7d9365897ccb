"""Graph layers against dense-adjacency implementations on small random graphs, gradients,
and the MessagePassing base."""

import numpy as np
import pytest

import mytorch.core as mt
import mytorch.nn as nn
from mytorch.core.testing import gradcheck
from mytorch.graph.nn import GATConv, GCNConv, GINConv, MessagePassing, SAGEConv, gcn_norm
from mytorch.graph.utils import to_dense_adj


def random_graph(n: int, e: int, seed: int, loops: bool = False) -> np.ndarray:
    """(2, e) random directed edges among n nodes, with duplicates possible; node n-1 isolated."""
    rng = np.random.default_rng(seed)
    ei = rng.integers(0, n - 1, (2, e))
    if not loops:
        ei = ei[:, ei[0] != ei[1]]
    return ei


def dense_adj(ei: np.ndarray, n: int) -> np.ndarray:
    """A[i, j] = number of edges j -> i (messages flow from source j to target i)."""
    a = np.zeros((n, n))
    np.add.at(a, (ei[1], ei[0]), 1.0)
    return a


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gcn_norm_matches_dense_formula(seed):
    n = 7
    ei = random_graph(n, 15, seed)
    w = np.random.default_rng(seed).random(ei.shape[1]) + 0.5
    out_ei, out_w = gcn_norm(mt.tensor(ei), mt.tensor(w, dtype=mt.float64), n)
    got = to_dense_adj(out_ei, edge_attr=out_w, max_num_nodes=n)[0].numpy().T  # [target, source]
    a = np.zeros((n, n))
    np.add.at(a, (ei[1], ei[0]), w)
    a_hat = a + np.eye(n)
    d = a_hat.sum(1)  # weighted in-degree incl. the self-loop
    want = a_hat / np.sqrt(d)[:, None] / np.sqrt(d)[None, :]
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("cached", [False, True])
def test_gcn_conv_equals_dense_gcn(seed, cached):
    n, f_in, f_out = 8, 5, 3
    ei = random_graph(n, 20, seed)
    mt.manual_seed(seed)
    conv = GCNConv(f_in, f_out, cached=cached).double()
    nn.init.normal_(conv.bias)
    x = np.random.default_rng(seed).standard_normal((n, f_in))
    a_hat = dense_adj(ei, n) + np.eye(n)
    d = a_hat.sum(1)
    norm = a_hat / np.sqrt(d)[:, None] / np.sqrt(d)[None, :]
    w, b = conv.lin.weight.detach().numpy(), conv.bias.detach().numpy()
    want = norm @ x @ w.T + b
    for _ in range(2):  # the second call uses the cache when cached
        got = conv(mt.tensor(x, dtype=mt.float64), mt.tensor(ei)).detach().numpy()
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_gcn_conv_unfused_subclass_gives_same_result():
    """Overriding message switches to the gather/scatter path; the result must not change."""

    class Plain(GCNConv):
        def message(self, x_j, edge_weight):
            return edge_weight.view(-1, 1) * x_j

    n = 6
    ei = mt.tensor(random_graph(n, 14, 3))
    mt.manual_seed(0)
    a = GCNConv(4, 2).double()
    mt.manual_seed(0)
    b = Plain(4, 2).double()
    assert a._fuse and not b._fuse
    x = mt.randn(n, 4, dtype=mt.float64)
    np.testing.assert_allclose(a(x, ei).detach().numpy(), b(x, ei).detach().numpy(), rtol=1e-12)


def dense_gat(x, ei, n, lin_w, att_src, att_dst, bias, heads, c, slope, concat):
    h = (x @ lin_w.T).reshape(n, heads, c)  # (N, H, C)
    a_src = (h * att_src).sum(-1)  # (N, H)
    a_dst = (h * att_dst).sum(-1)
    adj = dense_adj(ei[:, ei[0] != ei[1]], n) > 0
    adj |= np.eye(n, dtype=bool)  # self-loops replace existing ones
    out = np.zeros((n, heads, c))
    for k in range(heads):
        e = a_dst[:, k][:, None] + a_src[:, k][None, :]  # [target, source]
        e = np.where(e > 0, e, slope * e)
        e = np.where(adj, e, -np.inf)
        att = np.exp(e - e.max(1, keepdims=True))
        att /= att.sum(1, keepdims=True)
        out[:, k] = att @ h[:, k]
    out = out.reshape(n, heads * c) if concat else out.mean(1)
    return out + bias


@pytest.mark.parametrize("heads,concat", [(1, True), (3, True), (2, False)])
def test_gat_conv_equals_dense_attention(heads, concat):
    n, f_in, c = 7, 4, 3
    ei = np.unique(random_graph(n, 16, heads, loops=True), axis=1)  # a self-loop or two
    mt.manual_seed(heads)
    conv = GATConv(f_in, c, heads=heads, concat=concat, negative_slope=0.2).double()
    nn.init.normal_(conv.bias)
    x = np.random.default_rng(0).standard_normal((n, f_in))
    got = conv(mt.tensor(x, dtype=mt.float64), mt.tensor(ei)).detach().numpy()
    p = {k: v.detach().numpy() for k, v in conv.named_parameters()}
    want = dense_gat(
        x, ei, n, p["lin.weight"], p["att_src"], p["att_dst"], p["bias"], heads, c, 0.2, concat
    )
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_gat_attention_weights_sum_to_one_and_dropout_only_in_training():
    ei = mt.tensor(random_graph(6, 12, 5))
    conv = GATConv(3, 2, heads=2, dropout=0.5)
    x = mt.randn(6, 3)
    conv.eval()
    out1 = conv(x, ei)
    out2, (ei_loops, alpha) = conv(x, ei, return_attention_weights=True)
    np.testing.assert_allclose(out1.detach().numpy(), out2.detach().numpy())
    sums = np.zeros((6, 2))
    np.add.at(sums, ei_loops.numpy()[1], alpha.detach().numpy())
    np.testing.assert_allclose(sums, 1.0, rtol=1e-6)
    conv.train()
    assert not np.allclose(conv(x, ei).detach().numpy(), out1.detach().numpy())


def test_layer_gradients_match_finite_differences():
    n = 6
    ei = mt.tensor(random_graph(n, 12, 7))
    x = mt.randn(n, 3, dtype=mt.float64, requires_grad=True)
    mt.manual_seed(0)
    for conv in (
        GCNConv(3, 2).double(),
        GATConv(3, 2, heads=2).double(),
        SAGEConv(3, 2).double(),
        GINConv(nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))).double(),
    ):
        params = [p for p in conv.parameters()]

        def f(x_, *ps, conv=conv):
            return (conv(x_, ei) ** 2).sum(-1)

        assert gradcheck(f, (x, *params)), type(conv).__name__


def test_sage_and_gin_equal_dense_formulas():
    n = 7
    ei = random_graph(n, 18, 11)
    a = dense_adj(ei, n)
    x = np.random.default_rng(1).standard_normal((n, 4))
    mt.manual_seed(1)
    sage = SAGEConv(4, 3).double()
    deg = np.maximum(a.sum(1, keepdims=True), 1)
    p = {k: v.detach().numpy() for k, v in sage.named_parameters()}
    want = (a @ x / deg) @ p["lin_l.weight"].T + p["lin_l.bias"] + x @ p["lin_r.weight"].T
    np.testing.assert_allclose(
        sage(mt.tensor(x, dtype=mt.float64), mt.tensor(ei)).detach().numpy(), want, rtol=1e-10
    )
    lin = nn.Linear(4, 3).double()
    gin = GINConv(lin, eps=0.3)  # eps is a float32 buffer, as in PyTorch Geometric
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    want = (a @ x + float(np.float32(1) + np.float32(0.3)) * x) @ w.T + b
    np.testing.assert_allclose(
        gin(mt.tensor(x, dtype=mt.float64), mt.tensor(ei)).detach().numpy(), want, rtol=1e-10
    )
    assert GINConv(nn.Linear(4, 3), train_eps=True).eps.requires_grad


def test_sage_conv_on_a_bipartite_pair():
    x_src, x_dst = mt.randn(5, 4), mt.randn(2, 3)
    ei = mt.tensor([[0, 4, 3], [0, 0, 1]])  # source nodes 0..4 -> target nodes 0..1
    conv = SAGEConv((4, 3), 6)
    assert conv((x_src, x_dst), ei).shape == (2, 6)


@pytest.mark.parametrize("aggr", ["add", "mean", "max", "min"])
def test_message_passing_subclass_aggregations(aggr):
    class EdgeDiff(MessagePassing):
        def forward(self, x, edge_index):
            return self.propagate(edge_index, x=x)

        def message(self, x_i, x_j):
            return x_j - x_i

        def update(self, inputs, x):
            return inputs + x

    n = 6
    ei = random_graph(n, 15, 4)
    x = np.random.default_rng(2).standard_normal((n, 2))
    got = EdgeDiff(aggr=aggr)(mt.tensor(x, dtype=mt.float64), mt.tensor(ei)).numpy()
    want = x.copy()
    for i in range(n):
        msgs = [x[j] - x[i] for j, t in zip(*ei) if t == i]
        if msgs:
            reduce = {"add": np.sum, "mean": np.mean, "max": np.max, "min": np.min}[aggr]
            want[i] += reduce(np.array(msgs), 0)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="aggr must be one of"):
        MessagePassing(aggr="median")
    with pytest.raises(ValueError, match="edge_index must have shape"):
        GCNConv(2, 2)(mt.randn(3, 2), mt.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="refers to node 5"):
        SAGEConv(2, 2)(mt.randn(3, 2), mt.tensor([[0, 5], [1, 2]]))
