"""Generative models, mytorch vs PyTorch CPU: the VAE's bound and speed, and a DCGAN's samples.

    uv run python benchmarks/bench_gen.py vae [--epochs 10 50] [--seeds 0] [--threads 1]
    uv run python benchmarks/bench_gen.py dcgan [--epochs 10] [--seeds 0] [--mytorch-generator PATH]

``vae``: the 784-400-20 VAE (``mytorch.gen.VAE``, Bernoulli decoder on grey levels in [0, 1])
and the same network in PyTorch (PyTorch's reference VAE: fc1 784-400, fc21/fc22 400-20, fc3
20-400, fc4 400-784, ReLU), Adam lr 1e-3, batch 128, on the bundled MNIST sample (4,000 train /
1,000 test). Both start from the same weights (PyTorch's init, copied) and see the same batches;
the two trainings alternate epoch by epoch in one process, so machine load hits both alike. At
each epoch listed in ``--epochs`` it prints the test loss (negative ELBO, nats per example, one
z sample per image, as PyTorch's example reports it) of both and the ratio of their training
times (summed over epochs; each epoch's ratio's median is printed too).

``dcgan``: a PyTorch DCGAN with the layers of ``mytorch.gen.DCGANGenerator`` /
``DCGANDiscriminator`` (width 32, z of 64), trained with the recipe and budget of
``apps/mnist_gan.py --model dcgan`` (the paper's init, Adam 2e-4 betas (0.5, 0.999), batch 64,
``--epochs`` passes over the 4,000 training images). 1,000 samples are scored with the MNIST
classifier shipped in mytorch-gen (class coverage and the classifier-Frechet distance to the
training images), next to the 1,000 real held-out images and, given ``--mytorch-generator``
(the app's ``generator.safetensors``), the mytorch DCGAN's samples.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time


def _set_threads(n: int) -> None:
    # BLAS/OpenMP pools read these when NumPy (or torch) is first imported.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)


def load_sample_01():
    """The bundled sample as float32 grey levels in [0, 1]: (x_train (4000, 784), y_train,
    x_test (1000, 784), y_test) NumPy arrays."""
    import numpy as np

    from mytorch.vision.datasets import load_sample

    out = []
    for train in (True, False):
        images, labels = load_sample(train=train)
        out += [images.reshape(len(images), -1).astype(np.float32) / 255.0, labels]
    return tuple(out)


# ------------------------------------------------------------------------------------ VAE
def torch_vae():
    import torch
    from torch import nn

    class TorchVAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(784, 400)
            self.fc21 = nn.Linear(400, 20)
            self.fc22 = nn.Linear(400, 20)
            self.fc3 = nn.Linear(20, 400)
            self.fc4 = nn.Linear(400, 784)

        def forward(self, x):
            h = torch.relu(self.fc1(x))
            mu, logvar = self.fc21(h), self.fc22(h)
            z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
            return self.fc4(torch.relu(self.fc3(z))), mu, logvar

    def loss_fn(logits, x, mu, logvar):  # summed over the batch, as in PyTorch's example
        bce = nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="sum")
        return bce - 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())

    return TorchVAE(), loss_fn


def bench_vae(epochs_at: list[int], seeds: list[int]) -> None:
    import numpy as np
    import torch

    import mytorch.core as mt
    from mytorch.gen import VAE

    x_train, _, x_test, _ = load_sample_01()
    n_epochs = max(epochs_at)
    print(f"VAE 784-400-20, Adam 1e-3, batch 128, {len(x_train)} train / {len(x_test)} test")
    print(f"threads: {os.environ.get('OMP_NUM_THREADS')}; torch {torch.__version__}")
    results = {}
    for seed in seeds:
        torch.manual_seed(seed)
        mt.manual_seed(seed)
        tmodel, tloss = torch_vae()
        mmodel = VAE(784, 400, 20)
        mmodel.load_state_dict({k: mt.tensor(v.numpy()) for k, v in tmodel.state_dict().items()})
        topt = torch.optim.Adam(tmodel.parameters(), lr=1e-3)
        mopt = mt.optim.Adam(mmodel.parameters(), lr=1e-3)
        rng = np.random.default_rng(seed)
        xt_test, xm_test = torch.from_numpy(x_test), mt.tensor(x_test)
        t_time = m_time = 0.0
        ratios = []
        for epoch in range(1, n_epochs + 1):
            perm = rng.permutation(len(x_train))
            batches = [x_train[perm[i : i + 128]] for i in range(0, len(perm), 128)]
            tb = [torch.from_numpy(b) for b in batches]
            mb = [mt.tensor(b) for b in batches]
            start = time.perf_counter()
            tmodel.train()
            for xb in tb:
                logits, mu, logvar = tmodel(xb)
                loss = tloss(logits, xb, mu, logvar) / len(xb)
                topt.zero_grad()
                loss.backward()
                topt.step()
            t_epoch = time.perf_counter() - start
            start = time.perf_counter()
            mmodel.train()
            for xb in mb:
                loss = mmodel.loss(xb).loss
                mopt.zero_grad()
                loss.backward()
                mopt.step()
            m_epoch = time.perf_counter() - start
            t_time += t_epoch
            m_time += m_epoch
            ratios.append(m_epoch / t_epoch)
            if epoch in epochs_at:
                with torch.no_grad():
                    logits, mu, logvar = tmodel(xt_test)
                    t_test = tloss(logits, xt_test, mu, logvar).item() / len(x_test)
                with mt.no_grad():
                    m_test = mmodel.loss(xm_test).nelbo.mean().item()
                results.setdefault(epoch, []).append((m_test, t_test))
                print(
                    f"seed {seed} epoch {epoch:3d}: test -ELBO mytorch {m_test:.2f} / PyTorch "
                    f"{t_test:.2f} nats (diff {100 * (m_test / t_test - 1):+.2f}%); train time "
                    f"mytorch {m_time:.1f} s / PyTorch {t_time:.1f} s = {m_time / t_time:.2f}x "
                    f"(median per-epoch ratio {statistics.median(ratios):.2f}x)"
                )
            sys.stdout.flush()
    for epoch, pairs in sorted(results.items()):
        m = statistics.mean(p[0] for p in pairs)
        t = statistics.mean(p[1] for p in pairs)
        print(
            f"epoch {epoch}: mean over seeds {seeds}: mytorch {m:.2f}, PyTorch {t:.2f} nats per "
            f"example ({100 * (m / t - 1):+.2f}%)"
        )


def torch_dcgan(latent_dim: int, width: int):
    """PyTorch generator and discriminator with the layers of mytorch.gen's DCGAN."""
    from torch import nn

    g = nn.Sequential(
        nn.ConvTranspose2d(latent_dim, width * 4, 7, 1, 0, bias=False),
        nn.BatchNorm2d(width * 4),
        nn.ReLU(),
        nn.ConvTranspose2d(width * 4, width * 2, 4, 2, 1, bias=False),
        nn.BatchNorm2d(width * 2),
        nn.ReLU(),
        nn.ConvTranspose2d(width * 2, 1, 4, 2, 1, bias=False),
        nn.Tanh(),
    )
    d = nn.Sequential(
        nn.Conv2d(1, width, 4, 2, 1, bias=False),
        nn.LeakyReLU(0.2),
        nn.Conv2d(width, width * 2, 4, 2, 1, bias=False),
        nn.BatchNorm2d(width * 2),
        nn.LeakyReLU(0.2),
        nn.Conv2d(width * 2, 1, 7, 1, 0, bias=False),
    )

    def init(m):  # the DCGAN paper's init
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)

    g.apply(init)
    d.apply(init)
    return g, d


def bench_dcgan(epochs: int, seed: int, mytorch_generator: str | None) -> None:
    import numpy as np
    import torch

    import mytorch.core as mt
    import mytorch.nn as mnn
    from mytorch.gen import DCGANGenerator
    from mytorch.gen.metrics import (
        class_coverage,
        classifier_features,
        classifier_frechet_distance,
        feature_statistics,
    )

    latent_dim, width, batch = 64, 32, 64
    x_train, _, x_test, _ = load_sample_01()
    data = torch.from_numpy(x_train.reshape(-1, 1, 28, 28) * 2 - 1)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    g, d = torch_dcgan(latent_dim, width)
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    print(f"PyTorch DCGAN (width {width}, z {latent_dim}), {epochs} epochs of batch {batch}")
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for epoch in range(1, epochs + 1):
        perm = torch.from_numpy(rng.permutation(len(data)))
        for i in range(len(data) // batch):
            real = data[perm[i * batch : (i + 1) * batch]]
            fake = g(torch.randn(batch, latent_dim, 1, 1))
            real_logits, fake_logits = d(real).flatten(), d(fake.detach()).flatten()
            loss_d = bce(real_logits, torch.ones_like(real_logits)) + bce(
                fake_logits, torch.zeros_like(fake_logits)
            )
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            gen_logits = d(fake).flatten()
            loss_g = bce(gen_logits, torch.ones_like(gen_logits))
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
        print(f"epoch {epoch}: loss D {loss_d.item():.3f}, G {loss_g.item():.3f}")
    print(
        f"PyTorch training: {time.process_time() - cpu0:.1f} s CPU, "
        f"{time.perf_counter() - wall0:.1f} s wall"
    )
    g.eval()
    with torch.no_grad():
        torch_samples = (g(torch.randn(1000, latent_dim, 1, 1)).numpy() + 1) / 2

    reference = feature_statistics(classifier_features(x_train))
    rows = [("real held-out (1000)", x_test.reshape(-1, 1, 28, 28))]
    if mytorch_generator:
        mg = DCGANGenerator(latent_dim, ngf=width)
        mg.load_state_dict(mnn.load(mytorch_generator))
        mg.eval()
        with mt.no_grad():
            z = mt.randn(1000, latent_dim, generator=mt.Generator(seed + 2))  # as the app draws
            rows.append(("mytorch DCGAN (1000)", np.clip((mg(z).numpy() + 1) / 2, 0, 1)))
    rows.append(("PyTorch DCGAN (1000)", np.clip(torch_samples, 0, 1)))
    for name, images in rows:
        cov = class_coverage(images)
        fd = classifier_frechet_distance(images, reference)
        fr = " ".join(f"{f:.3f}" for f in cov["fractions"])
        print(
            f"{name}: class fractions [{fr}] (min {cov['min_class_fraction']:.3f}), confident "
            f"(>0.9) {cov['confident_fraction']:.3f}, classifier-Frechet {fd:.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("vae", "dcgan"))
    parser.add_argument("--epochs", type=int, nargs="+", default=None)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--mytorch-generator",
        default=None,
        help="dcgan: generator.safetensors written by apps/mnist_gan.py --model dcgan, scored "
        "next to the PyTorch one",
    )
    args = parser.parse_args()
    _set_threads(args.threads)
    if args.what == "vae":
        bench_vae(args.epochs or [10, 50], args.seeds)
    else:
        bench_dcgan(args.epochs[0] if args.epochs else 10, args.seeds[0], args.mytorch_generator)


if __name__ == "__main__":
    main()
