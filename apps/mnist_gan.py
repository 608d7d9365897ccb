"""Train a GAN on MNIST digits with mytorch: an MLP GAN, a DCGAN or a WGAN-GP.

``--model gan``: MLP generator (64 -> 256 -> 512 -> 784, LeakyReLU, tanh) and discriminator
(784 -> 512 -> 256 -> 1), non-saturating loss, Adam 2e-4 betas (0.5, 0.999).
``--model dcgan``: ``mytorch.gen.DCGANGenerator`` (transposed convs 7 -> 14 -> 28 with
BatchNorm, 64-d z, ngf 32) and ``DCGANDiscriminator`` (strided convs with BatchNorm, ndf 32),
the DCGAN paper's N(0, 0.02) init and Adam 2e-4 betas (0.5, 0.999).
``--model wgan-gp``: the same generator and a critic without BatchNorm, the Wasserstein loss
with gradient penalty (weight 10, computed through a double backward), 5 critic steps per
generator step, Adam 1e-4 betas (0.0, 0.9), as Gulrajani et al. (2017).

An epoch is one pass of the discriminator/critic over the training images (batch 64). After
each epoch it saves a grid of samples from a fixed noise; at the end it scores ``--n-samples``
samples with the MNIST classifier shipped in mytorch-gen: how the ten classes are covered
(fraction of each) and the classifier-Frechet distance to the training images (a Frechet
distance in that small classifier's feature space, NOT Inception FID), next to the same numbers
for real held-out images.

Data: full MNIST when it can be downloaded, else (with a warning) the 4,000 training images of
the sample bundled with mytorch-vision; ``--source sample`` picks it.

Measured here on the sample (``--source sample``, seed 0, 1,000 samples; on 2 CPU cores
shared with 10-20 other busy processes, so wall times are long and CPU times are given):
    --model dcgan (10 epochs, 108 s CPU):   classifier-Frechet 108.9, class fractions 0.8%-22.8%
    --model dcgan --epochs 20 (196 s CPU):  classifier-Frechet 84.4, class fractions 0.6%-16.0%
                                            (digit 1 at 0.6% and 6 at 3.6%: short of 5% each)
    --model dcgan --epochs 40 (397 s CPU):  classifier-Frechet 56.1, class fractions 3.3%-16.3%
                                            (digit 1 at 3.3%, the only class under 5%)
    --model wgan-gp --epochs 20 (206 s CPU, 240 generator steps): classifier-Frechet 457.1, not
                                            yet digit-like (strokes with grid artifacts)
    real held-out images:                   classifier-Frechet 2.3, every class 9.6%-10.8%
A PyTorch DCGAN of the same layers and budget (benchmarks/bench_gen.py dcgan) scores 110.7 at
10 epochs, 108.0 at 20 and 64.4 at 40 (215 s CPU), its rarest class (also the digit 1) at
1.6%, 1.0% and 3.0%.

Run:
    uv run apps/mnist_gan.py --model dcgan
    uv run apps/mnist_gan.py --model wgan-gp --epochs 10
    uv run apps/mnist_gan.py --help

Writes to ``--out`` (default runs/mnist_gan_<model>): samples_epoch<N>.png, losses.png and
generator.safetensors.
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
from mytorch.gen import (
    DCGAN_BETAS,
    DCGAN_LR,
    WGAN_GP_BETAS,
    WGAN_GP_LR,
    DCGANDiscriminator,
    DCGANGenerator,
    MLPDiscriminator,
    MLPGenerator,
    critic_loss,
    dcgan_init_,
    discriminator_loss,
    generator_loss,
    gradient_penalty,
    wasserstein_generator_loss,
)
from mytorch.gen.metrics import (
    class_coverage,
    classifier_features,
    classifier_frechet_distance,
    feature_statistics,
)
from mytorch.vision.datasets import MNIST


@dataclass
class Args:
    model: Literal["gan", "dcgan", "wgan-gp"] = "dcgan"  # which GAN
    seed: int = 0  # seeds the weights, the batches and the noise
    epochs: int = 10  # passes of the discriminator/critic over the training images
    batch_size: int = 64  # images per discriminator/critic step
    lr: float = 0.0  # Adam learning rate of both networks; 0 = 2e-4 (gan, dcgan), 1e-4 (wgan-gp)
    latent_dim: int = 64  # size of z
    width: int = 32  # ngf = ndf of the DCGAN/WGAN-GP networks
    n_critic: int = 5  # WGAN-GP: critic steps per generator step
    gp_weight: float = 10.0  # WGAN-GP: weight of the gradient penalty
    n_samples: int = 1000  # samples scored at the end
    source: Literal["auto", "download", "sample"] = "auto"  # auto: download, else the sample
    data_root: str = ""  # dataset cache directory; "" = $MYTORCH_DATA or the user cache dir
    out: str = ""  # where figures go; "" = runs/mnist_gan_<model>
    max_batches: int = 0  # stop each epoch after this many batches (0 = all); for quick checks
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


def make_models(args: Args) -> tuple[nn.Module, nn.Module, mt.optim.Adam, mt.optim.Adam]:
    """Generator, discriminator/critic and their optimizers for ``args.model``."""
    if args.model == "gan":
        g, d = MLPGenerator(args.latent_dim), MLPDiscriminator()
        lr, betas = DCGAN_LR, DCGAN_BETAS
    else:
        g = DCGANGenerator(args.latent_dim, ngf=args.width)
        d = DCGANDiscriminator(ndf=args.width, norm=args.model == "dcgan")
        g.apply(dcgan_init_)
        d.apply(dcgan_init_)
        lr, betas = (
            (DCGAN_LR, DCGAN_BETAS) if args.model == "dcgan" else (WGAN_GP_LR, WGAN_GP_BETAS)
        )
    lr = args.lr or lr
    opt_g = mt.optim.Adam(g.parameters(), lr=lr, betas=betas)
    opt_d = mt.optim.Adam(d.parameters(), lr=lr, betas=betas)
    return g, d, opt_g, opt_d


def grid(images: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """(rows * cols, 1, 28, 28) in [0, 1] -> one (rows * 30, cols * 30) picture."""
    out = np.ones((rows * 30, cols * 30), dtype=np.float32)
    for k, img in enumerate(images[: rows * cols]):
        r, c = divmod(k, cols)
        out[r * 30 + 1 : r * 30 + 29, c * 30 + 1 : c * 30 + 29] = img[0]
    return out


def save_grid(images: np.ndarray, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.2, 5.6))
    ax.imshow(grid(images, 8, 8), cmap="gray_r", vmin=0, vmax=1)
    ax.axis("off")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def save_losses(history: dict, path: Path, model: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for name, values in history.items():
        ax.plot(values, alpha=0.8, label=name)
    ax.set(xlabel="step", ylabel="loss", title=f"{model} losses")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


@mt.no_grad()
def generate(g: nn.Module, z: mt.Tensor) -> np.ndarray:
    """Generator output for ``z`` in eval mode, as images in [0, 1]."""
    g.eval()
    x = np.concatenate([g(z[i : i + 250]).numpy() for i in range(0, z.shape[0], 250)])
    g.train()
    return np.clip((x + 1) / 2, 0, 1)


def main() -> None:
    args = parse_args()
    threadpool_limits(limits=args.threads)
    start = time.perf_counter()
    out = Path(args.out or f"runs/mnist_gan_{args.model}")
    out.mkdir(parents=True, exist_ok=True)
    mt.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    x_train, source = load_images(args, train=True, source=args.source)
    x_test, _ = load_images(
        args, train=False, source="sample" if source == "sample" else "download"
    )
    print(f"data: {source} MNIST, {len(x_train)} train / {len(x_test)} held-out images")
    data = x_train * 2 - 1  # tanh range

    g, d, opt_g, opt_d = make_models(args)
    n_g = sum(p.numel() for p in g.parameters())
    n_d = sum(p.numel() for p in d.parameters())
    print(f"{args.model}: generator {n_g:,} parameters, discriminator/critic {n_d:,}")
    fixed_z = mt.randn(64, args.latent_dim, generator=mt.Generator(args.seed + 1))
    history: dict[str, list[float]] = {"discriminator": [], "generator": []}
    if args.model == "wgan-gp":
        history = {"critic (Wasserstein)": [], "gradient penalty": [], "generator": []}

    critic = "critic" if args.model == "wgan-gp" else "discriminator"
    last_d = last_g = None  # the last finite losses, for the message if the run diverges
    cpu0 = time.process_time()
    n_batches = len(data) // args.batch_size
    if args.max_batches:
        n_batches = min(n_batches, args.max_batches)
    for epoch in range(1, args.epochs + 1):
        perm = rng.permutation(len(data))
        bar = tqdm(range(n_batches), desc=f"epoch {epoch}", leave=False, disable=None)
        for i in bar:
            real = mt.tensor(data[perm[i * args.batch_size : (i + 1) * args.batch_size]])
            b = real.shape[0]
            z = mt.randn(b, args.latent_dim)
            step = f"epoch {epoch}, step {i + 1}"
            if args.model == "wgan-gp":
                with mt.no_grad():
                    fake = g(z)
                wdist = critic_loss(d(real), d(fake))
                gp = gradient_penalty(d, real, fake, weight=args.gp_weight)
                loss_d = wdist + gp
                last_d = stop_if_diverged(loss_d.item(), last_d, f"{step}, in the critic's loss")
                opt_d.zero_grad()
                loss_d.backward()
                opt_d.step()
                history["critic (Wasserstein)"].append(wdist.item())
                history["gradient penalty"].append(gp.item())
                if (i + 1) % args.n_critic == 0:
                    loss_g = wasserstein_generator_loss(d(g(mt.randn(b, args.latent_dim))))
                    where = f"{step}, in the generator's loss"
                    last_g = stop_if_diverged(loss_g.item(), last_g, where)
                    opt_g.zero_grad()
                    loss_g.backward()
                    opt_g.step()
                    history["generator"].append(last_g)
            else:
                fake = g(z)
                loss_d = discriminator_loss(d(real), d(fake.detach()))
                where = f"{step}, in the discriminator's loss"
                last_d = stop_if_diverged(loss_d.item(), last_d, where)
                opt_d.zero_grad()
                loss_d.backward()
                opt_d.step()
                loss_g = generator_loss(d(fake))
                last_g = stop_if_diverged(loss_g.item(), last_g, f"{step}, in the generator's loss")
                opt_g.zero_grad()
                loss_g.backward()
                opt_g.step()
                history["discriminator"].append(last_d)
                history["generator"].append(last_g)
        means = ", ".join(f"{k} {np.mean(v[-n_batches:]):.3f}" for k, v in history.items() if v)
        print(f"epoch {epoch:3d}/{args.epochs}: {means} ({time.perf_counter() - start:.0f} s)")
        stop_if_diverged(last_g, last_g, f"the end of epoch {epoch}, in the generator", g)
        stop_if_diverged(last_d, last_d, f"the end of epoch {epoch}, in the {critic}", d)
        save_grid(
            generate(g, fixed_z), out / f"samples_epoch{epoch}.png", f"{args.model}, epoch {epoch}"
        )
    train_cpu = time.process_time() - cpu0
    save_losses(history, out / "losses.png", args.model)
    nn.save(g.state_dict(), out / "generator.safetensors")

    samples = generate(
        g, mt.randn(args.n_samples, args.latent_dim, generator=mt.Generator(args.seed + 2))
    )
    reference = feature_statistics(classifier_features(x_train))
    n_real = min(args.n_samples, len(x_test))
    real = x_test[rng.permutation(len(x_test))[:n_real]]
    for name, images in (
        (f"real held-out ({n_real})", real),
        (f"{args.model} ({args.n_samples})", samples),
    ):
        cov = class_coverage(images)
        fd = classifier_frechet_distance(images, reference)
        fr = " ".join(f"{f:.3f}" for f in cov["fractions"])
        print(
            f"{name}: class fractions [{fr}] (min {cov['min_class_fraction']:.3f}), label "
            f"entropy {cov['label_entropy']:.3f}/{math.log(10):.3f}, confident (>0.9) "
            f"{cov['confident_fraction']:.3f}, classifier-Frechet {fd:.2f}"
        )
    print(f"figures: {out}/samples_epoch*.png, {out / 'losses.png'}")
    print(f"training {train_cpu:.0f} s CPU; total {time.perf_counter() - start:.0f} s wall")


if __name__ == "__main__":
    main()
