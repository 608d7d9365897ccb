"""Core benchmarks: an MLP training step and per-node engine overhead, mytorch vs PyTorch CPU.

    uv run python benchmarks/bench_core.py [--threads 1] [--rounds 7] [--steps 20]

Both libraries run in the same process with the same thread count, alternating in rounds; each
figure is the median over rounds of the mean time per step after warm-up. Targets: the MLP step
at most 1.2x PyTorch's time, the engine at most 1.5x PyTorch's time per node.
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


def _timed(fn: Callable[[], None], steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        fn()
    return (time.perf_counter() - start) / steps


def _median_rounds(cases: dict[str, Callable[[], None]], steps: int, rounds: int) -> dict:
    for fn in cases.values():  # warm-up
        _timed(fn, max(2, steps // 5))
    times: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(rounds):
        for name, fn in cases.items():
            times[name].append(_timed(fn, steps))
    return {k: statistics.median(v) for k, v in times.items()}


def mlp_step_mytorch(batch: int = 128, seed: int = 0) -> Callable[[], None]:
    import numpy as np

    import mytorch.core as mt
    import mytorch.core.functional as F
    from mytorch.core.optim import SGD

    rng = np.random.default_rng(seed)
    sizes = [784, 512, 256, 10]
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1 / np.sqrt(fan_in)
        w = mt.tensor(rng.uniform(-bound, bound, (fan_out, fan_in)), requires_grad=True)
        b = mt.tensor(rng.uniform(-bound, bound, (fan_out,)), requires_grad=True)
        params += [w, b]
    x = mt.tensor(rng.random((batch, 784)))
    y = mt.tensor(rng.integers(0, 10, batch))
    opt = SGD(params, lr=0.01)

    def step() -> None:
        h = x
        for i in range(0, len(params), 2):
            h = F.linear(h, params[i], params[i + 1])
            if i < len(params) - 2:
                h = F.relu(h)
        loss = F.cross_entropy(h, y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def mlp_step_torch(batch: int = 128, seed: int = 0) -> Callable[[], None]:
    import numpy as np
    import torch

    rng = np.random.default_rng(seed)
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 512),
        torch.nn.ReLU(),
        torch.nn.Linear(512, 256),
        torch.nn.ReLU(),
        torch.nn.Linear(256, 10),
    )
    x = torch.tensor(rng.random((batch, 784)), dtype=torch.float32)
    y = torch.tensor(rng.integers(0, 10, batch))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)

    def step() -> None:
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def engine_chain(lib, nodes: int = 1000) -> Callable[[], None]:
    """Forward and backward through ``nodes`` chained adds of 4x4 tensors."""
    a = lib.randn(4, 4, requires_grad=True)
    b = lib.randn(4, 4)

    def step() -> None:
        h = a
        for _ in range(nodes):
            h = h + b
        h.sum().backward()

    return step


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args(argv)
    _set_threads(args.threads)

    import mytorch.core as mt

    try:
        import torch

        torch.set_num_threads(args.threads)
    except ImportError:
        torch = None
        print("PyTorch is not installed: printing mytorch times only", file=sys.stderr)

    results = {}
    nodes = 1000
    mlp = {"mytorch": mlp_step_mytorch()}
    chain = {"mytorch": engine_chain(mt, nodes)}
    if torch is not None:
        mlp["torch"] = mlp_step_torch()
        chain["torch"] = engine_chain(torch, nodes)
    mlp_t = _median_rounds(mlp, args.steps, args.rounds)
    chain_t = _median_rounds(chain, max(3, args.steps // 4), args.rounds)
    print(f"threads: {args.threads}")
    print("MLP 784-512-256-10 training step, batch 128 (ms/step)")
    for k, v in mlp_t.items():
        print(f"  {k:<8} {v * 1e3:8.3f}")
    print(f"Engine: forward+backward through {nodes} chained adds (us/node)")
    for k, v in chain_t.items():
        print(f"  {k:<8} {v / nodes * 1e6:8.3f}")
    results["mlp_ms"] = {k: v * 1e3 for k, v in mlp_t.items()}
    results["engine_us_per_node"] = {k: v / nodes * 1e6 for k, v in chain_t.items()}
    if torch is not None:
        r_mlp = mlp_t["mytorch"] / mlp_t["torch"]
        r_eng = chain_t["mytorch"] / chain_t["torch"]
        print(
            f"ratio mytorch/torch: MLP step {r_mlp:.2f}x (target <= 1.2x), "
            f"engine {r_eng:.2f}x per node (target <= 1.5x)"
        )
        results["ratios"] = {"mlp": r_mlp, "engine": r_eng}
    return results


if __name__ == "__main__":
    main()
