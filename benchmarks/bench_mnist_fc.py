"""One training epoch of apps/mnist_fc.py's MLP, mytorch vs PyTorch CPU.

    uv run python benchmarks/bench_mnist_fc.py [--data sample|synthetic] [--threads 1] [--rounds 5]

The epoch is the demo's: a 784-512-256-10 ReLU MLP, Adam (lr 1e-3), batch 128, shuffled each
epoch, over the bundled sample's 4,000 training images (``--data sample``) or 60,000 random
images that emulate full MNIST (``--data synthetic``). Both libraries start from the same weights
and run in the same process with the same thread count, alternating in rounds after a warm-up
epoch. Each time is the median over rounds; each ratio is also given as the median of the ratios
within a round, which is steadier when other processes load the machine.

PyTorch is timed twice: with its DataLoader over a TensorDataset (what the demo does in mytorch;
PyTorch's loader fetches and stacks one sample at a time) and with batches sliced from a
shuffled index tensor (the fastest plain PyTorch loop).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable


def _set_threads(n: int) -> None:
    # BLAS/OpenMP pools read these when NumPy (or torch) is first imported.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)


SIZES = (784, 512, 256, 10)
BATCH = 128
LR = 1e-3


def load_data(kind: str, seed: int = 0):
    """Normalized images (N, 784) float32 and labels (N,) int64 as NumPy arrays."""
    import numpy as np

    if kind == "sample":
        from mytorch.vision.datasets import load_sample

        images, labels = load_sample(train=True)  # (4000, 28, 28) uint8, (4000,) int64
        x = (images.reshape(len(images), -1).astype(np.float32) / 255.0 - 0.1307) / 0.3081
        return x, labels
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((60_000, 784), dtype=np.float32)
    return x, rng.integers(0, 10, 60_000)


def initial_weights(seed: int = 0) -> list:
    """PyTorch-layout (out, in) weights and biases, He-uniform, shared by both libraries."""
    import numpy as np

    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        bound = np.sqrt(6.0 / fan_in)
        params.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32))
        params.append(np.zeros(fan_out, np.float32))
    return params


def epoch_mytorch(x, y, weights) -> Callable[[], float]:
    import mytorch.core as mt
    import mytorch.core.functional as F
    import mytorch.nn as nn
    from mytorch.core import optim
    from mytorch.core.data import DataLoader, TensorDataset

    model = nn.Sequential(
        nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10)
    )
    for p, w in zip(model.parameters(), weights):
        p.data[...] = w
    opt = optim.Adam(model.parameters(), lr=LR)
    loader = DataLoader(
        TensorDataset(mt.from_numpy(x), mt.from_numpy(y)), batch_size=BATCH, shuffle=True
    )

    def run() -> float:
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return loss.item()

    return run


def epoch_torch(x, y, weights, use_loader: bool) -> Callable[[], float]:
    import torch
    import torch.nn.functional as F
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    model = nn.Sequential(
        nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10)
    )
    with torch.no_grad():
        for p, w in zip(model.parameters(), weights):
            p.copy_(torch.from_numpy(w))
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    loader = DataLoader(TensorDataset(xt, yt), batch_size=BATCH, shuffle=True)

    def batches():
        if use_loader:
            yield from loader
            return
        perm = torch.randperm(len(xt))
        for i in range(0, len(xt), BATCH):
            idx = perm[i : i + BATCH]
            yield xt[idx], yt[idx]

    def run() -> float:
        for xb, yb in batches():
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return loss.item()

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=("sample", "synthetic"), default="sample")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    _set_threads(args.threads)

    import mytorch.core as mt

    try:
        import torch
    except ImportError:
        sys.exit("PyTorch is not installed: nothing to compare with (pip install torch)")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    mt.manual_seed(0)

    x, y = load_data(args.data)
    weights = initial_weights()
    cases = {
        "mytorch": epoch_mytorch(x, y, weights),
        "torch (DataLoader)": epoch_torch(x, y, weights, use_loader=True),
        "torch (index slices)": epoch_torch(x, y, weights, use_loader=False),
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    last_loss: dict[str, float] = {}
    for fn in cases.values():  # warm-up: allocator, BLAS pools, first-call imports
        fn()
    for _ in range(args.rounds):
        for name, fn in cases.items():
            start = time.perf_counter()
            last_loss[name] = fn()
            times[name].append(time.perf_counter() - start)

    n_batches = -(-len(x) // BATCH)
    print(
        f"one epoch of the mnist_fc MLP {'-'.join(map(str, SIZES))}, Adam, batch {BATCH}: "
        f"{len(x):,} {args.data} images ({n_batches} steps), {args.threads} thread(s), "
        f"median of {args.rounds} rounds"
    )
    med = {name: statistics.median(t) * 1e3 for name, t in times.items()}
    for name, ms in med.items():
        print(
            f"  {name:22s} {ms:9.1f} ms/epoch  ({ms / n_batches:6.2f} ms/step, "
            f"{len(x) / ms * 1e3:8,.0f} img/s, last loss {last_loss[name]:.3f})"
        )
    for name in cases:
        if name != "mytorch":
            # the median of the per-round ratios resists load that changes between rounds
            paired = statistics.median(m / t for m, t in zip(times["mytorch"], times[name]))
            print(
                f"  mytorch / {name}: {med['mytorch'] / med[name]:.2f}x "
                f"(median of per-round ratios {paired:.2f}x)"
            )


if __name__ == "__main__":
    main()
