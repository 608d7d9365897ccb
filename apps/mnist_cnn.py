"""Train a small convolutional network on MNIST digits with mytorch and plot the results.

The model is conv(1->32, 3x3) - ReLU - max-pool 2 - conv(32->64, 3x3) - ReLU - max-pool 2 -
linear(1600->128) - ReLU - dropout 0.5 - linear(128->10) (``--channels``, ``--hidden``,
``--dropout``; ``--batchnorm`` adds BatchNorm after each convolution), trained with Adam (lr 1e-3,
batch 64) and a cosine learning-rate schedule on images scaled to [0, 1] and normalized with
MNIST's mean and std. After each epoch it evaluates on the test set and saves a checkpoint;
``--resume`` continues a stopped run and ends with exactly the weights an uninterrupted run
would have (with a larger ``--epochs`` it re-plans the cosine for the longer run). At the end it draws the curves, the test set's confusion matrix and a grid of the
misclassified test digits.

Data: full MNIST (60,000 train / 10,000 test) is downloaded and cached on first use. Without
network access the run falls back, with a one-line warning, to the 5,000-image sample bundled
with mytorch-vision (4,000 train / 1,000 held-out test images; ``--source sample`` picks it on
purpose). The failed download costs well under a second and is remembered for 10 minutes.

Expected result with the defaults (``--epochs 0`` means 12 epochs on full MNIST, 8 on the
sample), on this machine's 2 CPU cores:
    sample:      test accuracy 0.973-0.976 over seeds 0-4 on the 1,000 held-out images (0.975
                 for seed 0), in 25 s to 2.5 minutes: 153 s measured (8.6-28 s per epoch,
                 140-470 training images/s) while other jobs shared the 2 cores (load average
                 8-12), about 25 s (1,700 images/s) in an earlier measurement on a quiet machine;
                 ``--batchnorm`` gave 0.975 in about 35 s on the quiet machine
    full MNIST:  test accuracy about 0.991-0.993 in 8-60 minutes (35 s to 5 minutes per epoch
                 of 938 batches); the time is extrapolated from the sample's throughput and the
                 accuracy is what this recipe typically reaches, as full MNIST could not be
                 downloaded where these numbers were measured
BLAS runs on one thread by default (``--threads``): on a machine busy with other work, more
threads can be up to 10x slower (OpenBLAS's worker threads wait for a busy core); on this
model one thread costs nothing.

Run:
    uv run apps/mnist_cnn.py                                  # defaults
    uv run apps/mnist_cnn.py --epochs 3 --batchnorm --optimizer momentum --lr 0.05
    uv run apps/mnist_cnn.py --resume                         # continue a stopped run
    uv run apps/mnist_cnn.py --epochs 20 --resume             # train a finished run on to 20
    uv run apps/mnist_cnn.py --help                           # every option

Writes to ``--out`` (default runs/mnist_cnn): checkpoint.safetensors (model, optimizer, schedule,
epoch, history, random state), curves.png (loss and accuracy per epoch), confusion.png (test set)
and misclassified.png (test digits the model gets wrong, most confident mistakes first).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import tyro
from threadpoolctl import threadpool_limits
from tqdm import tqdm

import mytorch.core as mt
import mytorch.core.functional as F
import mytorch.nn as nn
from mytorch.core import optim
from mytorch.core.data import DataLoader, TensorDataset
from mytorch.energy import energy_line
from mytorch.energy.carbon import CarbonTracker
from mytorch.vision.datasets import MNIST


@dataclass
class Args:
    seed: int = 0  # seeds the initial weights, dropout and the order of the training data
    epochs: int = 0  # epochs to train in all; 0 = auto: 12 on full MNIST, 8 on the sample
    batch_size: int = 64  # images per optimizer step
    optimizer: Literal["sgd", "momentum", "adam"] = "adam"  # momentum: SGD, momentum 0.9
    lr: float = 0.0  # peak learning rate; 0 = sgd 0.1, momentum 0.05, adam 0.001
    schedule: Literal["cosine", "constant"] = "cosine"  # lr over the epochs (cosine: down to 0)
    channels: tuple[int, int] = (32, 64)  # filters of the two convolutions
    hidden: int = 128  # width of the hidden fully connected layer
    dropout: float = 0.5  # dropout probability before the last layer (0 = no dropout)
    batchnorm: bool = False  # BatchNorm2d after each convolution
    source: Literal["auto", "download", "sample"] = "auto"  # auto: download, else the sample
    data_root: str = ""  # dataset cache directory; "" = $MYTORCH_DATA or the user cache dir
    out: str = "runs/mnist_cnn"  # where the checkpoint and figures go
    resume: bool = False  # continue from <out>/checkpoint.safetensors if it exists
    max_batches: int = 0  # stop each epoch after this many batches (0 = all); for quick checks
    threads: int = 1  # BLAS threads; 1 avoids a spinning thread pool slowing down a busy CPU


DESCRIPTION = __doc__.splitlines()[0]
CLI = (tyro.conf.FlagCreatePairsOff,)  # a bool gets one flag: --resume, not also --no-resume


OPTIMIZERS = {
    "sgd": optim.SGD,
    "momentum": optim.Momentum,  # SGD with momentum 0.9
    "adam": optim.Adam,
}
LEARNING_RATES = {"sgd": 0.1, "momentum": 0.05, "adam": 1e-3}
SCHEDULES = ("cosine", "constant")
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081  # of the 60,000 training images' pixels scaled to [0, 1]
EVAL_BATCH = 500  # images per forward pass when evaluating (bounds the im2col buffers)


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


def load_mnist(args: Args, train: bool, source: str) -> tuple[mt.Tensor, mt.Tensor, str]:
    """Images as normalized float32 (N, 1, 28, 28), labels (N,) int64, and the data source."""
    ds = MNIST(root=args.data_root or None, train=train, download=True, source=source)
    # ToTensor + Normalize, done once on the whole array instead of once per image
    x = ds.data.reshape(len(ds), 1, 28, 28).float() / 255.0  # (N, 1, 28, 28) in [0, 1]
    x = (x - MNIST_MEAN) / MNIST_STD
    return x, ds.targets, ds.source


def make_model(args: Args) -> nn.Sequential:
    """The CNN; layers keep PyTorch's default initialization."""
    c1, c2 = args.channels
    side = ((28 - 2) // 2 - 2) // 2  # 28 -conv3-> 26 -pool-> 13 -conv3-> 11 -pool-> 5

    def conv_block(c_in: int, c_out: int) -> list[nn.Module]:
        norm = [nn.BatchNorm2d(c_out)] if args.batchnorm else []
        # a bias before BatchNorm is cancelled by its mean subtraction
        return [nn.Conv2d(c_in, c_out, 3, bias=not args.batchnorm), *norm, nn.ReLU()]

    layers = [
        *conv_block(1, c1),  # (B, c1, 26, 26)
        nn.MaxPool2d(2),  # (B, c1, 13, 13)
        *conv_block(c1, c2),  # (B, c2, 11, 11)
        nn.MaxPool2d(2),  # (B, c2, 5, 5)
        nn.Flatten(),  # (B, c2 * 25)
        nn.Linear(c2 * side * side, args.hidden),
        nn.ReLU(),
    ]
    if args.dropout > 0:
        layers.append(nn.Dropout(args.dropout))
    layers.append(nn.Linear(args.hidden, 10))  # logits; cross_entropy applies the softmax
    return nn.Sequential(*layers)


@mt.no_grad()
def evaluate(
    model: nn.Module, x: mt.Tensor, y: mt.Tensor
) -> tuple[float, float, mt.Tensor, mt.Tensor]:
    """Mean loss, accuracy, predicted labels (N,) and their probabilities (N,) on ``(x, y)``."""
    model.eval()
    logits = mt.cat([model(x[i : i + EVAL_BATCH]) for i in range(0, len(x), EVAL_BATCH)])
    probs, preds = F.softmax(logits, dim=1).max(dim=1)  # (N,), (N,)
    loss = F.cross_entropy(logits, y).item()
    return loss, (preds == y).float().mean().item(), preds, probs


def save_figures(
    history: dict,
    confusion: np.ndarray,
    wrong: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    out: Path,
) -> None:
    """curves.png, confusion.png and misclassified.png; ``wrong`` is (images, true, pred, prob)."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no window
    import matplotlib.pyplot as plt

    epochs = range(1, len(history["train_loss"]) + 1)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, metric in zip(axes, ("loss", "acc")):
        ax.plot(epochs, history[f"train_{metric}"], "o-", label="train")
        ax.plot(epochs, history[f"test_{metric}"], "o-", label="test")
        ax.set(xlabel="epoch", ylabel={"loss": "cross-entropy", "acc": "accuracy"}[metric])
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle("CNN on MNIST")
    fig.tight_layout()
    fig.savefig(out / "curves.png", dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 5.5))
    ax.imshow(confusion, cmap="Blues")
    for (true, pred), count in np.ndenumerate(confusion):
        color = "white" if count > confusion.max() / 2 else "black"
        ax.text(pred, true, str(count), ha="center", va="center", color=color, fontsize=8)
    ax.set(xticks=range(10), yticks=range(10), xlabel="predicted", ylabel="true")
    ax.set_title(f"test confusion matrix ({confusion.trace() / confusion.sum():.2%} correct)")
    fig.tight_layout()
    fig.savefig(out / "confusion.png", dpi=100)
    plt.close(fig)

    images, true, pred, prob = wrong
    cols = 8
    rows = max(1, -(-len(images) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.3, rows * 1.5 + 0.4), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, img, t, p, q in zip(axes.flat, images, true, pred, prob):
        ax.imshow(img, cmap="gray_r")
        ax.set_title(f"true {t}, pred {p}\n({q:.0%})", fontsize=8, color="firebrick")
    title = f"{len(images)} misclassified test digits, most confident mistakes first"
    fig.suptitle(title if len(images) else "no misclassified test digits", fontsize=10)
    fig.tight_layout()
    fig.savefig(out / "misclassified.png", dpi=100)
    plt.close(fig)


def replan_cosine(scheduler, T_max: int) -> None:
    """Re-plan a cosine schedule to end after ``T_max`` epochs: from the current epoch on, the lr
    is what a run planned for ``T_max`` epochs from the start has (no-op for other schedules)."""
    if isinstance(scheduler, optim.lr_scheduler.CosineAnnealingLR):
        scheduler.T_max = T_max
        t = scheduler.last_epoch  # epochs done
        for group, base in zip(scheduler.optimizer.param_groups, scheduler.base_lrs):
            group["lr"] = base * (1 + math.cos(math.pi * t / T_max)) / 2


def main() -> None:
    args = parse_args()
    threadpool_limits(limits=args.threads)
    start_time = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    checkpoint_path = out / "checkpoint.safetensors"

    # Seeding: the global generator drives weight init and dropout; the loader's own generator
    # is reseeded from (seed, epoch) each epoch, so a resumed run sees the same batches.
    mt.manual_seed(args.seed)
    np.random.seed(args.seed)
    loader_rng = mt.Generator(args.seed)  # reseeded at the start of every epoch

    # Data. The test split must come from where the training split came from (the sample's
    # test images are part of full MNIST's training set).
    x_train, y_train, source = load_mnist(args, train=True, source=args.source)
    test_source = "sample" if source == "sample" else "download"
    x_test, y_test, _ = load_mnist(args, train=False, source=test_source)
    epochs = args.epochs or (12 if source == "full" else 8)
    print(f"data: {source} MNIST, {len(x_train)} train / {len(x_test)} test images")
    loader = DataLoader(
        TensorDataset(x_train, y_train),  # batches are gathered by one fancy index each
        batch_size=args.batch_size,
        shuffle=True,
        generator=loader_rng,
    )
    n_batches = min(len(loader), args.max_batches or len(loader))

    model = make_model(args)
    optimizer = OPTIMIZERS[args.optimizer](
        model.parameters(), lr=args.lr or LEARNING_RATES[args.optimizer]
    )
    # stepped once per epoch: "cosine" lowers the lr along half a cosine from its peak to 0
    if args.schedule == "cosine":
        scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    else:
        scheduler = optim.lr_scheduler.ConstantLR(optimizer, factor=1.0)  # keeps the lr
    print(model)
    n_params = sum(p.numel() for p in model.parameters())
    lr = optimizer.param_groups[0]["lr"]
    print(f"{n_params:,} parameters, {type(optimizer).__name__} lr {lr:g}, {args.schedule}")

    history = {"train_loss": [], "train_acc": [], "test_loss": [], "test_acc": [], "seconds": []}
    start_epoch = 0
    if args.resume and checkpoint_path.exists():
        checkpoint = nn.load(checkpoint_path)
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        scheduler.load_state_dict(checkpoint["scheduler"])
        if checkpoint["total_epochs"] != epochs:  # e.g. --epochs raised to train longer
            replan_cosine(scheduler, epochs)
            print(f"re-planned for {epochs} epochs (was {checkpoint['total_epochs']})")
        history = checkpoint["history"]
        start_epoch = checkpoint["epoch"]
        mt.set_rng_state(checkpoint["rng_state"])
        print(f"resumed from {checkpoint_path} after epoch {start_epoch}")
    elif args.resume:
        print(f"nothing to resume at {checkpoint_path}; starting from scratch")

    carbon = CarbonTracker().start()  # RAPL counters when readable, else a CPU power model
    for epoch in range(start_epoch, epochs):
        model.train()
        loader_rng.manual_seed(args.seed * 100_003 + epoch)  # the batch order of this epoch
        epoch_start = time.perf_counter()
        loss_sum, correct, seen, last_loss = 0.0, 0, 0, None
        batches = itertools.islice(loader, n_batches)
        # a live bar on a terminal (none when the output goes to a file or a pipe)
        bar = tqdm(batches, total=n_batches, desc=f"epoch {epoch + 1}", leave=False, disable=None)
        for i, (xb, yb) in enumerate(bar):  # xb (B, 1, 28, 28), yb (B,)
            logits = model(xb)  # (B, 10)
            loss = F.cross_entropy(logits, yb)
            last_loss = stop_if_diverged(loss.item(), last_loss, f"epoch {epoch + 1}, step {i + 1}")
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

            loss_sum += last_loss * len(yb)
            correct += (logits.argmax(dim=1) == yb).sum().item()
            seen += len(yb)
            if i % 10 == 0:
                bar.set_postfix(loss=f"{loss_sum / seen:.4f}", acc=f"{correct / seen:.4f}")
        bar.close()
        scheduler.step()
        seconds = time.perf_counter() - epoch_start

        test_loss, test_acc, _, _ = evaluate(model, x_test, y_test)
        stats = {
            "train_loss": loss_sum / seen,
            "train_acc": correct / seen,
            "test_loss": test_loss,
            "test_acc": test_acc,
            "seconds": seconds,
        }
        for key, value in stats.items():
            history[key].append(value)
        print(
            f"epoch {epoch + 1:3d}/{epochs}"
            f"  train loss {stats['train_loss']:.4f} acc {stats['train_acc']:.4f}"
            f"  test loss {test_loss:.4f} acc {test_acc:.4f}"
            f"  {seconds:.1f} s ({seen / seconds:,.0f} img/s)"
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

    carbon_report = carbon.stop()
    test_loss, test_acc, preds, probs = evaluate(model, x_test, y_test)
    confusion = F.confusion_matrix(preds, y_test, num_classes=10).numpy()  # (true, predicted)
    wrong = np.flatnonzero(preds.numpy() != y_test.numpy())
    wrong = wrong[np.argsort(-probs.numpy()[wrong], kind="stable")][:40]  # most confident first
    images = x_test.numpy()[wrong, 0] * MNIST_STD + MNIST_MEAN  # (K, 28, 28) back in [0, 1]
    misclassified = (images, y_test.numpy()[wrong], preds.numpy()[wrong], probs.numpy()[wrong])
    save_figures(history, confusion, misclassified, out)
    names = ", ".join(str(out / f) for f in ("curves.png", "confusion.png", "misclassified.png"))
    print(f"figures: {names}; checkpoint: {checkpoint_path}")
    sizes = f"{len(x_train)} train / {len(x_test)} test"
    seconds = time.perf_counter() - start_time
    print(f"test accuracy: {test_acc:.4f} (source: {source}, {sizes}, {seconds:.1f} s)")
    samples = min(n_batches * args.batch_size, len(x_train))
    print(energy_line(model, x_test[:256], samples_per_epoch=samples, carbon=carbon_report))


if __name__ == "__main__":
    main()
