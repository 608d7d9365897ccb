"""Generative models, mytorch vs PyTorch CPU: the VAE's bound and speed, and a DCGAN's samples.

    uv run python benchmarks/bench_gen.py vae [--epochs 10 50] [--seeds 0] [--threads 1]
    uv run python benchmarks/bench_gen.py dcgan [--epochs 5] [--seed 0] [--threads 1]

``vae``: the 784-400-20 VAE (``mytorch.gen.VAE``, Bernoulli decoder on grey levels in [0, 1])
and the same network in PyTorch (PyTorch's reference VAE: fc1 784-400, fc21/fc22 400-20, fc3
20-400, fc4 400-784, ReLU), Adam lr 1e-3, batch 128, on the bundled MNIST sample (4,000 train /
1,000 test). Both start from the same weights (PyTorch's init, copied) and see the same batches;
the two trainings alternate epoch by epoch in one process, so machine load hits both alike. At
each epoch listed in ``--epochs`` it prints the test loss (negative ELBO, nats per example, one
z sample per image, as PyTorch's example reports it) of both and the ratio of their training
times (summed over epochs; each epoch's ratio's median is printed too).

``dcgan``: ``mytorch.gen.DCGANGenerator``/``DCGANDiscriminator`` and the same architecture in
PyTorch, trained with the same recipe and budget (Adam 2e-4, betas (0.5, 0.999), batch 64,
``--epochs`` over the 4,000 training images), then 1,000 samples of each are scored with the
shipped MNIST classifier: classifier-Frechet distance to the training images and class coverage,
next to the same numbers for the 1,000 real held-out test images.
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


def bench_dcgan(epochs: int, seed: int) -> None:
    raise SystemExit("dcgan: not yet")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("vae", "dcgan"))
    parser.add_argument("--epochs", type=int, nargs="+", default=None)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    _set_threads(args.threads)
    if args.what == "vae":
        bench_vae(args.epochs or [10, 50], args.seeds)
    else:
        bench_dcgan(args.epochs[0] if args.epochs else 5, args.seeds[0])


if __name__ == "__main__":
    main()
