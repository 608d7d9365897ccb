"""Sequence-model benchmarks: LSTM and Transformer-encoder classifier training steps, mytorch vs
PyTorch CPU.

    uv run python benchmarks/bench_seq.py [--threads 1] [--rounds 5] [--steps 5]
                                          [--skip-lstm] [--skip-transformer] [--profile]

Cases (float32; a step is forward, cross-entropy, backward and an Adam update, lr 1e-3; both
libraries start from the same weights and data, and their first losses are checked to agree):

* LSTM classifier: Embedding(5000, 64) - 1-layer LSTM(64 -> 128, batch_first) - the last hidden
  state - Linear(128 -> 2), batch 32 of sequences of 100 tokens. Target: at most 2.0x PyTorch.
* Transformer classifier: Embedding(5000, 128) - 2 post-norm TransformerEncoderLayers (d_model
  128, 4 heads, feed-forward 256, ReLU, dropout 0, batch_first) - mean over the sequence -
  Linear(128 -> 2), batch 32 of sequences of 64 tokens. Target: at most 1.4x PyTorch.

Both libraries run in the same process with the same thread count (1 by default: the BLAS and
OpenMP variables are set before NumPy or PyTorch is imported, and ``torch.set_num_threads``),
alternating in rounds after a warm-up; each time is the median over rounds of the mean time per
step in a round, and each ratio is also given as the median of the per-round ratios, which is
steadier when other processes load the machine. ``--profile`` adds a cProfile of mytorch's
steps (the functions with the most total and own time).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable

VOCAB, CLASSES, BATCH = 5000, 2, 32
LSTM_CFG = {"embed": 64, "hidden": 128, "seq": 100}
TRANSFORMER_CFG = {"d_model": 128, "heads": 4, "ff": 256, "layers": 2, "seq": 64}
TARGETS = {"lstm": 2.0, "transformer": 1.4}


def _set_threads(n: int) -> None:
    # BLAS/OpenMP pools read these when NumPy (or torch) is first imported.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)


def _timed(fn: Callable[[], float], steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        fn()
    return (time.perf_counter() - start) / steps


# ---------------------------------------------------------------- models (same module names)
def lstm_classifier(lib):
    """Embedding - LSTM - last hidden state - Linear, in mytorch (lib = "mytorch") or torch."""
    if lib == "torch":
        import torch.nn as nn

        LSTM = nn.LSTM
    else:
        import mytorch.nn as nn
        from mytorch.seq import LSTM

    class LSTMClassifier(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(VOCAB, LSTM_CFG["embed"])
            self.lstm = LSTM(LSTM_CFG["embed"], LSTM_CFG["hidden"], batch_first=True)
            self.fc = nn.Linear(LSTM_CFG["hidden"], CLASSES)

        def forward(self, tokens):  # tokens (B, T)
            _, (h, _) = self.lstm(self.embed(tokens))  # h (1, B, hidden)
            return self.fc(h[-1])  # (B, classes)

    return LSTMClassifier()


def transformer_classifier(lib):
    """Embedding - TransformerEncoder - mean over positions - Linear, in mytorch or torch."""
    cfg = TRANSFORMER_CFG
    if lib == "torch":
        import torch.nn as nn

        layer = nn.TransformerEncoderLayer(
            cfg["d_model"], cfg["heads"], cfg["ff"], dropout=0.0, batch_first=True
        )
        encoder = nn.TransformerEncoder(layer, cfg["layers"], enable_nested_tensor=False)
    else:
        import mytorch.nn as nn
        from mytorch.seq import TransformerEncoder, TransformerEncoderLayer

        layer = TransformerEncoderLayer(
            cfg["d_model"], cfg["heads"], cfg["ff"], dropout=0.0, batch_first=True
        )
        encoder = TransformerEncoder(layer, cfg["layers"])

    class TransformerClassifier(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(VOCAB, cfg["d_model"])
            self.encoder = encoder
            self.fc = nn.Linear(cfg["d_model"], CLASSES)

        def forward(self, tokens):  # tokens (B, T)
            x = self.encoder(self.embed(tokens))  # (B, T, E)
            return self.fc(x.mean(dim=1))  # (B, classes)

    return TransformerClassifier()


# ---------------------------------------------------------------- training steps
def make_steps(build: Callable, seq: int, seed: int = 0) -> dict[str, Callable[[], float]]:
    """One training-step closure per library (returning its loss), same weights and data."""
    import numpy as np

    import mytorch.core as mt
    import mytorch.core.functional as F
    from mytorch.core import optim

    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, VOCAB, (BATCH, seq))  # (B, T)
    labels = rng.integers(0, CLASSES, BATCH)  # (B,)

    mt.manual_seed(seed)
    model = build("mytorch")
    opt = optim.Adam(model.parameters(), lr=1e-3)
    x, y = mt.tensor(tokens), mt.tensor(labels)

    def step_mytorch() -> float:
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    steps = {"mytorch": step_mytorch}
    if "torch" in sys.modules:
        import torch

        t_model = build("torch")
        state = {k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()}
        t_model.load_state_dict(state)
        t_opt = torch.optim.Adam(t_model.parameters(), lr=1e-3)
        tx, ty = torch.from_numpy(tokens), torch.from_numpy(labels)

        def step_torch() -> float:
            loss = torch.nn.functional.cross_entropy(t_model(tx), ty)
            t_opt.zero_grad()
            loss.backward()
            t_opt.step()
            return loss.item()

        first = step_mytorch(), step_torch()  # also a check that the two compute the same
        if abs(first[0] - first[1]) > 1e-4 * max(1.0, abs(first[1])):
            raise AssertionError(f"first losses differ: mytorch {first[0]}, torch {first[1]}")
        steps["torch"] = step_torch
    return steps


def bench(steps: dict[str, Callable[[], float]], n: int, rounds: int) -> tuple[dict, float]:
    """Median time per step of each library, and the median per-round ratio (or nan)."""
    for fn in steps.values():  # warm-up
        _timed(fn, max(1, n // 2))
    times: dict[str, list[float]] = {k: [] for k in steps}
    for _ in range(rounds):
        for name, fn in steps.items():
            times[name].append(_timed(fn, n))
    ratio = float("nan")
    if "torch" in times:
        ratio = statistics.median(m / t for m, t in zip(times["mytorch"], times["torch"]))
    return {k: statistics.median(v) for k, v in times.items()}, ratio


def profile(step: Callable[[], float], n: int, title: str) -> None:
    """cProfile ``n`` calls of ``step``: the top functions by cumulative and by own time."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n):
        step()
    profiler.disable()
    print(f"\n---- cProfile of {n} mytorch {title} steps")
    stats = pstats.Stats(profiler).strip_dirs()
    stats.sort_stats("cumulative").print_stats(25)
    stats.sort_stats("tottime").print_stats(20)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=5, help="steps per round")
    parser.add_argument("--skip-lstm", action="store_true")
    parser.add_argument("--skip-transformer", action="store_true")
    parser.add_argument("--profile", action="store_true", help="cProfile mytorch's steps")
    args = parser.parse_args(argv)
    _set_threads(args.threads)

    import mytorch.core  # noqa: F401  (NumPy's thread pool starts with the variables above)

    try:
        import torch

        torch.set_num_threads(args.threads)
    except ImportError:
        print("PyTorch is not installed: printing mytorch times only", file=sys.stderr)

    cases = {}
    if not args.skip_lstm:
        cases["lstm"] = (
            f"LSTM classifier: vocab {VOCAB}, embed {LSTM_CFG['embed']}, hidden "
            f"{LSTM_CFG['hidden']}, seq {LSTM_CFG['seq']}, batch {BATCH}",
            lstm_classifier,
            LSTM_CFG["seq"],
        )
    if not args.skip_transformer:
        cfg = TRANSFORMER_CFG
        cases["transformer"] = (
            f"Transformer classifier: d_model {cfg['d_model']}, {cfg['heads']} heads, ff "
            f"{cfg['ff']}, {cfg['layers']} layers, seq {cfg['seq']}, batch {BATCH}",
            transformer_classifier,
            cfg["seq"],
        )

    print(f"threads: {args.threads}; training step with Adam, float32 (ms/step)")
    results = {}
    for name, (title, build, seq) in cases.items():
        steps = make_steps(build, seq)
        times, ratio = bench(steps, args.steps, args.rounds)
        print(title)
        for lib, t in times.items():
            print(f"  {lib:<8} {t * 1e3:9.2f}")
        results[name] = {"ms": {k: v * 1e3 for k, v in times.items()}, "ratio": ratio}
        if "torch" in times:
            print(f"  ratio mytorch/torch {ratio:.2f}x (target <= {TARGETS[name]}x)")
        if args.profile:
            profile(steps["mytorch"], args.steps, name)
    if all("torch" in r["ms"] for r in results.values()) and results:
        summary = ", ".join(f"{k} {r['ratio']:.2f}x" for k, r in results.items())
        print(f"ratios mytorch/torch: {summary}")
    return results


if __name__ == "__main__":
    main()
