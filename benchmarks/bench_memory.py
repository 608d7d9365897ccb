"""Peak memory of one training step: a 2-layer Transformer encoder and a CIFAR ResNet-20.

    uv run python benchmarks/bench_memory.py [--steps 3] [--batch-resnet 32]

NumPy reports its allocations to ``tracemalloc``, so the figures are the bytes of array data
(and Python objects) allocated by mytorch during a step: the peak while the step runs (forward,
backward, optimizer update) and what is still held right after ``loss.backward()`` while
``loss`` and the outputs stay referenced (the saved arrays backward should have freed). Each
figure is the median over ``--steps`` steps after one warm-up step, in MiB. mytorch only: torch's
allocator is not visible to tracemalloc.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tracemalloc
from collections.abc import Callable

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

MiB = 1 << 20


def transformer_case(batch: int = 32, seq: int = 64, d_model: int = 128, seed: int = 0):
    """A 2-layer post-norm TransformerEncoder (4 heads, feed-forward 4 d) and a linear head."""
    import numpy as np

    import mytorch.core as mt
    import mytorch.core.functional as F
    from mytorch.core.optim import SGD
    from mytorch.nn import Linear
    from mytorch.seq import TransformerEncoder, TransformerEncoderLayer

    mt.manual_seed(seed)
    rng = np.random.default_rng(seed)
    layer = TransformerEncoderLayer(d_model, 4, dim_feedforward=4 * d_model, batch_first=True)
    encoder = TransformerEncoder(layer, num_layers=2)
    head = Linear(d_model, 10)
    params = list(encoder.parameters()) + list(head.parameters())
    opt = SGD(params, lr=0.01)
    x = mt.tensor(rng.standard_normal((batch, seq, d_model)).astype(np.float32))
    y = mt.tensor(rng.integers(0, 10, batch))

    def forward():
        out = head(encoder(x).mean(dim=1))
        return out, F.cross_entropy(out, y)

    return forward, opt


def resnet_case(batch: int = 32, seed: int = 0):
    """ResNet-20 for CIFAR-10 on a batch of 32x32 RGB images."""
    import numpy as np

    import mytorch.core as mt
    import mytorch.core.functional as F
    from mytorch.core.optim import SGD
    from mytorch.vision.models import resnet20

    mt.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = resnet20()
    model.train()
    opt = SGD(list(model.parameters()), lr=0.01, momentum=0.9)
    x = mt.tensor(rng.standard_normal((batch, 3, 32, 32)).astype(np.float32))
    y = mt.tensor(rng.integers(0, 10, batch))

    def forward():
        out = model(x)
        return out, F.cross_entropy(out, y)

    return forward, opt


def measure(case: Callable, steps: int) -> dict:
    """Median over steps of the peak during a step and of what backward left held (MiB)."""
    forward, opt = case()
    peaks, held = [], []
    for i in range(steps + 1):
        opt.zero_grad(set_to_none=True)
        tracemalloc.start()
        out, loss = forward()
        loss.backward()
        held_now = tracemalloc.get_traced_memory()[0]
        opt.step()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        del out, loss
        if i:  # the first step is a warm-up (it allocates the optimizer state)
            peaks.append(peak / MiB)
            held.append(held_now / MiB)
    return {
        "peak_mib": statistics.median(peaks),
        "held_after_backward_mib": statistics.median(held),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--batch-resnet", type=int, default=32)
    args = parser.parse_args(argv)
    results = {
        "transformer (2 layers, d 128, 4 heads, T 64, batch 32)": measure(
            transformer_case, args.steps
        ),
        f"resnet20 (CIFAR, batch {args.batch_resnet})": measure(
            lambda: resnet_case(args.batch_resnet), args.steps
        ),
    }
    print("peak memory of one training step, MiB (tracemalloc; median over steps)")
    for name, r in results.items():
        print(
            f"  {name:<58} peak {r['peak_mib']:8.1f}   "
            f"held after backward with loss alive {r['held_after_backward_mib']:8.1f}"
        )
    return results


if __name__ == "__main__":
    main()
