"""GCN and GAT training epochs on Cora, mytorch vs PyTorch, and peak memory on a 1M-edge graph.

    uv run python benchmarks/bench_graph.py [--rounds 7] [--threads 1] [--skip-memory]
    uv run python benchmarks/bench_graph.py --torch-accuracy 10   # PyTorch's accuracy, same protocol

Speed: one full-batch training epoch (forward, cross-entropy on the training nodes, backward,
Adam step) of the two demo models, apps/cora_gcn.py's GCN (1433-16-7, dropout 0.5) and
apps/cora_gat.py's GAT (8 heads x 8, dropout 0.6), on Cora. PyTorch runs the same models written
with dense-free message passing: gather the source rows, scale, ``index_add_`` into the targets;
GAT's softmax over each node's in-edges with ``scatter_reduce(amax)`` and ``index_add_``. In
both, the bag-of-words input is a sparse COO matrix (``torch.sparse.mm`` in PyTorch) with
dropout on its stored values, as in the demos. Both
libraries run in the same process with the same thread count, alternating in rounds after a
warm-up; each time is the median over rounds and each ratio the median of per-round ratios
(steadier when other processes load the machine).

Memory: a random graph with 100,000 nodes and 1,000,000 edges (64 features, 4 classes) trains
one GCN epoch in mytorch under ``tracemalloc`` (NumPy reports its allocations to it). The
benchmark asserts that the peak stays under 1 GiB, where a single dense N x N float32 adjacency
would need 40 GB, so nothing N x N can have been allocated.

``--torch-accuracy K`` trains PyTorch's GCN and GAT for K seeds with the demos' protocol (test
accuracy at the best validation epoch) to compare against the demos' accuracies.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tracemalloc


def _set_threads(n: int) -> None:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)


# ---------------------------------------------------------------------------------- data
def cora():
    """Row-normalized features, labels, masks as NumPy, and the GCN-normalized edge list."""
    import numpy as np

    import mytorch.core as mt
    from mytorch.graph.datasets import Planetoid
    from mytorch.graph.nn import gcn_norm
    from mytorch.graph.transforms import NormalizeFeatures

    data = Planetoid(name="Cora", transform=NormalizeFeatures())[0]
    ei, w = gcn_norm(data.edge_index, num_nodes=data.num_nodes)
    loops_ei, _ = __import__("mytorch.graph.utils", fromlist=["x"]).add_self_loops(
        data.edge_index, num_nodes=data.num_nodes
    )
    return {
        "data": data,
        "x": data.x.numpy(),
        "y": data.y.numpy(),
        "train": np.flatnonzero(data.train_mask.numpy()),
        "val": np.flatnonzero(data.val_mask.numpy()),
        "test": np.flatnonzero(data.test_mask.numpy()),
        "gcn_ei": ei.numpy(),
        "gcn_w": w.detach().numpy(),
        "gat_ei": loops_ei.numpy(),
        "mt": mt,
    }


# ---------------------------------------------------------------------------------- PyTorch models
def torch_models():
    import torch
    import torch.nn.functional as TF

    def linear(x, weight):
        return torch.sparse.mm(x, weight.T) if x.is_sparse else x @ weight.T

    def dropout(x, p, training):
        """Dropout on a sparse matrix's stored values (the demos' input dropout)."""
        if not x.is_sparse:
            return TF.dropout(x, p, training)
        values = TF.dropout(x.values(), p, training)
        return torch.sparse_coo_tensor(
            x.indices(), values, x.shape, is_coalesced=True, check_invariants=False
        )

    def glorot(*shape):
        bound = (6.0 / (shape[-2] + shape[-1])) ** 0.5
        return torch.nn.Parameter(torch.empty(*shape).uniform_(-bound, bound))

    class GCNLayer(torch.nn.Module):
        def __init__(self, fin: int, fout: int) -> None:
            super().__init__()
            self.weight = glorot(fout, fin)
            self.bias = torch.nn.Parameter(torch.zeros(fout))

        def forward(self, x, src, dst, w):
            h = linear(x, self.weight)  # (N, out)
            msg = h.index_select(0, src) * w.unsqueeze(1)  # (E, out)
            return torch.zeros_like(h).index_add_(0, dst, msg) + self.bias

    class GCN(torch.nn.Module):
        def __init__(self, fin: int, hidden: int, classes: int) -> None:
            super().__init__()
            self.conv1, self.conv2 = GCNLayer(fin, hidden), GCNLayer(hidden, classes)

        def forward(self, x, src, dst, w):
            x = dropout(x, 0.5, self.training)
            x = TF.dropout(TF.relu(self.conv1(x, src, dst, w)), 0.5, self.training)
            return self.conv2(x, src, dst, w)

    class GATLayer(torch.nn.Module):
        def __init__(self, fin: int, c: int, heads: int, concat: bool) -> None:
            super().__init__()
            self.h, self.c, self.concat = heads, c, concat
            self.weight = glorot(heads * c, fin)
            self.att_src, self.att_dst = glorot(1, heads, c), glorot(1, heads, c)
            self.bias = torch.nn.Parameter(torch.zeros(heads * c if concat else c))

        def forward(self, x, src, dst):
            n = x.shape[0]
            h = linear(x, self.weight).view(n, self.h, self.c)  # (N, H, C)
            a_src = (h * self.att_src).sum(-1)  # (N, H)
            a_dst = (h * self.att_dst).sum(-1)
            e = TF.leaky_relu(a_src.index_select(0, src) + a_dst.index_select(0, dst), 0.2)
            index = dst.unsqueeze(1).expand_as(e)
            m = torch.zeros(n, self.h).scatter_reduce(0, index, e, "amax", include_self=False)
            ex = (e - m.index_select(0, dst)).exp()
            alpha = ex / torch.zeros(n, self.h).index_add_(0, dst, ex).index_select(0, dst)
            alpha = TF.dropout(alpha, 0.6, self.training)
            msg = h.index_select(0, src) * alpha.unsqueeze(-1)  # (E, H, C)
            out = torch.zeros_like(h).index_add_(0, dst, msg)
            out = out.reshape(n, -1) if self.concat else out.mean(1)
            return out + self.bias

    class GAT(torch.nn.Module):
        def __init__(self, fin: int, classes: int) -> None:
            super().__init__()
            self.conv1 = GATLayer(fin, 8, 8, True)
            self.conv2 = GATLayer(64, classes, 1, False)

        def forward(self, x, src, dst):
            x = dropout(x, 0.6, self.training)
            x = TF.dropout(TF.elu(self.conv1(x, src, dst)), 0.6, self.training)
            return self.conv2(x, src, dst)

    return GCN, GAT


def sparse_features(torch, x):
    """The bag-of-words features as a coalesced sparse COO tensor, as the demos keep them."""
    return torch.from_numpy(x).to_sparse().coalesce()


# ---------------------------------------------------------------------------------- epochs
def make_steps(d):
    """{name: (mytorch step, torch step)}: each call trains one epoch."""
    import importlib.util
    from pathlib import Path

    import numpy as np
    import torch
    import torch.nn.functional as TF

    import mytorch.core as mt
    import mytorch.core.functional as F

    root = Path(__file__).resolve().parents[1]
    apps = {}
    for name in ("cora_gcn", "cora_gat"):
        spec = importlib.util.spec_from_file_location(name, root / "apps" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        apps[name] = module
    data = apps["cora_gcn"].load("cora")[1]  # features as the demos hold them: sparse
    train = mt.from_numpy(d["train"])
    y_train = data.y[train]

    gcn_args = apps["cora_gcn"].Args()
    mt.manual_seed(0)
    m_gcn = apps["cora_gcn"].GCN(1433, 16, 7, 0.5)
    m_gcn_opt = apps["cora_gcn"].make_optimizer(gcn_args, m_gcn)
    gat_args = apps["cora_gat"].Args()
    m_gat = apps["cora_gat"].GAT(1433, 8, 8, 7, 0.6)
    m_gat_opt = apps["cora_gat"].make_optimizer(gat_args, m_gat)

    def mt_step(model, opt):
        def step():
            model.train()
            loss = F.cross_entropy(model(data.x, data.edge_index)[train], y_train)
            opt.zero_grad()
            loss.backward()
            opt.step()

        return step

    GCN, GAT = torch_models()
    torch.manual_seed(0)
    tx, ty = sparse_features(torch, d["x"]), torch.from_numpy(d["y"])
    ttrain = torch.from_numpy(d["train"])
    gsrc, gdst = (torch.from_numpy(np.ascontiguousarray(a)) for a in d["gcn_ei"])
    gw = torch.from_numpy(d["gcn_w"])
    asrc, adst = (torch.from_numpy(np.ascontiguousarray(a)) for a in d["gat_ei"])
    t_gcn = GCN(1433, 16, 7)
    t_gcn_opt = torch.optim.Adam(
        [
            {"params": t_gcn.conv1.parameters(), "weight_decay": 5e-4},
            {"params": t_gcn.conv2.parameters(), "weight_decay": 0.0},
        ],
        lr=0.01,
    )
    t_gat = GAT(1433, 7)
    t_gat_opt = torch.optim.Adam(t_gat.parameters(), lr=0.005, weight_decay=5e-4)

    def t_step(model, opt, args):
        def step():
            model.train()
            loss = TF.cross_entropy(model(tx, *args)[ttrain], ty[ttrain])
            opt.zero_grad()
            loss.backward()
            opt.step()

        return step

    return {
        "GCN epoch": (mt_step(m_gcn, m_gcn_opt), t_step(t_gcn, t_gcn_opt, (gsrc, gdst, gw))),
        "GAT epoch": (mt_step(m_gat, m_gat_opt), t_step(t_gat, t_gat_opt, (asrc, adst))),
    }


def time_once(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_speed(rounds: int, reps: int) -> None:
    d = cora()
    steps = make_steps(d)
    print(f"Cora, one training epoch; median of {rounds} rounds of {reps} epochs each")
    print(f"{'':<10} {'mytorch ms':>11} {'torch ms':>9} {'ratio':>6}")
    for name, (mt_fn, t_fn) in steps.items():
        mt_fn(), t_fn()  # warm-up
        mts, ts, ratios = [], [], []
        for _ in range(rounds):
            a = min(time_once(mt_fn) for _ in range(reps))
            b = min(time_once(t_fn) for _ in range(reps))
            mts.append(a)
            ts.append(b)
            ratios.append(a / b)
        print(
            f"{name:<10} {statistics.median(mts) * 1e3:>11.1f} {statistics.median(ts) * 1e3:>9.1f} "
            f"{statistics.median(ratios):>6.2f}"
        )


# ---------------------------------------------------------------------------------- memory
def bench_memory(nodes: int = 100_000, edges: int = 1_000_000) -> None:
    import numpy as np

    import mytorch.core as mt
    import mytorch.core.functional as F
    from mytorch.core import optim
    from mytorch.graph.nn import GCNConv

    rng = np.random.default_rng(0)
    edge_index = mt.from_numpy(rng.integers(0, nodes, (2, edges)))
    x = mt.from_numpy(rng.standard_normal((nodes, 64), dtype=np.float32))
    y = mt.from_numpy(rng.integers(0, 4, nodes))
    mt.manual_seed(0)
    conv1, conv2 = GCNConv(64, 16), GCNConv(16, 4)
    opt = optim.Adam(list(conv1.parameters()) + list(conv2.parameters()), lr=0.01)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    start = time.perf_counter()
    h = F.dropout(F.relu(conv1(x, edge_index)), 0.5)
    loss = F.cross_entropy(conv2(h, edge_index), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    dense = nodes * nodes * 4
    print(
        f"memory: GCN epoch on {nodes:,} nodes / {edges:,} edges: peak {peak / 2**20:.0f} MiB "
        f"above the inputs ({seconds:.1f} s, under tracemalloc); one dense N x N float32 matrix "
        f"would be {dense / 2**30:.0f} GiB"
    )
    assert peak < 2**30, f"peak {peak / 2**20:.0f} MiB: something O(N^2) was allocated"
    assert np.isfinite(loss.item())


# ---------------------------------------------------------------------------------- accuracy
def torch_accuracy(seeds: int) -> None:
    import numpy as np
    import torch
    import torch.nn.functional as TF

    d = cora()
    GCN, GAT = torch_models()
    tx, ty = sparse_features(torch, d["x"]), torch.from_numpy(d["y"])
    gsrc, gdst = (torch.from_numpy(np.ascontiguousarray(a)) for a in d["gcn_ei"])
    gw = torch.from_numpy(d["gcn_w"])
    asrc, adst = (torch.from_numpy(np.ascontiguousarray(a)) for a in d["gat_ei"])
    idx = {k: torch.from_numpy(d[k]) for k in ("train", "val", "test")}
    for name in ("GCN", "GAT"):
        accs = []
        for seed in range(seeds):
            torch.manual_seed(seed)
            if name == "GCN":
                model, args = GCN(1433, 16, 7), (gsrc, gdst, gw)
                opt = torch.optim.Adam(
                    [
                        {"params": model.conv1.parameters(), "weight_decay": 5e-4},
                        {"params": model.conv2.parameters(), "weight_decay": 0.0},
                    ],
                    lr=0.01,
                )
            else:
                model, args = GAT(1433, 7), (asrc, adst)
                opt = torch.optim.Adam(model.parameters(), lr=0.005, weight_decay=5e-4)
            best = (-1.0, 0.0, 0, 0.0)
            for epoch in range(200):
                model.train()
                loss = TF.cross_entropy(model(tx, *args)[idx["train"]], ty[idx["train"]])
                opt.zero_grad()
                loss.backward()
                opt.step()
                model.eval()
                with torch.no_grad():
                    out = model(tx, *args)
                    val_loss = TF.cross_entropy(out[idx["val"]], ty[idx["val"]]).item()
                pred = out.argmax(1)
                acc = {k: (pred[v] == ty[v]).float().mean().item() for k, v in idx.items()}
                best = max(best, (acc["val"], -val_loss, epoch, acc["test"]), key=lambda b: b[:2])
            accs.append(best[3])
        a = np.array(accs)
        print(
            f"torch {name}: test accuracy {a.mean():.4f} +- {a.std(ddof=1):.4f} over {seeds} seeds"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="timing rounds (median taken)")
    parser.add_argument("--reps", type=int, default=3, help="epochs per round (fastest kept)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS/torch threads")
    parser.add_argument("--skip-memory", action="store_true", help="skip the 1M-edge run")
    parser.add_argument("--torch-accuracy", type=int, default=0, help="seeds of PyTorch training")
    args = parser.parse_args()
    _set_threads(args.threads)
    import torch

    torch.set_num_threads(args.threads)
    if args.torch_accuracy:
        torch_accuracy(args.torch_accuracy)
        return
    bench_speed(args.rounds, args.reps)
    if not args.skip_memory:
        bench_memory()


if __name__ == "__main__":
    main()
