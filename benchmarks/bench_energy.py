"""Cost of measuring: counting and monitoring against a plain forward, and against PyTorch's counter.

    uv run python benchmarks/bench_energy.py [--threads 1] [--rounds 5]

Cases (float32, eval mode, no grad, 1 BLAS thread by default):

* count: ``mytorch.energy.count`` (one forward with grad recording, every op traced) over a
  plain forward, for ResNet-50 at 1x3x224x224; and for a small CNN (batch 8 at 32x32) next to
  ``torch.utils.flop_counter.FlopCounterMode`` over the same CNN built from torch.nn, each as a
  ratio to its own library's plain forward, with both MAC totals.
* monitor: a forward inside ``EnergyMonitor`` (sparsity and effective MACs per layer) over a plain
  forward, for the MNIST MLP (batch 500) and ResNet-18 (batch 4 at 64x64). Target: at most 3x a
  plain forward with effective MACs, 1.5x without.

Each time is the median over rounds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable


def _set_threads(n: int) -> None:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)


def _median(fn: Callable[[], object], rounds: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def small_cnn(nn):
    """The same CNN from mytorch.nn or torch.nn (identical APIs)."""
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1),
        nn.BatchNorm2d(32),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1),
        nn.BatchNorm2d(64),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(64, 10),
    )


def bench_count(rounds: int) -> None:
    import numpy as np

    import mytorch.core as mt
    import mytorch.nn as mnn
    from mytorch.energy import count
    from mytorch.vision.models import resnet50

    model = resnet50().eval()
    x = mt.randn(1, 3, 224, 224)
    ours = _median(lambda: count(model, x), rounds)
    with mt.no_grad():
        plain = _median(lambda: model(x), rounds)
    macs = count(model, x).macs
    print(
        f"count(resnet50, 1x3x224x224): {ours * 1e3:.0f} ms = {ours / plain:.2f}x its plain "
        f"forward, {macs / 1e9:.3f} GMACs"
    )
    xs = np.random.default_rng(0).standard_normal((8, 3, 32, 32)).astype(np.float32)
    ours_model, xm = small_cnn(mnn).eval(), mt.tensor(xs)
    ours_count = _median(lambda: count(ours_model, xm), rounds)
    with mt.no_grad():
        ours_plain = _median(lambda: ours_model(xm), rounds)
    ours_macs = count(ours_model, xm).macs
    try:
        import torch
        from torch.utils.flop_counter import FlopCounterMode
    except ImportError:
        print(f"small CNN, batch 8 at 32x32: count {ours_count / ours_plain:.2f}x its forward")
        print("  (torch missing: no PyTorch counter to compare with)")
        return
    tm, xt = small_cnn(torch.nn).eval(), torch.from_numpy(xs)

    def torch_count():
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            tm(xt)
        return counter.get_total_flops()

    theirs = _median(torch_count, rounds)
    with torch.no_grad():
        torch_plain = _median(lambda: tm(xt), rounds)
    print(
        f"small CNN, batch 8 at 32x32: count {ours_count * 1e3:.1f} ms "
        f"({ours_count / ours_plain:.2f}x our forward), FlopCounterMode {theirs * 1e3:.1f} ms "
        f"({theirs / torch_plain:.2f}x torch's forward); MACs {ours_macs:,} vs "
        f"{torch_count() // 2:,}"
    )


def bench_monitor(rounds: int) -> None:
    import mytorch.core as mt
    import mytorch.nn as nn
    from mytorch.energy import EnergyMonitor
    from mytorch.vision.models import resnet18

    mlp = nn.Sequential(
        nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10)
    )
    cases = [
        ("MLP 784-512-256-10, batch 500", mlp, mt.rand(500, 784)),
        ("ResNet-18, batch 4 at 64x64", resnet18(), mt.randn(4, 3, 64, 64)),
    ]
    for name, model, x in cases:
        model.eval()

        def plain(model=model, x=x):
            with mt.no_grad():
                model(x)

        def monitored(model=model, x=x, effective=True):
            with EnergyMonitor(model, effective=effective), mt.no_grad():
                model(x)

        base = _median(plain, rounds)
        full = _median(monitored, rounds)
        dense = _median(lambda: monitored(effective=False), rounds)
        print(
            f"{name}: forward {base * 1e3:.1f} ms; monitored {full * 1e3:.1f} ms "
            f"({full / base:.2f}x, target 3x); without effective MACs {dense * 1e3:.1f} ms "
            f"({dense / base:.2f}x, target 1.5x)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    _set_threads(args.threads)
    try:
        import torch

        torch.set_num_threads(args.threads)
    except ImportError:
        pass
    bench_count(args.rounds)
    bench_monitor(args.rounds)


if __name__ == "__main__":
    main()
