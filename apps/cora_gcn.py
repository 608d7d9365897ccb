"""Node classification on Cora or CiteSeer with a two-layer GCN (Kipf & Welling 2017).

The model is GCNConv(F, 16) - ReLU - dropout - GCNConv(16, C) on row-normalized bag-of-words
features (kept as a sparse matrix; the input dropout acts on its stored values, which has the
distribution of dense dropout, as in the paper's code), with dropout 0.5 on the input and hidden
layer, trained full-batch with Adam (lr 0.01, weight decay 5e-4 on the first layer, as in the
paper's code) for 200 epochs on the 20 labelled nodes per class of the Planetoid split. The
reported test accuracy is the one at the epoch with the best validation accuracy (ties: the lower
validation loss). Message passing runs over the edge list (one sparse product per layer), never
an N x N matrix.

Data: the Planetoid split bundled with mytorch-graph (no download).

Expected result with the defaults, measured on this machine (2 CPU cores shared with other busy
processes, 1 BLAS thread) over seeds 0-9 (``--runs 10``):
    cora:      test accuracy 0.8164 +- 0.0056 (min 0.807, max 0.826; GCN paper: 0.815)
    citeseer:  test accuracy 0.7136 +- 0.0105 (min 0.687, max 0.724; GCN paper: 0.703)
With the machine loaded (load average 6-13 on its 2 cores) one run took 20-35 s on Cora and
30-50 s on CiteSeer.

Run:
    uv run apps/cora_gcn.py                       # Cora, seed 0
    uv run apps/cora_gcn.py --dataset citeseer --runs 10   # seeds 0-9, mean +- std
    uv run apps/cora_gcn.py --help                # every option

Writes to ``--out`` (default runs/cora_gcn): curves.png (loss and accuracy per epoch) and
embedding.png (the hidden layer's node embeddings projected to 2-D by PCA, coloured by class).
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import tyro  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402
from tqdm import tqdm  # noqa: E402

import mytorch.core as mt  # noqa: E402
import mytorch.core.functional as F  # noqa: E402
import mytorch.nn as nn  # noqa: E402
from mytorch.core import optim, sparse  # noqa: E402
from mytorch.graph.datasets import Planetoid  # noqa: E402
from mytorch.graph.nn import GCNConv  # noqa: E402
from mytorch.graph.transforms import NormalizeFeatures  # noqa: E402
from mytorch.graph.utils import dropout_features  # noqa: E402


@dataclass
class Args:
    dataset: str = "cora"  # the Planetoid data set: cora | citeseer
    seed: int = 0  # seeds the initial weights and dropout
    runs: int = 1  # train this many models, with seeds seed, seed+1, ...; prints mean +- std
    epochs: int = 200  # full-batch training epochs
    hidden: int = 16  # width of the hidden GCN layer
    dropout: float = 0.5  # dropout probability on the input and the hidden layer
    lr: float = 0.01  # Adam learning rate
    weight_decay: float = 5e-4  # L2 penalty (Adam's weight_decay) on the first layer's weights
    out: str = "runs/cora_gcn"  # where the figures go
    threads: int = 1  # BLAS threads; 1 avoids a spinning thread pool slowing down a busy CPU


DESCRIPTION = " ".join(__doc__.split("\n\n")[0].split())  # the first paragraph, on one line
CLI = (tyro.conf.FlagCreatePairsOff,)  # a bool would get one flag: --x, not also --no-x


def parse_args(argv: list[str] | None = None) -> Args:
    """``Args`` from the command line (``--help`` lists every flag with its default)."""
    return tyro.cli(Args, args=argv, description=DESCRIPTION, config=CLI)


def stop_if_diverged(
    loss: float | None, last: float | None, where: str, model: nn.Module | None = None
) -> float | None:
    """``loss`` when it (and ``model``'s weights, if given) is finite; else the run ends here
    with a message, before the diverged weights are stepped on or their results saved."""
    if loss is not None and not math.isfinite(loss):
        what = f"the training loss became {loss}"
    elif model is not None and not all(mt.isfinite(p).all().item() for p in model.parameters()):
        what = "the weights became NaN or infinite"
    else:
        return loss
    before = f"last finite loss {last:.4f}" if last is not None else "no finite loss before it"
    sys.exit(
        f"error: {what} at {where} ({before}); stopped without saving results of these weights "
        "(try a smaller --lr)"
    )


class GCN(nn.Module):
    """Two graph convolutions; ``embed`` returns the hidden layer (for the plot)."""

    def __init__(self, in_channels: int, hidden: int, classes: int, dropout: float) -> None:
        super().__init__()
        self.conv1 = GCNConv(in_channels, hidden, cached=True)
        self.conv2 = GCNConv(hidden, classes, cached=True)
        self.dropout = dropout

    def embed(self, x, edge_index: mt.Tensor) -> mt.Tensor:
        x = dropout_features(x, self.dropout, self.training)  # on the sparse input's values
        return F.relu(self.conv1(x, edge_index))  # (N, hidden)

    def forward(self, x, edge_index: mt.Tensor) -> mt.Tensor:
        h = F.dropout(self.embed(x, edge_index), self.dropout, self.training)
        return self.conv2(h, edge_index)  # (N, classes) logits


def load(name: str):
    if name not in ("cora", "citeseer"):
        raise SystemExit(f"--dataset must be cora or citeseer, got {name!r}")
    dataset = Planetoid(
        name="Cora" if name == "cora" else "CiteSeer", transform=NormalizeFeatures()
    )
    data = dataset[0]
    # Bag-of-words rows are ~99% zeros: a sparse matrix makes the first layer cost O(nnz).
    data.x = sparse.to_sparse(data.x)
    return dataset, data


def accuracy(logits: mt.Tensor, y: mt.Tensor, mask: mt.Tensor) -> float:
    m = mask.numpy()
    return float((logits.numpy()[m].argmax(1) == y.numpy()[m]).mean())


def make_optimizer(args: Args, model: GCN) -> optim.Adam:
    """Adam with weight decay on the first layer only (Kipf & Welling's setting)."""
    groups = [
        {"params": list(model.conv1.parameters()), "weight_decay": args.weight_decay},
        {"params": list(model.conv2.parameters()), "weight_decay": 0.0},
    ]
    return optim.Adam(groups, lr=args.lr)


def train(args: Args, model: nn.Module, data, progress: bool = True) -> dict:
    """Full-batch training; returns the history and the test accuracy at the best val epoch."""
    opt = make_optimizer(args, model)
    history = {k: [] for k in ("loss", "train_acc", "val_acc", "test_acc")}
    best = (-1.0, 0.0, 0, 0.0)  # (val acc, -val loss, epoch, test acc)
    train_idx = mt.from_numpy(np.flatnonzero(data.train_mask.numpy()))
    last_loss = None
    for epoch in tqdm(range(1, args.epochs + 1), disable=not progress, desc="epochs"):
        model.train()
        logits = model(data.x, data.edge_index)
        loss = F.cross_entropy(logits[train_idx], data.y[train_idx])
        last_loss = stop_if_diverged(loss.item(), last_loss, f"epoch {epoch}")
        opt.zero_grad()
        loss.backward()
        opt.step()
        model.eval()
        with mt.no_grad():
            logits = model(data.x, data.edge_index)
            val_idx = mt.from_numpy(np.flatnonzero(data.val_mask.numpy()))
            val_loss = F.cross_entropy(logits[val_idx], data.y[val_idx]).item()
        accs = [accuracy(logits, data.y, data[m]) for m in ("train_mask", "val_mask", "test_mask")]
        for key, value in zip(("loss", "train_acc", "val_acc", "test_acc"), [last_loss, *accs]):
            history[key].append(value)
        best = max(best, (accs[1], -val_loss, epoch, accs[2]), key=lambda b: b[:2])
    return {"history": history, "best_val": best[0], "test_acc": best[3], "best_epoch": best[2]}


def pca_2d(h: np.ndarray) -> np.ndarray:
    """(N, 2) the projection of the rows of ``h`` on their two principal directions."""
    centred = h - h.mean(0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ vt[:2].T


def plot(history: dict, embedding: np.ndarray, y: np.ndarray, title: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.plot(history["loss"])
    ax1.set(xlabel="epoch", ylabel="training loss", title=title)
    for key in ("train_acc", "val_acc", "test_acc"):
        ax2.plot(history[key], label=key.replace("_acc", ""))
    ax2.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1))
    ax2.legend()
    fig.tight_layout()
    fig.savefig(out / "curves.png", dpi=100)
    plt.close(fig)
    points = pca_2d(embedding)
    labelled = y >= 0
    fig, ax = plt.subplots(figsize=(6, 6))
    sc = ax.scatter(*points[labelled].T, c=y[labelled], cmap="tab10", s=6)
    ax.legend(*sc.legend_elements(), title="class", loc="best", fontsize=8)
    ax.set(title=f"{title}: hidden-layer embeddings (PCA)", xticks=[], yticks=[])
    fig.tight_layout()
    fig.savefig(out / "embedding.png", dpi=100)
    plt.close(fig)


def run_once(args: Args, seed: int, dataset, data, progress: bool = True) -> tuple[dict, GCN]:
    mt.manual_seed(seed)
    model = GCN(dataset.num_features, args.hidden, dataset.num_classes, args.dropout)
    return train(args, model, data, progress), model


def main(args: Args) -> list[dict]:
    dataset, data = load(args.dataset)
    results = []
    for seed in range(args.seed, args.seed + args.runs):
        start = time.perf_counter()
        result, model = run_once(args, seed, dataset, data, progress=args.runs == 1)
        seconds = time.perf_counter() - start
        last_loss = result["history"]["loss"][-1] if args.epochs else None
        stop_if_diverged(last_loss, last_loss, f"the end of training (seed {seed})", model)
        results.append(result)
        print(
            f"test accuracy: {result['test_acc']:.4f} at best validation epoch "
            f"{result['best_epoch']} (val {result['best_val']:.4f}; {args.dataset}, seed "
            f"{seed}, {seconds:.1f} s)",
            flush=True,
        )
    model.eval()
    with mt.no_grad():
        hidden = model.embed(data.x, data.edge_index).numpy()
    plot(results[-1]["history"], hidden, data.y.numpy(), f"GCN on {args.dataset}", Path(args.out))
    if args.runs > 1:
        accs = np.array([r["test_acc"] for r in results])
        print(
            f"mean test accuracy over {args.runs} seeds: {accs.mean():.4f} +- "
            f"{accs.std(ddof=1):.4f} (min {accs.min():.4f}, max {accs.max():.4f})"
        )
    return results


if __name__ == "__main__":
    args = parse_args()
    with threadpool_limits(limits=args.threads):
        main(args)
