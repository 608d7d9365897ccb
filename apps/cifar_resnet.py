"""Train a CIFAR ResNet-20 on CIFAR-10 with mytorch and plot the results.

The model is He et al.'s ResNet-20 for CIFAR (``mytorch.vision.models.resnet20``: 3x3 convs with
BatchNorm in three stages of 16, 32 and 64 filters, parameter-free "option A" shortcuts, 269,722
parameters), trained with SGD (momentum 0.9, weight decay 1e-4, batch 128) from lr 0.1 down a
cosine schedule, on images augmented with a random crop (padding 4) and a horizontal flip,
done for the whole batch at once, and normalized with CIFAR-10's per-channel mean and std. After
each epoch it evaluates on the test set and saves a checkpoint; ``--resume`` continues a stopped
run and ends with exactly the weights an uninterrupted run would have (with a larger
``--epochs`` it re-plans the cosine for the longer run). At the end it draws the curves and the
test set's confusion matrix.

Data: CIFAR-10 (50,000 train / 10,000 test) is downloaded (the binary version, 162 MB) and
cached on first use. When the download fails the run says so in one line (the cause and where to
place the archive; the failure is remembered for 10 minutes) and switches to
``CIFAR10.synthetic`` data (class colour patterns blended with noise, generated offline), so the
file always runs; ``--synthetic`` picks that data on purpose (a smoke test, not a benchmark).

Expected result with the defaults (``--epochs 0`` means 180 epochs on CIFAR-10, 4 on synthetic
data), on 2 CPU cores at 65-80 training images/s when they are not shared (1.6-1.9 s per batch
of 128 with 2 or 1 BLAS threads, where PyTorch takes 0.4-0.6 s):
    CIFAR-10:    test accuracy about 0.91-0.92 (He et al. report 91.25% for ResNet-20 with
                 this recipe and a step schedule) in about 1.7 days: 11-13 minutes per epoch
                 of 391 batches plus about 1 minute of testing. Both figures are estimates,
                 from the measured per-batch throughput and the published result: CIFAR-10
                 could not be downloaded where these numbers were measured, and the full run
                 was not made. ``--epochs 30`` takes about 7 hours.
    synthetic:   test accuracy 1.0 on 500 synthetic test images after 4 epochs of 1,280
                 images, in 2-4 minutes: 239 s measured (32-97 s per epoch, 13-40 images/s)
                 while other jobs crowded this machine's 2 cores (load average 14-16), about
                 2-3 minutes in earlier measurements on a quieter machine (test accuracy
                 trails the training accuracy for the first epochs, while BatchNorm's running
                 statistics catch up with lr 0.1)
BLAS runs on one thread by default (``--threads``): on a machine busy with other work, more
threads can be up to 10x slower (OpenBLAS's worker threads wait for a busy core).

Run:
    uv run apps/cifar_resnet.py                               # CIFAR-10, or synthetic offline
    uv run apps/cifar_resnet.py --synthetic --epochs 2        # offline smoke run
    uv run apps/cifar_resnet.py --resume                      # continue a stopped run
    uv run apps/cifar_resnet.py --epochs 200 --resume         # train a finished run on to 200
    uv run apps/cifar_resnet.py --help                        # every option

Writes to ``--out`` (default runs/cifar_resnet): checkpoint.safetensors (model, optimizer,
schedule, epoch, history, random state), curves.png (loss, accuracy and learning rate per
epoch) and confusion.png (test set).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tyro
from threadpoolctl import threadpool_limits
from tqdm import tqdm

import mytorch.core as mt
import mytorch.core.functional as F
import mytorch.nn as nn
from mytorch.core import optim
from mytorch.core.data import DataLoader, TensorDataset
from mytorch.core.data.download import DownloadError
from mytorch.vision.datasets import CIFAR10, default_root
from mytorch.vision.models import resnet20
from mytorch.vision.transforms import random_crop_flip_batch


@dataclass
class Args:
    seed: int = 0  # seeds the initial weights, the order of the training data and augmentation
    epochs: int = 0  # epochs to train in all; 0 = auto: 180 on CIFAR-10, 4 on synthetic data
    batch_size: int = 128  # images per optimizer step
    lr: float = 0.1  # peak learning rate of SGD
    momentum: float = 0.9  # SGD momentum
    weight_decay: float = 1e-4  # L2 penalty on every parameter (5e-4 is the other usual value)
    warmup: int = 0  # epochs of linear lr warm-up from lr/10 before the cosine decay
    augment: bool = True  # random crop (padding 4) and flip of every training image
    synthetic: bool = False  # use CIFAR10.synthetic data (offline); the fallback when offline
    synthetic_size: tuple[int, int] = (1280, 500)  # train and test images of synthetic data
    data_root: str = ""  # dataset cache directory; "" = $MYTORCH_DATA or the user cache dir
    out: str = "runs/cifar_resnet"  # where the checkpoint and figures go
    resume: bool = False  # continue from <out>/checkpoint.safetensors if it exists
    max_batches: int = 0  # stop each epoch after this many batches (0 = all); for quick checks
    threads: int = 1  # BLAS threads; 1 avoids a spinning thread pool slowing down a busy CPU


DESCRIPTION = __doc__.splitlines()[0]
CLI = (tyro.conf.FlagCreatePairsOff,)  # a bool gets one flag: --resume, not also --no-resume


CIFAR_MEAN = (0.4914, 0.4822, 0.4465)  # per channel, of the 50,000 training images in [0, 1]
CIFAR_STD = (0.2470, 0.2435, 0.2616)
EVAL_BATCH = 250  # images per forward pass when evaluating (bounds the im2col buffers)


def parse_args(argv: list[str] | None = None) -> Args:
    """``Args`` from the command line (``--help`` lists every flag with its default)."""
    return tyro.cli(Args, args=argv, description=DESCRIPTION, config=CLI)


def stop_if_diverged(
    loss: float | None, last: float | None, where: str, model: nn.Module | None = None
) -> float | None:
    """``loss`` when it (and ``model``'s weights, if given) is finite; else the run ends here
    with a message, before the diverged weights are stepped on or saved."""
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


def load_cifar(args: Args) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    """uint8 images (N, 3, 32, 32) and int64 labels (N,) of both splits, and the data source.

    CIFAR-10 when it can be loaded, else (or with ``--synthetic``) ``CIFAR10.synthetic`` data.
    """
    if not args.synthetic:
        try:
            root = args.data_root or None
            train = CIFAR10(root, train=True, download=True)
            test = CIFAR10(root, train=False, download=True)
            return (*train.arrays(channels_first=True), *test.arrays(channels_first=True), "full")
        except DownloadError as e:  # one line: the cause, what is used instead, where files go
            print(
                f"warning: {str(e).splitlines()[0]}. Using synthetic data instead: its accuracy "
                f"says nothing about CIFAR-10. To use CIFAR-10, place {CIFAR10.filename} in "
                f"{args.data_root or default_root()}, or pass --synthetic to use synthetic data "
                "on purpose.",
                file=sys.stderr,
                flush=True,
            )
    n_train, n_test = args.synthetic_size
    train = CIFAR10.synthetic(n_train, seed=args.seed, train=True)
    test = CIFAR10.synthetic(n_test, seed=args.seed, train=False)
    return (*train.arrays(channels_first=True), *test.arrays(channels_first=True), "synthetic")


_SCALE = (1 / (255 * np.asarray(CIFAR_STD, np.float32))).reshape(3, 1, 1)  # (3, 1, 1)
_SHIFT = (-np.asarray(CIFAR_MEAN, np.float32) / np.asarray(CIFAR_STD, np.float32)).reshape(3, 1, 1)


def normalize(images: np.ndarray) -> mt.Tensor:
    """uint8 (B, 3, 32, 32) -> float32 (B, 3, 32, 32): ToTensor and Normalize in one pass."""
    return mt.from_numpy(images * _SCALE + _SHIFT)  # float32 throughout


def make_model(args: Args) -> nn.Module:
    return resnet20(num_classes=10)


def make_scheduler(optimizer: optim.Optimizer, args: Args, epochs: int):
    """Stepped once per epoch: optional linear warm-up, then half a cosine from lr down to 0."""
    cosine = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, epochs - args.warmup))
    if args.warmup == 0:
        return cosine
    warmup = optim.lr_scheduler.LinearLR(optimizer, start_factor=0.1, total_iters=args.warmup)
    return optim.lr_scheduler.SequentialLR(optimizer, [warmup, cosine], milestones=[args.warmup])


@mt.no_grad()
def evaluate(model: nn.Module, x: np.ndarray, y: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Mean loss, accuracy and predicted labels (N,) of ``model`` on uint8 images ``x``."""
    model.eval()
    logits = mt.cat(
        [model(normalize(x[i : i + EVAL_BATCH])) for i in range(0, len(x), EVAL_BATCH)]
    )  # (N, 10)
    preds = logits.argmax(dim=1)  # (N,)
    labels = mt.from_numpy(y)
    loss = F.cross_entropy(logits, labels).item()
    return loss, (preds == labels).float().mean().item(), preds.numpy()


def save_figures(history: dict, confusion: np.ndarray, out: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only, no window
    import matplotlib.pyplot as plt

    epochs = range(1, len(history["train_loss"]) + 1)
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    for ax, metric in zip(axes, ("loss", "acc")):
        ax.plot(epochs, history[f"train_{metric}"], "o-", label="train (augmented)")
        ax.plot(epochs, history[f"test_{metric}"], "o-", label="test")
        ax.set(xlabel="epoch", ylabel={"loss": "cross-entropy", "acc": "accuracy"}[metric])
        if metric == "loss":
            ax.set_yscale("log")  # early test losses can be far above the training loss
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
        ax.legend()
    axes[2].plot(epochs, history["lr"], "o-")
    axes[2].set(xlabel="epoch", ylabel="learning rate")
    axes[2].xaxis.get_major_locator().set_params(integer=True)
    axes[2].grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out / "curves.png", dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7.5, 6.5))
    ax.imshow(confusion, cmap="Blues")
    for (true, pred), count in np.ndenumerate(confusion):
        color = "white" if count > confusion.max() / 2 else "black"
        ax.text(pred, true, str(count), ha="center", va="center", color=color, fontsize=8)
    ax.set_xticks(range(10), CIFAR10.classes, rotation=45, ha="right")
    ax.set_yticks(range(10), CIFAR10.classes)
    ax.set(xlabel="predicted", ylabel="true")
    ax.set_title(f"test confusion matrix ({confusion.trace() / confusion.sum():.2%} correct)")
    fig.tight_layout()
    fig.savefig(out / "confusion.png", dpi=100)
    plt.close(fig)


def replan_cosine(scheduler, args: Args, epochs: int) -> None:
    """Re-plan the schedule for ``epochs`` epochs in all: from the current epoch on, the lr is
    what a run planned that long from the start has (the warm-up is unchanged)."""
    cosine = scheduler._schedulers[-1] if args.warmup else scheduler  # (SequentialLR's parts)
    cosine.T_max = max(1, epochs - args.warmup)
    t = scheduler.last_epoch - args.warmup  # epochs done after the warm-up
    if t >= 0:
        for group, base in zip(cosine.optimizer.param_groups, cosine.base_lrs):
            group["lr"] = base * (1 + math.cos(math.pi * t / cosine.T_max)) / 2


def main() -> None:
    args = parse_args()
    threadpool_limits(limits=args.threads)
    start_time = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    checkpoint_path = out / "checkpoint.safetensors"

    # Seeding: the global generator drives weight init; the loader's and the augmentation's own
    # generators are reseeded from (seed, epoch) each epoch, so a resumed run sees the same
    # batches with the same crops and flips.
    mt.manual_seed(args.seed)
    np.random.seed(args.seed)
    loader_rng = mt.Generator(args.seed)
    augment_rng = mt.Generator(args.seed)

    x_train, y_train, x_test, y_test, source = load_cifar(args)
    epochs = args.epochs or (180 if source == "full" else 4)
    print(f"data: {source} CIFAR-10, {len(x_train)} train / {len(x_test)} test images")
    loader = DataLoader(
        TensorDataset(mt.from_numpy(x_train), mt.from_numpy(y_train)),  # uint8 until augmented
        batch_size=args.batch_size,
        shuffle=True,
        generator=loader_rng,
    )
    n_batches = min(len(loader), args.max_batches or len(loader))

    model = make_model(args)
    optimizer = optim.SGD(
        model.parameters(), lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay
    )
    scheduler = make_scheduler(optimizer, args, epochs)
    n_params = sum(p.numel() for p in model.parameters())
    print(
        f"ResNet-20: {n_params:,} parameters; SGD lr {args.lr:g} momentum {args.momentum:g} "
        f"weight decay {args.weight_decay:g}, cosine schedule over {epochs} epochs"
        + (f" after {args.warmup} warm-up epochs" if args.warmup else "")
    )

    history = {
        "train_loss": [],
        "train_acc": [],
        "test_loss": [],
        "test_acc": [],
        "lr": [],
        "seconds": [],
    }
    start_epoch = 0
    if args.resume and checkpoint_path.exists():
        checkpoint = nn.load(checkpoint_path)
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        scheduler.load_state_dict(checkpoint["scheduler"])
        if checkpoint["total_epochs"] != epochs:  # e.g. --epochs raised to train longer
            replan_cosine(scheduler, args, epochs)
            print(f"re-planned for {epochs} epochs (was {checkpoint['total_epochs']})")
        history = checkpoint["history"]
        start_epoch = checkpoint["epoch"]
        mt.set_rng_state(checkpoint["rng_state"])
        print(f"resumed from {checkpoint_path} after epoch {start_epoch}")
    elif args.resume:
        print(f"nothing to resume at {checkpoint_path}; starting from scratch")

    for epoch in range(start_epoch, epochs):
        model.train()
        loader_rng.manual_seed(args.seed * 100_003 + epoch)  # the batch order of this epoch
        augment_rng.manual_seed(args.seed * 100_003 + epoch + 50_000)  # its crops and flips
        lr = optimizer.param_groups[0]["lr"]
        epoch_start = time.perf_counter()
        loss_sum, correct, seen, last_loss = 0.0, 0, 0, None
        batches = itertools.islice(loader, n_batches)
        # a live bar on a terminal (none when the output goes to a file or a pipe)
        bar = tqdm(batches, total=n_batches, desc=f"epoch {epoch + 1}", leave=False, disable=None)
        for i, (xb, yb) in enumerate(bar):  # xb (B, 3, 32, 32) uint8, yb (B,)
            images = xb.numpy()
            if args.augment:  # pad 4 with black, crop 32x32, flip half: one vectorized call
                images = random_crop_flip_batch(images, padding=4, generator=augment_rng)
            logits = model(normalize(images))  # (B, 10)
            loss = F.cross_entropy(logits, yb)
            last_loss = stop_if_diverged(loss.item(), last_loss, f"epoch {epoch + 1}, step {i + 1}")
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

            loss_sum += last_loss * len(yb)
            correct += (logits.argmax(dim=1) == yb).sum().item()
            seen += len(yb)
            bar.set_postfix(loss=f"{loss_sum / seen:.4f}", acc=f"{correct / seen:.4f}")
        bar.close()
        scheduler.step()
        seconds = time.perf_counter() - epoch_start

        test_loss, test_acc, _ = evaluate(model, x_test, y_test)
        stats = {
            "train_loss": loss_sum / seen,
            "train_acc": correct / seen,
            "test_loss": test_loss,
            "test_acc": test_acc,
            "lr": lr,
            "seconds": seconds,
        }
        for key, value in stats.items():
            history[key].append(value)
        print(
            f"epoch {epoch + 1:3d}/{epochs}  lr {lr:.4f}"
            f"  train loss {stats['train_loss']:.4f} acc {stats['train_acc']:.4f}"
            f"  test loss {test_loss:.4f} acc {test_acc:.4f}"
            f"  {seconds:.1f} s ({seen / seconds:,.0f} img/s)",
            flush=True,
        )

        stop_if_diverged(last_loss, last_loss, f"the end of epoch {epoch + 1}", model)
        state = {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "epoch": epoch + 1,
            "total_epochs": epochs,
            "history": history,
            "rng_state": mt.get_rng_state(),
            "args": dataclasses.asdict(args),
        }
        nn.save(state, checkpoint_path)  # atomic: an interrupted save keeps the previous one

    test_loss, test_acc, preds = evaluate(model, x_test, y_test)
    confusion = F.confusion_matrix(mt.from_numpy(preds), mt.from_numpy(y_test), num_classes=10)
    title = f"ResNet-20 on {'CIFAR-10' if source == 'full' else 'synthetic CIFAR-10-like data'}"
    save_figures(history, confusion.numpy(), out, title)
    print(f"figures: {out / 'curves.png'}, {out / 'confusion.png'}; checkpoint: {checkpoint_path}")
    sizes = f"{len(x_train)} train / {len(x_test)} test"
    seconds = time.perf_counter() - start_time
    print(f"test accuracy: {test_acc:.4f} (source: {source}, {sizes}, {seconds:.1f} s)")


if __name__ == "__main__":
    main()
