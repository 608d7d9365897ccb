"""CNN benchmarks: a small MNIST CNN training step and CIFAR ResNet-20, mytorch vs PyTorch CPU.

    uv run python benchmarks/bench_cnn.py [--threads 1] [--rounds 5] [--steps 10]
                                          [--resnet-steps 2] [--skip-resnet] [--skip-memory]

Cases (float32, the same initial weights and data for both libraries):

* CNN training step: conv(1->32, 3x3) - ReLU - max-pool 2 - conv(32->64, 3x3) - ReLU - max-pool 2
  - linear(1600->128) - ReLU - linear(128->10), cross-entropy, SGD (lr 0.01), batch 64 of
  28x28 images (apps/mnist_cnn.py's model without dropout). Target: at most 2.0x PyTorch's time.
* ResNet-20 forward + backward: He et al.'s CIFAR ResNet-20 (BatchNorm in training mode,
  parameter-free option-A shortcuts), cross-entropy, batch 128 of 32x32x3 images; mytorch's is
  ``mytorch.vision.models.resnet20``, PyTorch's is written below in plain ``torch.nn`` with the
  same architecture and module names, and gets mytorch's initial weights (the losses are
  checked to agree before timing).

Both libraries run in the same process with the same thread count (1 by default: the BLAS and
OpenMP variables are set before NumPy or PyTorch is imported, and ``torch.set_num_threads``),
alternating in rounds after a warm-up; each time is the median over rounds of the mean time per
step in a round, and each ratio is also given as the median of the per-round ratios, which is
steadier when other processes load the machine.

Peak memory of a step, each library measured in its own fresh subprocess so neither sees the
other's allocations:

* ``rss``: the process's peak resident set size during the first step (``VmHWM`` in
  /proc/self/status, reset to the current size through /proc/self/clear_refs just before the
  step) minus its resident size before the step, for both libraries: the memory the step
  touches at its peak, including one-off allocations such as gradient buffers and PyTorch's
  autograd engine start-up (Linux only; ``ru_maxrss`` would not do, as a child process
  inherits its parent's peak through ``exec``).
* ``tracemalloc`` (mytorch only): peak of the traced allocations during a later step above
  those live before it; NumPy reports its array buffers to tracemalloc, so this is the peak of
  the arrays the step keeps alive at once (activations, im2col columns, gradients).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

CNN_BATCH = 64
RESNET_BATCH = 128
LR = 0.01


def _set_threads(n: int) -> None:
    # BLAS/OpenMP pools read these when NumPy (or torch) is first imported.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)


# ---------------------------------------------------------------------------------- the CNN
def cnn_weights(seed: int = 0) -> list:
    """PyTorch-layout weights and biases of the CNN, uniform(+-1/sqrt(fan_in)) like PyTorch."""
    import numpy as np

    rng = np.random.default_rng(seed)
    shapes = [(32, 1, 3, 3), (64, 32, 3, 3), (128, 1600), (10, 128)]
    params = []
    for shape in shapes:
        bound = 1 / np.sqrt(np.prod(shape[1:]))
        params.append(rng.uniform(-bound, bound, shape).astype(np.float32))
        params.append(rng.uniform(-bound, bound, shape[0]).astype(np.float32))
    return params


def cnn_data(seed: int = 0):
    import numpy as np

    rng = np.random.default_rng(seed + 1)
    x = rng.standard_normal((CNN_BATCH, 1, 28, 28), dtype=np.float32)
    return x, rng.integers(0, 10, CNN_BATCH)


def cnn_step_mytorch() -> Callable[[], float]:
    import mytorch.core as mt
    import mytorch.core.functional as F
    import mytorch.nn as nn
    from mytorch.core import optim

    model = nn.Sequential(
        nn.Conv2d(1, 32, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(1600, 128),
        nn.ReLU(),
        nn.Linear(128, 10),
    )
    for p, w in zip(model.parameters(), cnn_weights()):
        p.data[...] = w
    opt = optim.SGD(model.parameters(), lr=LR)
    x, y = (mt.from_numpy(a) for a in cnn_data())

    def step() -> float:
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return step


def cnn_step_torch() -> Callable[[], float]:
    import torch
    from torch import nn

    model = nn.Sequential(
        nn.Conv2d(1, 32, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(1600, 128),
        nn.ReLU(),
        nn.Linear(128, 10),
    )
    with torch.no_grad():
        for p, w in zip(model.parameters(), cnn_weights()):
            p.copy_(torch.from_numpy(w))
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    x, y = (torch.from_numpy(a) for a in cnn_data())

    def step() -> float:
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return step


# ---------------------------------------------------------------------------- ResNet-20
def torch_resnet20(num_classes: int = 10):
    """He et al.'s CIFAR ResNet-20 in plain torch.nn, with mytorch.vision's module names."""
    import torch.nn.functional as F
    from torch import nn

    class PadShortcut(nn.Module):  # option A: subsample, zero-pad the new channels
        def __init__(self, in_planes: int, planes: int, stride: int) -> None:
            super().__init__()
            self.stride = stride
            self.pad_front = (planes - in_planes) // 2
            self.pad_back = planes - in_planes - self.pad_front

        def forward(self, x):
            x = x[:, :, :: self.stride, :: self.stride]
            return F.pad(x, (0, 0, 0, 0, self.pad_front, self.pad_back))

    class BasicBlock(nn.Module):
        def __init__(self, in_planes: int, planes: int, stride: int) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.relu = nn.ReLU()
            self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.downsample = None
            if stride != 1 or in_planes != planes:
                self.downsample = PadShortcut(in_planes, planes, stride)

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return self.relu(out + identity)

    class ResNet20(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(16)
            self.relu = nn.ReLU()
            stages, in_planes = [], 16
            for planes, stride in ((16, 1), (32, 2), (64, 2)):
                blocks = []
                for s in (stride, 1, 1):
                    blocks.append(BasicBlock(in_planes, planes, s))
                    in_planes = planes
                stages.append(nn.Sequential(*blocks))
            self.layer1, self.layer2, self.layer3 = stages
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(64, num_classes)

        def forward(self, x):
            x = self.relu(self.bn1(self.conv1(x)))
            x = self.layer3(self.layer2(self.layer1(x)))
            return self.fc(self.avgpool(x).flatten(1))

    return ResNet20()


def resnet_state(seed: int = 0) -> dict:
    """mytorch.vision's ResNet-20 initial state (Kaiming normal convs) as NumPy arrays."""
    import mytorch.core as mt
    from mytorch.vision.models import resnet20

    mt.manual_seed(seed)
    return {k: v.numpy().copy() for k, v in resnet20().state_dict().items()}


def resnet_data(seed: int = 0):
    import numpy as np

    rng = np.random.default_rng(seed + 2)
    x = rng.standard_normal((RESNET_BATCH, 3, 32, 32), dtype=np.float32)
    return x, rng.integers(0, 10, RESNET_BATCH)


def resnet_step_mytorch(state: dict) -> Callable[[], float]:
    import mytorch.core as mt
    import mytorch.core.functional as F
    from mytorch.vision.models import resnet20

    model = resnet20()
    model.load_state_dict({k: mt.from_numpy(v.copy()) for k, v in state.items()})
    model.train()
    x, y = (mt.from_numpy(a) for a in resnet_data())

    def step() -> float:
        loss = F.cross_entropy(model(x), y)
        model.zero_grad()
        loss.backward()
        return loss.item()

    return step


def resnet_step_torch(state: dict) -> Callable[[], float]:
    import torch

    model = torch_resnet20()
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
    model.train()
    x, y = (torch.from_numpy(a) for a in resnet_data())

    def step() -> float:
        loss = torch.nn.functional.cross_entropy(model(x), y)
        model.zero_grad()
        loss.backward()
        return loss.item()

    return step


# ------------------------------------------------------------------------------- timing
def _timed(fn: Callable[[], float], steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        fn()
    return (time.perf_counter() - start) / steps


def compare(cases: dict[str, Callable[[], float]], steps: int, rounds: int) -> dict:
    """Median seconds per step of each case, and the median per-round ratio mytorch/torch."""
    for fn in cases.values():  # warm-up: allocator, BLAS pools, first-call imports
        _timed(fn, 1)
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, fn in cases.items():
            times[name].append(_timed(fn, steps))
    result = {name: statistics.median(t) for name, t in times.items()}
    if "torch" in times:
        pairs = zip(times["mytorch"], times["torch"])
        result["paired_ratio"] = statistics.median(m / t for m, t in pairs)
    return result


# ------------------------------------------------------------------------------- memory
def _resident_kib(field: str) -> int:
    """``VmRSS`` (resident now) or ``VmHWM`` (peak resident) of this process, from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])  # "VmHWM:   123456 kB"
    raise RuntimeError(f"/proc/self/status has no {field}")


def _memory_child(lib: str, case: str) -> dict:
    """Run in a fresh process: the step's peak memory figures (see the module docstring)."""
    import tracemalloc

    if case == "cnn":
        step = cnn_step_mytorch() if lib == "mytorch" else cnn_step_torch()
    else:
        state = resnet_state()
        step = resnet_step_mytorch(state) if lib == "mytorch" else resnet_step_torch(state)
    before = _resident_kib("VmRSS")
    try:  # reset the peak (VmHWM) to the current resident size
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass  # then the peak of the setup counts too: the figure is a lower bound
    step()  # the first step: its peak resident memory above what was resident before
    result = {"rss_mib": (_resident_kib("VmHWM") - before) / 1024}
    if lib == "mytorch":  # the live arrays' peak during a later step
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        step()
        result["tracemalloc_mib"] = (tracemalloc.get_traced_memory()[1] - base) / 2**20
        tracemalloc.stop()
    return result


def measure_memory(lib: str, case: str, threads: int) -> dict:
    cmd = [sys.executable, __file__, "--threads", str(threads), "--memory-child", lib, case]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"memory measurement {lib} {case} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=10, help="CNN steps per round")
    parser.add_argument("--resnet-steps", type=int, default=2, help="ResNet-20 steps per round")
    parser.add_argument("--skip-resnet", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--memory-child", nargs=2, metavar=("LIB", "CASE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    _set_threads(args.threads)
    if args.memory_child:  # only the library being measured is imported
        if args.memory_child[0] == "torch":
            import torch

            torch.set_num_threads(args.threads)
        print(json.dumps(_memory_child(*args.memory_child)))
        return {}

    try:
        import torch

        torch.set_num_threads(args.threads)
    except ImportError:
        torch = None
    if torch is None:
        print("PyTorch is not installed: printing mytorch figures only", file=sys.stderr)

    cases = [("cnn", f"CNN training step (SGD), batch {CNN_BATCH}", args.steps)]
    if not args.skip_resnet:
        cases.append(("resnet20", f"ResNet-20 forward+backward, batch {RESNET_BATCH}", None))
    state = resnet_state() if not args.skip_resnet else None

    results: dict = {}
    for case, title, steps in cases:
        if case == "cnn":
            fns = {"mytorch": cnn_step_mytorch()}
            if torch is not None:
                fns["torch"] = cnn_step_torch()
        else:
            fns = {"mytorch": resnet_step_mytorch(state)}
            if torch is not None:
                fns["torch"] = resnet_step_torch(state)
        if torch is not None:  # same weights and data: the first losses must agree
            losses = {name: fn() for name, fn in fns.items()}
            if abs(losses["mytorch"] - losses["torch"]) > 1e-3 * max(1.0, abs(losses["torch"])):
                raise RuntimeError(f"{case}: mytorch and PyTorch disagree: losses {losses}")
        timing = compare(fns, steps or args.resnet_steps, args.rounds)
        results[case] = {"title": title, "ms": {k: timing[k] * 1e3 for k in fns}}
        if "paired_ratio" in timing:
            results[case]["paired_ratio"] = timing["paired_ratio"]
        if not args.skip_memory:
            libs = ["mytorch"] + (["torch"] if torch is not None else [])
            results[case]["memory"] = memory = {}
            for lib in libs:
                try:
                    memory[lib] = measure_memory(lib, case, args.threads)
                except RuntimeError as e:  # e.g. no /proc outside Linux
                    print(f"no memory figures for {lib} {case}: {e}", file=sys.stderr)

    print(f"threads: {args.threads}, median of {args.rounds} rounds")
    header = f"{'case':<44} {'library':<8} {'ms/step':>9} {'rss MiB':>8} {'tracemalloc MiB':>16}"
    print(header)
    print("-" * len(header))
    for r in results.values():
        for lib, ms in r["ms"].items():
            mem = r.get("memory", {}).get(lib, {})
            rss = f"{mem['rss_mib']:8.1f}" if "rss_mib" in mem else f"{'-':>8}"
            tm = mem.get("tracemalloc_mib")
            tm = f"{tm:16.1f}" if tm is not None else f"{'-':>16}"
            print(f"{r['title']:<44} {lib:<8} {ms:9.2f} {rss} {tm}")
    for case, r in results.items():
        if "torch" in r["ms"]:
            ratio = r["ms"]["mytorch"] / r["ms"]["torch"]
            target = "  (target <= 2.0x)" if case == "cnn" else ""
            print(
                f"{r['title']}: mytorch / torch = {ratio:.2f}x "
                f"(median of per-round ratios {r['paired_ratio']:.2f}x){target}"
            )
    return results


if __name__ == "__main__":
    main()
