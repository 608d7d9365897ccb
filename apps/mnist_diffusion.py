"""Train a denoising diffusion model (DDPM) on MNIST digits with mytorch and sample from it.

The noise predictor is ``mytorch.gen.TimeUNet`` (GroupNorm residual blocks at 28, 14 and 7
pixels with 16, 32 and 32 channels, a sinusoidal time embedding; 175k parameters), trained with
the simple epsilon loss of Ho et al. (2020) under a cosine schedule of T = 100 steps
(``--schedule linear`` for DDPM's), Adam lr 1e-3, batch 64, until a budget of process CPU time
(``--cpu-budget``, default 14 minutes) is spent; an exponential moving average of the weights
(``--ema``) is what samples. Then it draws ``--n-samples`` digits by ancestral sampling over all
T steps and by DDIM (eta 0) over ``--ddim-steps``, and scores both, next to real held-out
images, with the small MNIST classifier shipped in mytorch-gen: the fraction of samples it
labels with confidence > 0.9, the per-class spread, and the classifier-Frechet distance to the
training images (a Frechet distance in that classifier's 64-d feature space, NOT Inception FID).

Data: full MNIST (60,000 train) when it can be downloaded, else (with a warning) the 4,000
training images of the sample bundled with mytorch-vision; ``--source sample`` picks it.

Measured here with the defaults on the sample (``--source sample``; 1 BLAS thread, one other job
on the 2 cores): 872 steps (14 epochs) in 841 s of process CPU, loss 0.42 over the first 50
steps -> 0.051 over the last 50; sampling 500 images took 242 s CPU (DDPM, 100 steps) and 128 s
(DDIM, 50 steps); 1,315 s wall in all. Scores: DDPM confident (> 0.9) fraction 0.570, classes
1.6%-26.4%, classifier-Frechet 165.5; DDIM 0.412, 2.2%-29.2%, 224.5; real held-out images
(500) 0.906, 9.0%-11.2%, 3.7. The DDPM samples are pen strokes, many of them readable digits
and many not; DDIM with 50 steps is 36% further from the data than DDPM. With
``--cpu-budget 240 --n-samples 300`` (297 steps) the samples were blobs (distance 263.6 DDPM,
324.0 DDIM).

Run:
    uv run apps/mnist_diffusion.py                      # defaults
    uv run apps/mnist_diffusion.py --cpu-budget 120 --n-samples 200   # a quick look
    uv run apps/mnist_diffusion.py --help

Writes to ``--out`` (default runs/mnist_diffusion): samples.png (DDPM samples), ddim.png (DDIM
samples), denoising.png (rows: from pure noise to a digit), steps.png (the same starting noise
sampled by DDIM with increasing step counts and by DDPM), loss.png and weights.safetensors.
"""

from __future__ import annotations

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
import mytorch.nn as nn
from mytorch.gen import DDPM, TimeUNet, cosine_schedule, linear_schedule
from mytorch.gen.metrics import (
    class_coverage,
    classifier_features,
    classifier_frechet_distance,
    feature_statistics,
)
from mytorch.vision.datasets import MNIST


@dataclass
class Args:
    seed: int = 0  # seeds the weights, the batches, the noise and the samples
    schedule: Literal["cosine", "linear"] = "cosine"  # noise schedule
    timesteps: int = 100  # T: diffusion steps (ancestral sampling runs all of them)
    base_channels: int = 16  # U-Net width at full resolution
    channel_mults: tuple[int, ...] = (1, 2, 2)  # width multiple per level (2x down between)
    batch_size: int = 64  # images per optimizer step
    lr: float = 1e-3  # Adam learning rate
    ema: float = 0.995  # decay of the weight average used to sample (0 = sample raw weights)
    cpu_budget: float = 840.0  # seconds of process CPU time for training
    max_steps: int = 0  # stop after this many steps even within budget (0 = no limit)
    n_samples: int = 500  # samples drawn by each sampler for the metrics
    ddim_steps: int = 50  # steps of the DDIM sampler
    source: Literal["auto", "download", "sample"] = "auto"  # auto: download, else the sample
    data_root: str = ""  # dataset cache directory; "" = $MYTORCH_DATA or the user cache dir
    out: str = "runs/mnist_diffusion"  # where figures and weights go
    threads: int = 1  # BLAS threads; 1 avoids a spinning thread pool slowing down a busy CPU


DESCRIPTION = __doc__.splitlines()[0]
CLI = (tyro.conf.FlagCreatePairsOff,)  # a bool would get one flag: --x, not also --no-x


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


def load_images(args: Args, train: bool, source: str) -> tuple[np.ndarray, str]:
    """Images as float32 (N, 1, 28, 28) in [0, 1], and the source used."""
    ds = MNIST(root=args.data_root or None, train=train, download=True, source=source)
    return ds.data.numpy().reshape(-1, 1, 28, 28).astype(np.float32) / 255.0, ds.source


def grid(images: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """(rows * cols, 1, 28, 28) in [0, 1] -> one (rows * 30, cols * 30) picture."""
    out = np.ones((rows * 30, cols * 30), dtype=np.float32)
    for k, img in enumerate(images[: rows * cols]):
        r, c = divmod(k, cols)
        out[r * 30 + 1 : r * 30 + 29, c * 30 + 1 : c * 30 + 29] = img[0]
    return out


def save_picture(picture: np.ndarray, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    h, w = picture.shape
    fig, ax = plt.subplots(figsize=(w / 60 + 0.2, h / 60 + 0.6))
    ax.imshow(picture, cmap="gray_r", vmin=0, vmax=1)
    ax.axis("off")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def save_loss(losses: list[float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(losses, alpha=0.3, label="per step")
    k = max(1, len(losses) // 50)
    smooth = np.convolve(losses, np.ones(k) / k, mode="valid")
    ax.plot(np.arange(len(smooth)) + k - 1, smooth, label=f"mean of {k}")
    ax.set(xlabel="step", ylabel="epsilon MSE", yscale="log", title="DDPM training loss")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def to_unit(x: mt.Tensor) -> np.ndarray:
    return np.clip((x.numpy() + 1) / 2, 0, 1)  # [-1, 1] -> [0, 1]


def sample_in_batches(fn, n: int, batch: int = 250) -> np.ndarray:
    return np.concatenate([to_unit(fn(min(batch, n - i))) for i in range(0, n, batch)])


def main() -> None:
    args = parse_args()
    threadpool_limits(limits=args.threads)
    start = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    mt.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    x_train, source = load_images(args, train=True, source=args.source)
    x_test, _ = load_images(
        args, train=False, source="sample" if source == "sample" else "download"
    )
    print(f"data: {source} MNIST, {len(x_train)} train / {len(x_test)} held-out images")
    data = x_train * 2 - 1  # [-1, 1]

    schedule = (cosine_schedule if args.schedule == "cosine" else linear_schedule)(args.timesteps)
    net = TimeUNet(1, args.base_channels, args.channel_mults, time_dim=4 * args.base_channels)
    ddpm = DDPM(net, schedule)
    opt = mt.optim.Adam(net.parameters(), lr=args.lr)
    n_params = sum(p.numel() for p in net.parameters())
    print(f"TimeUNet {n_params:,} parameters; {args.schedule} schedule, T = {args.timesteps}")
    ema = {k: v.numpy().copy() for k, v in net.state_dict().items()}

    losses: list[float] = []  # finite training losses, one per step
    cpu0 = time.process_time()
    bar = tqdm(desc="training", unit="step", disable=None)
    step = 0
    while True:
        perm = rng.permutation(len(data))
        for i in range(0, len(perm) - args.batch_size + 1, args.batch_size):
            loss = ddpm.loss(mt.tensor(data[perm[i : i + args.batch_size]]))
            last_loss = losses[-1] if losses else None
            losses.append(stop_if_diverged(loss.item(), last_loss, f"step {step + 1}"))
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            decay = min(args.ema, (1 + step) / (10 + step))  # warm-up: early weights fade fast
            for k, v in net.state_dict().items():
                ema[k] = decay * ema[k] + (1 - decay) * v.numpy()
            bar.update()
            cpu = time.process_time() - cpu0
            done = cpu >= args.cpu_budget or (args.max_steps and step >= args.max_steps)
            if done:
                break
        if done:
            break
    bar.close()
    train_cpu = time.process_time() - cpu0
    k = min(50, max(1, len(losses) // 4))
    print(
        f"trained {step} steps ({step * args.batch_size / len(data):.1f} epochs) in "
        f"{train_cpu:.0f} s CPU; loss: first {k} steps {np.mean(losses[:k]):.4f} -> last {k} "
        f"{np.mean(losses[-k:]):.4f}"
    )
    if args.ema > 0:
        net.load_state_dict({k: mt.tensor(v) for k, v in ema.items()})
    net.eval()
    last_loss = losses[-1] if losses else None
    stop_if_diverged(last_loss, last_loss, "the end of training", net)  # the weights saved
    nn.save(net.state_dict(), out / "weights.safetensors")

    gen = mt.Generator(args.seed + 1)
    shape = (1, 28, 28)
    cpu1 = time.process_time()
    ddpm_samples = sample_in_batches(lambda b: ddpm.sample(b, shape, generator=gen), args.n_samples)
    ddpm_cpu = time.process_time() - cpu1
    cpu1 = time.process_time()
    ddim_samples = sample_in_batches(
        lambda b: ddpm.ddim_sample(b, shape, steps=args.ddim_steps, generator=gen), args.n_samples
    )
    ddim_cpu = time.process_time() - cpu1

    # pictures: grids, the denoising strip, and DDIM step counts from one starting noise
    save_picture(grid(ddpm_samples, 10, 10), out / "samples.png", f"DDPM, {args.timesteps} steps")
    save_picture(grid(ddim_samples, 10, 10), out / "ddim.png", f"DDIM, {args.ddim_steps} steps")
    every = max(1, args.timesteps // 10)
    _, trajectory = ddpm.sample(
        8, shape, generator=mt.Generator(args.seed + 2), trajectory_every=every
    )
    strip = np.stack([to_unit(x) for x in trajectory], axis=1)  # (8, columns, 1, 28, 28)
    cols = strip.shape[1]
    save_picture(
        grid(strip.reshape(-1, 1, 28, 28), 8, cols),
        out / "denoising.png",
        f"from noise (left) to digit (right), every {every} of {args.timesteps} steps",
    )
    counts = [c for c in (5, 10, 25, args.ddim_steps) if c <= args.timesteps]
    rows = []
    for c in counts:
        rows.append(to_unit(ddpm.ddim_sample(8, shape, steps=c, generator=mt.Generator(7))))
    rows.append(to_unit(ddpm.sample(8, shape, generator=mt.Generator(7))))
    save_picture(
        grid(np.concatenate(rows), len(rows), 8),
        out / "steps.png",
        "rows: DDIM " + ", ".join(map(str, counts)) + f" steps; DDPM {args.timesteps}",
    )
    save_loss(losses, out / "loss.png")

    reference = feature_statistics(classifier_features(x_train))
    n_real = min(args.n_samples, len(x_test))
    real = x_test[rng.permutation(len(x_test))[:n_real]]
    print(f"sampling CPU: DDPM {ddpm_cpu:.0f} s, DDIM {ddim_cpu:.0f} s for {args.n_samples} each")
    for name, images in (
        (f"real held-out ({n_real})", real),
        (f"DDPM {args.timesteps} steps", ddpm_samples),
        (f"DDIM {args.ddim_steps} steps", ddim_samples),
    ):
        cov = class_coverage(images)
        fd = classifier_frechet_distance(images, reference)
        print(
            f"{name}: confident (>0.9) {cov['confident_fraction']:.3f}, classes "
            f"{cov['min_class_fraction']:.3f}-{cov['fractions'].max():.3f}, label entropy "
            f"{cov['label_entropy']:.3f}/{math.log(10):.3f}, classifier-Frechet {fd:.2f}"
        )
    figures = ", ".join(
        f"{out / f}" for f in ("samples.png", "ddim.png", "denoising.png", "steps.png", "loss.png")
    )
    print(f"figures: {figures}")
    print(f"total {time.perf_counter() - start:.0f} s wall, {time.process_time():.0f} s CPU")


if __name__ == "__main__":
    main()
