"""Train the MNIST CNN data-parallel over MPI processes with mytorch.distributed.

Every process (rank) holds a replica of the CNN of apps/mnist_cnn.py (conv 1->32 - ReLU - pool -
conv 32->64 - ReLU - pool - linear 1600->128 - ReLU - dropout - linear 128->10) wrapped in
``DistributedDataParallel``; a ``DistributedSampler`` gives each rank its share of every
global batch (``--batch-size`` is the global batch, split evenly over the ranks), and the
gradients are averaged across ranks during backward. Adam (lr 1e-3), images normalized with
MNIST's mean and std, on the 5,000-image sample bundled with mytorch-vision (4,000 train /
1,000 held-out test; ``--source auto`` downloads full MNIST when the network allows). The
test set is evaluated in shards, one per rank, and the counts summed with ``all_reduce``.
Rank 0 prints, saves the checkpoint (``--resume`` continues it, with any number of
processes) and draws curves.png; every rank's throughput is gathered and printed.

With ``--dropout 0`` the weights after N processes equal those of 1 process with the same
global batch, to float32 rounding (about 1e-6 relative); with dropout each rank draws its own
masks, so runs agree in accuracy, not bit for bit.

Expected result with the defaults (3 epochs of 62 global batches of 64 on the sample),
measured on this machine (2 CPU cores, otherwise idle; 1 BLAS thread per rank):
    1 process:   test accuracy 0.961 after 7.8-7.9 s of training (1,516-1,527 images/s)
    2 processes: test accuracy 0.966 after 4.4-4.6 s (2,611-2,730 images/s in all):
                 1.71x-1.80x the throughput of 1 process (2 alternating pairs of runs)
With other jobs on the same 2 cores (load average 15-17) the same runs gave 283-361 and
439-535 images/s (1.33x-1.55x).
The CNN's 225,034 gradients (0.9 MB) fit in DistributedDataParallel's small first bucket,
so one allreduce per step carries them all, started at the end of backward; models larger
than 1 MiB get several buckets and overlap communication with backward.

Run (from the repository root):
    mpiexec -n 2 uv run apps/mnist_ddp.py              # 2 processes (mpiexec from the venv)
    uv run mpiexec -n 2 python apps/mnist_ddp.py       # the same, uv first
    uv run apps/mnist_ddp.py                           # 1 process, no mpiexec needed
    mpiexec -n 2 uv run apps/mnist_ddp.py --epochs 5 --resume   # continue a stopped run
    uv run apps/mnist_ddp.py --help                    # every option
(``mpiexec`` is ``.venv/bin/mpiexec`` after ``uv sync``; activate the venv or spell the path.)

Writes to ``--out`` (default runs/mnist_ddp): checkpoint.safetensors and curves.png (loss and
accuracy per epoch, with the throughput in the title).
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import tyro
from threadpoolctl import threadpool_limits
from tqdm import tqdm

import mytorch.core as mt
import mytorch.core.functional as F
import mytorch.distributed as dist
import mytorch.nn as nn
from mytorch.core import optim
from mytorch.core.data import DataLoader, TensorDataset
from mytorch.vision.datasets import MNIST


@dataclass
class Args:
    seed: int = 0  # seeds the initial weights, the data order and dropout
    epochs: int = 3  # epochs to train in all
    batch_size: int = 64  # global images per optimizer step, split evenly over the ranks
    optimizer: Literal["adam", "momentum"] = "adam"  # adam (lr 1e-3) | momentum (SGD 0.9, lr 0.05)
    lr: float = 0.0  # learning rate; 0 = the optimizer's default above
    channels: tuple[int, int] = (32, 64)  # filters of the two convs
    hidden: int = 128  # width of the hidden fully connected layer
    dropout: float = 0.5  # dropout before the last layer (0: runs match 1 process exactly)
    bucket_cap_mb: float = 25.0  # DistributedDataParallel's gradient bucket size
    source: Literal["sample", "auto", "download"] = "sample"  # sample: bundled 4,000/1,000 images
    data_root: str = ""  # dataset cache directory; "" = $MYTORCH_DATA or the user cache dir
    out: str = "runs/mnist_ddp"  # where rank 0 writes the checkpoint and the figure
    resume: bool = False  # continue from <out>/checkpoint.safetensors (any number of ranks)
    max_batches: int = 0  # stop each epoch after this many global batches (0 = all)
    threads: int = 1  # BLAS threads per rank; keep ranks x threads <= cores


LEARNING_RATES = {"adam": 1e-3, "momentum": 0.05}
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
DESCRIPTION = __doc__.splitlines()[0]
CLI = (tyro.conf.FlagCreatePairsOff,)  # a bool gets one flag: --resume, not also --no-resume


def parse_args(argv: list[str] | None = None) -> Args:
    """``Args`` from the command line (``--help`` lists every flag with its default)."""
    return tyro.cli(Args, args=argv, description=DESCRIPTION, config=CLI)


def stop_if_diverged(
    loss: float | None, last: float | None, where: str, model: nn.Module | None = None
) -> float | None:
    """``loss`` when it (and ``model``'s weights, if given) is finite; else the run ends here
    with a message, before the diverged weights are stepped on or saved. Every rank gets the
    same ``loss`` (averaged over the ranks) and the same weights, so all ranks stop together."""
    if loss is not None and not math.isfinite(loss):
        what = f"the training loss became {loss}"
    elif model is not None and not all(mt.isfinite(p).all().item() for p in model.parameters()):
        what = "the weights became NaN or infinite"
    else:
        return loss
    before = f"last finite loss {last:.4f}" if last is not None else "no finite loss before it"
    sys.exit(
        f"error: {what} at {where} ({before}); stopped without saving a checkpoint of these weights "
        "(try a smaller --lr)"
    )


def load_mnist(args: Args, train: bool) -> tuple[mt.Tensor, mt.Tensor]:
    """Normalized images (N, 1, 28, 28) float32 and labels (N,) int64."""
    ds = MNIST(root=args.data_root or None, train=train, download=True, source=args.source)
    x = ds.data.reshape(len(ds), 1, 28, 28).float() / 255.0  # (N, 1, 28, 28) in [0, 1]
    return (x - MNIST_MEAN) / MNIST_STD, ds.targets


def make_model(args: Args) -> nn.Sequential:
    c1, c2 = args.channels
    layers = [
        nn.Conv2d(1, c1, 3),  # (B, c1, 26, 26)
        nn.ReLU(),
        nn.MaxPool2d(2),  # (B, c1, 13, 13)
        nn.Conv2d(c1, c2, 3),  # (B, c2, 11, 11)
        nn.ReLU(),
        nn.MaxPool2d(2),  # (B, c2, 5, 5)
        nn.Flatten(),  # (B, c2 * 25)
        nn.Linear(c2 * 25, args.hidden),
        nn.ReLU(),
    ]
    if args.dropout > 0:
        layers.append(nn.Dropout(args.dropout))
    layers.append(nn.Linear(args.hidden, 10))
    return nn.Sequential(*layers)


@mt.no_grad()
def evaluate(model: nn.Module, x: mt.Tensor, y: mt.Tensor) -> tuple[float, float]:
    """Test loss and accuracy over all ranks: each rank evaluates its shard, sums all_reduce'd."""
    rank, world = dist.get_rank(), dist.get_world_size()
    model.eval()
    shard = slice(rank * len(x) // world, (rank + 1) * len(x) // world)
    logits = model(x[shard])  # (n_shard, 10)
    totals = mt.tensor(
        [
            F.cross_entropy(logits, y[shard], reduction="sum").item(),
            (logits.argmax(dim=1) == y[shard]).sum().item(),
        ],
        dtype=mt.float64,
    )
    dist.all_reduce(totals)  # (loss sum, correct) over the whole test set
    model.train()
    return totals[0].item() / len(x), totals[1].item() / len(x)


def save_curves(history: dict, title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = range(1, len(history["train_loss"]) + 1)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, metric in zip(axes, ("loss", "acc")):
        ax.plot(epochs, history[f"train_{metric}"], "o-", label="train (rank 0's shard)")
        ax.plot(epochs, history[f"test_{metric}"], "o-", label="test")
        ax.set(xlabel="epoch", ylabel={"loss": "cross-entropy", "acc": "accuracy"}[metric])
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> None:
    args = parse_args()
    threadpool_limits(limits=args.threads)
    dist.init_process_group(backend="mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    lead = rank == 0
    if args.batch_size % world:
        raise ValueError(
            f"--batch-size {args.batch_size} must be divisible by the number of processes {world}"
        )
    out = Path(args.out)
    checkpoint_path = out / "checkpoint.safetensors"
    if lead:
        out.mkdir(parents=True, exist_ok=True)

    x_train, y_train = load_mnist(args, train=True)
    x_test, y_test = load_mnist(args, train=False)
    dataset = TensorDataset(x_train, y_train)
    # every global batch is split over the ranks: drop_last keeps the shares equal
    sampler = dist.DistributedSampler(dataset, shuffle=True, seed=args.seed, drop_last=True)
    per_rank = args.batch_size // world
    loader = DataLoader(dataset, batch_size=per_rank, sampler=sampler, drop_last=True)
    n_batches = min(len(loader), args.max_batches or len(loader))

    mt.manual_seed(args.seed)  # rank 0's initial weights are broadcast to every rank
    model = dist.DistributedDataParallel(make_model(args), bucket_cap_mb=args.bucket_cap_mb)
    lr = args.lr or LEARNING_RATES[args.optimizer]
    if args.optimizer == "adam":
        optimizer = optim.Adam(model.parameters(), lr=lr)
    else:
        optimizer = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    history = {"train_loss": [], "train_acc": [], "test_loss": [], "test_acc": []}
    start_epoch = 0
    if args.resume and checkpoint_path.exists():
        checkpoint = dist.load_checkpoint(checkpoint_path)  # read by rank 0, sent to all
        model.module.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        history, start_epoch = checkpoint["history"], checkpoint["epoch"]
        if lead:
            print(f"resumed from {checkpoint_path} after epoch {start_epoch}")
    if lead:
        n_params = sum(p.numel() for p in model.parameters())
        print(
            f"{world} process(es), {per_rank} images per rank per step (global batch "
            f"{args.batch_size}), {len(x_train)} train / {len(x_test)} test images, "
            f"{n_params:,} parameters in {len(model.bucket_sizes)} gradient bucket(s)"
        )

    train_seconds, images, last_loss = 0.0, 0, None
    for epoch in range(start_epoch, args.epochs):
        sampler.set_epoch(epoch)  # a new order, the same on every rank
        mt.manual_seed(args.seed * 100_003 + epoch * 1_009 + rank)  # this rank's dropout masks
        dist.barrier()  # start the clock together
        epoch_start = time.perf_counter()
        loss_sum, correct, seen = 0.0, 0, 0
        bar = tqdm(loader, total=n_batches, desc=f"epoch {epoch + 1}", disable=not lead or None)
        for i, (xb, yb) in enumerate(bar):  # xb (per_rank, 1, 28, 28), yb (per_rank,)
            if i == n_batches:
                break
            logits = model(xb)  # (per_rank, 10)
            loss = F.cross_entropy(logits, yb)
            mean_loss = mt.tensor([loss.item()], dtype=mt.float64)
            dist.all_reduce(mean_loss, op=dist.ReduceOp.AVG)  # non-finite on any rank: on all
            last_loss = stop_if_diverged(
                mean_loss.item(), last_loss, f"epoch {epoch + 1}, step {i + 1}"
            )
            optimizer.zero_grad()
            loss.backward()  # gradients averaged over the ranks, bucket by bucket
            optimizer.step()
            loss_sum += loss.item() * len(yb)
            correct += (logits.argmax(dim=1) == yb).sum().item()
            seen += len(yb)
        bar.close()
        seconds = time.perf_counter() - epoch_start
        train_seconds += seconds
        images += seen
        test_loss, test_acc = evaluate(model, x_test, y_test)
        for key, value in (
            ("train_loss", loss_sum / seen),
            ("train_acc", correct / seen),
            ("test_loss", test_loss),
            ("test_acc", test_acc),
        ):
            history[key].append(value)
        if lead:
            print(
                f"epoch {epoch + 1:3d}/{args.epochs}  train loss {loss_sum / seen:.4f} "
                f"(rank 0)  test loss {test_loss:.4f} acc {test_acc:.4f}  {seconds:.1f} s"
            )
        stop_if_diverged(last_loss, last_loss, f"the end of epoch {epoch + 1}", model)
        state = {
            "model": model.module.state_dict(),
            "optimizer": optimizer.state_dict(),
            "epoch": epoch + 1,
            "history": history,
            "args": dataclasses.asdict(args),
        }
        dist.save_checkpoint(state, checkpoint_path)  # rank 0 writes; everyone waits

    # throughput: each rank's images per second of training, and the whole job's
    mine = mt.tensor([images / train_seconds if train_seconds else 0.0], dtype=mt.float64)
    rates = mt.zeros(world, dtype=mt.float64)
    dist.all_gather_into_tensor(rates, mine)
    if lead:
        per_rank_rates = rates.numpy()
        title = (
            f"MNIST CNN on {world} process(es): {per_rank_rates.sum():,.0f} img/s "
            f"({', '.join(f'{r:,.0f}' for r in per_rank_rates)} per rank)"
        )
        if history["test_acc"]:
            save_curves(history, title, out / "curves.png")
        for r, rate in enumerate(per_rank_rates):
            print(f"rank {r}: {rate:,.0f} images/s")
        print(f"global throughput: {per_rank_rates.sum():,.0f} images/s on {world} process(es)")
        acc = history["test_acc"][-1] if history["test_acc"] else float("nan")
        print(f"figure: {out / 'curves.png'}; checkpoint: {checkpoint_path}")
        print(f"test accuracy: {acc:.4f} ({world} processes, {train_seconds:.1f} s of training)")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
