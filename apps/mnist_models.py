"""Train models from the mytorch.vision zoo on MNIST digits and compare them in a table.

Every model is trained the same way (Adam, lr 1e-3, batch 64, cosine schedule over the epochs,
images normalized with MNIST's mean and std) and the run prints one row per model: its name,
parameters, test accuracy and seconds per training epoch. Models for 224x224 colour images are
adapted to 28x28 grayscale digits (see ``build_model``):

    lenet5               native: 28x28 input, one channel (the first conv pads by 2)
    resnet20             CIFAR ResNet-20 with in_channels=1 (global pooling takes 28x28 as is)
    resnet18             the zoo's small_input=True (3x3 stride-1 stem, no max-pool), in_channels=1
    mobilenet_v2,        the stride-2 3x3 stem conv becomes a 1-channel stride-1 3x3 conv, so
    efficientnet_b0,     the network downsamples 28x28 to 2x2 (total stride 16) instead of 1x1
    squeezenet1_1        (SqueezeNet: 28 -> 14 -> 7 -> 4 through its ceil-mode max-pools)
    shufflenet_v2_x0_5   as above, and its max-pool after the stem is removed (total stride 8)

A replaced stem conv is initialized like torchvision initializes ResNet's and MobileNet's convs
(Kaiming normal, fan-out). Any other name from ``mytorch.vision.models.list_models()`` whose
first layer is a Conv2d is adapted the same generic way.

Data: the 5,000-image sample bundled with mytorch-vision by default (4,000 train / 1,000 held-out
test images); ``--source auto`` downloads full MNIST (60,000 / 10,000) and falls back to the
sample when offline.

Expected result with the defaults (lenet5, resnet20 and shufflenet_v2_x0_5, 2 epochs each on
the sample), on this machine's 2 CPU cores, in 2.5-10 minutes: 9.5 minutes measured while other
jobs crowded the 2 cores (load average about 16), about 2.5 minutes in an earlier measurement on
a quieter machine. The accuracies were the same both times; seconds per epoch measured crowded
(quiet in brackets):

    model                  parameters  test acc   s/epoch
    lenet5                     61,706    0.8830       2.1  (0.9)
    resnet20                  269,434    0.9290     159.4  (36.4)
    shufflenet_v2_x0_5        351,610    0.7280      84.8  (31.2)

(LeNet-5's tanh and average pooling learn slowly at first; ShuffleNet's BatchNorm statistics
need more than 2 epochs). A training step on a batch of 64 takes about 0.02 s for lenet5,
0.2-0.4 s for squeezenet1_1, 0.4-0.7 s for shufflenet_v2_x0_5, 0.5-0.8 s for resnet20, 2 s for
mobilenet_v2, 3 s for efficientnet_b0 and 3.5 s for resnet18 (11M parameters at the full 28x28
resolution), so an epoch of the sample takes from 1 s to 4 minutes. On a machine busy with other
work, ``OPENBLAS_NUM_THREADS=1`` avoids slowdowns of up to 10x.

Run:
    uv run apps/mnist_models.py                                  # the quick default comparison
    uv run apps/mnist_models.py --models lenet5 resnet18 --epochs 3
    uv run apps/mnist_models.py --models mobilenet_v2 efficientnet_b0 --max-batches 20
    uv run apps/mnist_models.py --help                           # every option

Writes to ``--out`` (default runs/mnist_models): results.json (one entry per model, with its
history; ``--resume`` skips models already there with the same settings) and comparison.png
(test accuracy per epoch of every model, and accuracy against seconds per epoch).
"""

from __future__ import annotations

import itertools
import json
import math
import sys
import time
from dataclasses import dataclass, field
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
from mytorch.vision import models
from mytorch.vision.datasets import MNIST

ModelName = Literal[tuple(models.list_models())]  # every name of the model zoo
DEFAULT_MODELS = ["lenet5", "resnet20", "shufflenet_v2_x0_5"]


@dataclass
class Args:
    models: list[ModelName] = field(default_factory=lambda: list(DEFAULT_MODELS))  # zoo names
    epochs: int = 2  # epochs to train each model
    seed: int = 0  # seeds every model's initial weights, dropout and the order of the data
    batch_size: int = 64  # images per optimizer step
    lr: float = 1e-3  # Adam's peak learning rate (a cosine schedule takes it to 0)
    source: Literal["sample", "auto", "download"] = "sample"  # auto: download, else the sample
    data_root: str = ""  # dataset cache directory; "" = $MYTORCH_DATA or the user cache dir
    out: str = "runs/mnist_models"  # where results.json and comparison.png go
    resume: bool = False  # keep the models already in <out>/results.json with these settings
    max_batches: int = 0  # stop each epoch after this many batches (0 = all); for quick checks
    threads: int = 1  # BLAS threads; 1 avoids a spinning thread pool slowing down a busy CPU


DESCRIPTION = __doc__.splitlines()[0]
CLI = (tyro.conf.FlagCreatePairsOff,)  # a bool gets one flag: --resume, not also --no-resume


MNIST_MEAN, MNIST_STD = 0.1307, 0.3081  # of the 60,000 training images' pixels scaled to [0, 1]
EVAL_BATCH = 250  # images per forward pass when evaluating (bounds the im2col buffers)
# settings that change a model's results: a resumed run only keeps results that share them
RESULT_KEYS = ("epochs", "seed", "batch_size", "lr", "source", "max_batches")


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
        f"error: {what} at {where} ({before}); stopped without saving results of these weights "
        "(try a smaller --lr)"
    )


def load_mnist(args: Args, train: bool, source: str) -> tuple[mt.Tensor, mt.Tensor, str]:
    """Images as normalized float32 (N, 1, 28, 28), labels (N,) int64, and the data source."""
    ds = MNIST(root=args.data_root or None, train=train, download=True, source=source)
    x = ds.data.reshape(len(ds), 1, 28, 28).float() / 255.0  # (N, 1, 28, 28) in [0, 1]
    x = (x - MNIST_MEAN) / MNIST_STD
    return x, ds.targets, ds.source


def _replace_first_conv(model: nn.Module) -> nn.Conv2d:
    """Swap the model's first Conv2d for a 1-channel stride-1 one of the same kernel and width."""
    name, old = next((n, m) for n, m in model.named_modules() if isinstance(m, nn.Conv2d))
    k = old.kernel_size[0]
    new = nn.Conv2d(1, old.out_channels, k, stride=1, padding=k // 2, bias=old.bias is not None)
    nn.init.kaiming_normal_(new.weight, mode="fan_out", nonlinearity="relu")
    if new.bias is not None:
        nn.init.zeros_(new.bias)
    parent_name, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent_name) if parent_name else model, child, new)
    return new


def build_model(name: str) -> nn.Module:
    """Zoo model ``name`` for (B, 1, 28, 28) input and 10 classes (see the module docstring)."""
    if name == "lenet5":
        return models.lenet5(num_classes=10, in_channels=1, input_size=28)
    if name in ("resnet20", "resnet32", "resnet44", "resnet56", "resnet110"):
        return models.get_model(name, num_classes=10, in_channels=1)
    if name in ("resnet18", "resnet34", "resnet50", "se_resnet18", "cbam_resnet18"):
        return models.get_model(name, num_classes=10, small_input=True, in_channels=1)
    if name == "unet":
        raise ValueError("unet is a segmentation network: it has no class scores to compare")
    model = models.get_model(name, num_classes=10)
    _replace_first_conv(model)
    if isinstance(model, models.ShuffleNetV2):
        model.maxpool = nn.Identity()  # keep 7x7 maps for the last stage instead of 1x1
    return model


@mt.no_grad()
def evaluate(model: nn.Module, x: mt.Tensor, y: mt.Tensor) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` on ``(x, y)``."""
    model.eval()
    logits = mt.cat([model(x[i : i + EVAL_BATCH]) for i in range(0, len(x), EVAL_BATCH)])
    loss = F.cross_entropy(logits, y).item()
    return loss, (logits.argmax(dim=1) == y).float().mean().item()


def train_one(name: str, args: Args, data: tuple) -> dict:
    """Train model ``name``; its row of the table and its per-epoch history."""
    x_train, y_train, x_test, y_test = data
    mt.manual_seed(args.seed)  # the same initial random state for every model
    model = build_model(name)
    n_params = sum(p.numel() for p in model.parameters())
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    loader_rng = mt.Generator(args.seed)
    loader = DataLoader(
        TensorDataset(x_train, y_train),
        batch_size=args.batch_size,
        shuffle=True,
        generator=loader_rng,
    )
    n_batches = min(len(loader), args.max_batches or len(loader))
    history = {"train_loss": [], "test_loss": [], "test_acc": [], "seconds": []}
    for epoch in range(args.epochs):
        model.train()
        loader_rng.manual_seed(args.seed * 100_003 + epoch)  # every model sees the same batches
        epoch_start = time.perf_counter()
        loss_sum, seen, last_loss = 0.0, 0, None
        batches = itertools.islice(loader, n_batches)
        bar = tqdm(batches, total=n_batches, desc=f"{name} {epoch + 1}", leave=False, disable=None)
        for i, (xb, yb) in enumerate(bar):  # xb (B, 1, 28, 28), yb (B,)
            loss = F.cross_entropy(model(xb), yb)
            where = f"{name} epoch {epoch + 1}, step {i + 1}"
            last_loss = stop_if_diverged(loss.item(), last_loss, where)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss_sum += last_loss * len(yb)
            seen += len(yb)
            bar.set_postfix(loss=f"{loss_sum / seen:.4f}")
        bar.close()
        scheduler.step()
        seconds = time.perf_counter() - epoch_start
        stop_if_diverged(last_loss, last_loss, f"the end of {name} epoch {epoch + 1}", model)
        test_loss, test_acc = evaluate(model, x_test, y_test)
        for key, value in zip(history, (loss_sum / seen, test_loss, test_acc, seconds)):
            history[key].append(value)
        print(
            f"  {name} epoch {epoch + 1}/{args.epochs}: train loss {loss_sum / seen:.4f}"
            f"  test acc {test_acc:.4f}  {seconds:.1f} s ({seen / seconds:,.0f} img/s)",
            flush=True,
        )
    return {
        "model": name,
        "parameters": n_params,
        "test_acc": history["test_acc"][-1],
        "seconds_per_epoch": float(np.mean(history["seconds"])),
        "history": history,
        "settings": {key: getattr(args, key) for key in RESULT_KEYS},
    }


def format_table(results: list[dict]) -> str:
    lines = [f"{'model':<20} {'parameters':>12} {'test acc':>9} {'s/epoch':>9}"]
    lines.append("-" * len(lines[0]))
    for r in results:
        lines.append(
            f"{r['model']:<20} {r['parameters']:>12,} {r['test_acc']:>9.4f}"
            f" {r['seconds_per_epoch']:>9.1f}"
        )
    return "\n".join(lines)


def save_figure(results: list[dict], out: Path, subtitle: str) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only, no window
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.5))
    for r in results:
        acc = r["history"]["test_acc"]
        ax1.plot(range(1, len(acc) + 1), acc, "o-", label=r["model"])
        ax2.scatter(r["seconds_per_epoch"], r["test_acc"], s=20 + r["parameters"] ** 0.5 / 5)
        ax2.annotate(r["model"], (r["seconds_per_epoch"], r["test_acc"]), fontsize=8)
    ax1.set(xlabel="epoch", ylabel="test accuracy", title="test accuracy per epoch")
    ax1.xaxis.get_major_locator().set_params(integer=True)
    ax2.set(xlabel="seconds per epoch", ylabel="final test accuracy")
    ax2.set_title("accuracy vs training time (marker area ~ parameters)")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
    ax1.legend(fontsize=8)
    fig.suptitle(f"mytorch.vision models on MNIST ({subtitle})")
    fig.tight_layout()
    fig.savefig(out / "comparison.png", dpi=100)
    plt.close(fig)


def main() -> None:
    args = parse_args()
    threadpool_limits(limits=args.threads)
    start_time = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / "results.json"

    x_train, y_train, source = load_mnist(args, train=True, source=args.source)
    test_source = "sample" if source == "sample" else "download"
    x_test, y_test, _ = load_mnist(args, train=False, source=test_source)
    print(f"data: {source} MNIST, {len(x_train)} train / {len(x_test)} test images")
    data = (x_train, y_train, x_test, y_test)

    done = {}
    if args.resume and results_path.exists():
        settings = {key: getattr(args, key) for key in RESULT_KEYS}
        saved = json.loads(results_path.read_text())
        done = {r["model"]: r for r in saved if r["settings"] == settings}
        print(f"resumed from {results_path}: {', '.join(done) or 'nothing with these settings'}")

    results = []
    for name in args.models:
        if name in done:
            results.append(done[name])
            continue
        print(f"{name}:", flush=True)
        results.append(train_one(name, args, data))
        kept = [r for r in done.values() if r["model"] not in {x["model"] for x in results}]
        results_path.write_text(json.dumps(results + kept, indent=1))  # after every model

    subtitle = f"{source}, {len(x_train)} train / {len(x_test)} test, {args.epochs} epochs"
    save_figure(results, out, subtitle)
    print(f"\n{format_table(results)}\n")
    print(f"figure: {out / 'comparison.png'}; results: {results_path}")
    seconds = time.perf_counter() - start_time
    print(f"compared {len(results)} models ({subtitle}, {seconds:.1f} s)")


if __name__ == "__main__":
    main()
