"""Train a tiny Transformer to add up a sequence of digits with mytorch, and draw its attention.

The task: read ``--digits`` random digits 0-9 (5 by default, e.g. ``3 1 4 1 5``) and name their
sum (``14``), one of 9 * digits + 1 classes. The model prepends a [SUM] token, embeds the
tokens, adds learned positions, runs ``--layers`` pre-norm Transformer blocks whose self-attention
is an explicit ``MultiheadAttention`` (``--heads 1`` by default: a single head), and reads the
sum from the [SUM] token's output with a linear layer. A single head solves it by attending
uniformly from [SUM] over the sequence: the average of the digit values, times the length, is
the sum. The attention heatmap shows it.

Data: every sequence is equally likely; a fixed random set of ``--test-size`` sequences is held
out and never drawn for training (training batches are redrawn until they avoid it), so the
accuracy is on sequences the model has never seen. Exact match = the predicted sum is right.

Expected result with the defaults (5 digits, d_model 64, 1 layer, 1 head, 37,678 parameters,
Adam lr 3e-3 with warm-up and cosine decay, 3,000 steps of 128 sequences), on this machine's 2
CPU cores: held-out exact match 0.9945, 0.9970 and 0.9945 for seeds 0, 1 and 2 (2,000 held-out
sequences), in 1-3 minutes: 160 s measured for seed 0 (1,600-5,400 sequences/s) while other
jobs shared the 2 cores (load average 13-16), 55-116 s in earlier measurements on a quieter
machine (about 10,000 sequences/s on an idle core). It passes 0.99 after about 1,750 steps. The heatmap shows the [SUM] row spread almost evenly (about 1/6
each) over its own token and the digits: the head averages them.
With ``--heads 4 --layers 2 --steps 1500``: 0.9875 in 58 s (seed 0).

Run:
    uv run apps/toy_transformer.py                           # defaults
    uv run apps/toy_transformer.py --heads 4 --layers 2      # several heads and layers
    uv run apps/toy_transformer.py --resume                  # continue an interrupted run
    uv run apps/toy_transformer.py --help                    # every option

Writes to ``--out`` (default runs/toy_transformer): checkpoint.safetensors (model, optimizer,
scheduler, step, history, random state), attention.png (each head's attention weights on a few
held-out sequences) and curves.png (loss and accuracy).
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tyro
from threadpoolctl import threadpool_limits
from tqdm import tqdm

import mytorch.core as mt
import mytorch.core.functional as F
import mytorch.nn as nn
from mytorch.core import optim
from mytorch.seq import MultiheadAttention


@dataclass
class Args:
    seed: int = 0  # seeds the initial weights and the training batches
    digits: int = 5  # digits per sequence; the sum has 9 * digits + 1 possible values
    d_model: int = 64  # width of the token vectors
    heads: int = 1  # attention heads per layer (d_model must be divisible by it)
    layers: int = 1  # Transformer blocks
    ff: int = 128  # hidden width of each block's feed-forward network
    steps: int = 3000  # optimizer steps in all
    batch_size: int = 128  # sequences per optimizer step
    lr: float = 3e-3  # peak learning rate of Adam (linear warm-up, then cosine decay to 0)
    warmup: int = 100  # steps of linear learning-rate warm-up
    test_size: int = 2000  # held-out sequences (never used for training)
    eval_every: int = 250  # evaluate and save a checkpoint every this many steps
    out: str = "runs/toy_transformer"  # where the checkpoint and figures go
    resume: bool = False  # continue from <out>/checkpoint.safetensors (give the same options)
    threads: int = 1  # BLAS threads; 1 avoids a spinning thread pool slowing down a busy CPU


DESCRIPTION = __doc__.splitlines()[0]
CLI = (tyro.conf.FlagCreatePairsOff,)  # a bool gets one flag: --resume, not also --no-resume


SUM_TOKEN = 10  # token ids 0-9 are the digits, 10 is [SUM], prepended to every sequence
TEST_SEED = 2024  # the held-out set depends only on --digits and --test-size, never on --seed


def parse_args(argv: list[str] | None = None) -> Args:
    """``Args`` from the command line (``--help`` lists every flag with its default)."""
    args = tyro.cli(Args, args=argv, description=DESCRIPTION, config=CLI)
    if args.d_model % args.heads:
        print(f"error: --d-model {args.d_model} is not divisible by --heads {args.heads}",
              file=sys.stderr)  # fmt: skip
        raise SystemExit(2)
    return args


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


# ---------------------------------------------------------------- data
def to_digits(codes: np.ndarray, digits: int) -> np.ndarray:
    """Integers in [0, 10**digits) -> their decimal digits (N, digits), most significant first."""
    powers = 10 ** np.arange(digits - 1, -1, -1, dtype=np.int64)  # (digits,)
    return codes[:, None] // powers % 10  # (N, digits)


def held_out_codes(digits: int, test_size: int) -> np.ndarray:
    """The sorted codes (integers whose decimal digits are the sequence) of the held-out set."""
    total = 10**digits
    if test_size > total // 2:
        raise ValueError(f"--test-size {test_size} is over half of the {total} sequences")
    rng = np.random.default_rng(TEST_SEED)
    return np.sort(rng.choice(total, size=test_size, replace=False))


def make_batch(
    rng: np.random.Generator, n: int, digits: int, exclude: np.ndarray
) -> tuple[mt.Tensor, mt.Tensor]:
    """``n`` random training sequences avoiding ``exclude``: tokens (n, 1 + digits), sums (n,)."""
    codes = rng.integers(0, 10**digits, size=n)
    clash = np.isin(codes, exclude)
    while clash.any():  # redraw the held-out ones
        codes[clash] = rng.integers(0, 10**digits, size=int(clash.sum()))
        clash = np.isin(codes, exclude)
    return encode(to_digits(codes, digits))


def encode(seqs: np.ndarray) -> tuple[mt.Tensor, mt.Tensor]:
    """Digit rows (N, D) -> tokens with [SUM] in front (N, 1 + D) and their sums (N,)."""
    tokens = np.concatenate([np.full((len(seqs), 1), SUM_TOKEN), seqs], axis=1)  # (N, 1 + D)
    return mt.tensor(tokens, dtype=mt.int64), mt.tensor(seqs.sum(axis=1), dtype=mt.int64)


# ---------------------------------------------------------------- model
class Block(nn.Module):
    """Pre-norm Transformer block: x + attn(norm(x)), then x + ff(norm(x)).

    The attention is an explicit ``MultiheadAttention`` so its weights can be kept: after each
    forward, ``attn_weights`` holds them per head, (B, H, T, T), detached.
    """

    def __init__(self, d_model: int, heads: int, ff: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(d_model)
        self.attn = MultiheadAttention(d_model, heads, batch_first=True)
        self.norm2 = nn.LayerNorm(d_model)
        self.ff = nn.Sequential(nn.Linear(d_model, ff), nn.ReLU(), nn.Linear(ff, d_model))
        self.attn_weights: mt.Tensor | None = None

    def forward(self, x: mt.Tensor) -> mt.Tensor:  # x (B, T, E)
        h = self.norm1(x)
        out, weights = self.attn(h, h, h, need_weights=True, average_attn_weights=False)
        self.attn_weights = weights.detach()  # (B, H, T, T)
        x = x + out  # (B, T, E)
        return x + self.ff(self.norm2(x))  # (B, T, E)


class DigitSum(nn.Module):
    """Tokens (B, 1 + D) -> logits (B, 9 * D + 1) over the possible sums, read at [SUM]."""

    def __init__(self, args: Args) -> None:
        super().__init__()
        self.embed = nn.Embedding(SUM_TOKEN + 1, args.d_model)
        self.pos = nn.Embedding(args.digits + 1, args.d_model)  # learned positions
        self.blocks = nn.Sequential(
            *[Block(args.d_model, args.heads, args.ff) for _ in range(args.layers)]
        )
        self.norm = nn.LayerNorm(args.d_model)
        self.head = nn.Linear(args.d_model, 9 * args.digits + 1)

    def forward(self, tokens: mt.Tensor) -> mt.Tensor:  # tokens (B, T)
        positions = mt.arange(tokens.shape[1])  # (T,)
        x = self.embed(tokens) + self.pos(positions)  # (B, T, E)
        x = self.norm(self.blocks(x))  # (B, T, E)
        return self.head(x[:, 0])  # (B, classes), from the [SUM] token

    def attention_maps(self) -> list[mt.Tensor]:
        """Each block's attention weights from the last forward: L x (B, H, T, T)."""
        return [block.attn_weights for block in self.blocks]


def make_model(args: Args) -> DigitSum:
    mt.manual_seed(args.seed)
    return DigitSum(args)


def make_optimizer(model: nn.Module, args: Args) -> tuple[optim.Optimizer, object]:
    """Adam with a linear warm-up to ``lr`` then cosine decay to 0 at ``steps``."""
    optimizer = optim.Adam(model.parameters(), lr=args.lr)

    def factor(step: int) -> float:
        if step < args.warmup:
            return (step + 1) / args.warmup
        progress = (step - args.warmup) / max(1, args.steps - args.warmup)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return optimizer, optim.lr_scheduler.LambdaLR(optimizer, factor)


@mt.no_grad()
def evaluate(model: nn.Module, tokens: mt.Tensor, sums: mt.Tensor) -> tuple[float, float]:
    """Mean loss and exact-match accuracy of ``model`` on (tokens, sums)."""
    model.eval()
    logits = model(tokens)  # (N, classes)
    loss = F.cross_entropy(logits, sums).item()
    acc = (logits.argmax(dim=1) == sums).float().mean().item()
    model.train()
    return loss, acc


# ---------------------------------------------------------------- figures
def save_attention(model: DigitSum, tokens: mt.Tensor, sums: mt.Tensor, path: Path) -> None:
    """Heatmaps of every layer's and head's attention (query row -> key column) on a few
    held-out sequences, titled with the true and predicted sum."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no window
    import matplotlib.pyplot as plt

    with mt.no_grad():
        model.eval()
        preds = model(tokens).argmax(dim=1).numpy()  # (N,)
        model.train()
    maps = [w.numpy() for w in model.attention_maps()]  # L x (N, H, T, T)
    n, heads = len(tokens), maps[0].shape[1]
    rows = [(layer, head) for layer in range(len(maps)) for head in range(heads)]
    fig, axes = plt.subplots(
        len(rows), n, figsize=(2.6 * n, 2.6 * len(rows)), squeeze=False, constrained_layout=True
    )
    for i in range(n):
        labels = ["SUM"] + [str(d) for d in tokens[i, 1:].tolist()]
        for r, (layer, head) in enumerate(rows):
            ax = axes[r, i]
            weights = maps[layer][i, head]  # (T, T), rows sum to 1
            image = ax.imshow(weights, cmap="viridis", vmin=0, vmax=1)
            for (q, k), w in np.ndenumerate(weights):
                color = "black" if w > 0.6 else "white"
                ax.text(k, q, f"{w:.2f}", ha="center", va="center", color=color, fontsize=6)
            ax.set_xticks(range(len(labels)), labels, fontsize=7)
            ax.set_yticks(range(len(labels)), labels, fontsize=7)
            if r == 0:
                mark = "ok" if preds[i] == sums[i].item() else "WRONG"
                ax.set_title(f"sum {sums[i].item()}, pred {preds[i]} ({mark})", fontsize=8)
            if i == 0:
                ax.set_ylabel(f"layer {layer + 1} head {head + 1}\nquery", fontsize=8)
            if r == len(rows) - 1:
                ax.set_xlabel("key", fontsize=8)
    fig.colorbar(image, ax=axes, shrink=0.6, label="attention weight")
    fig.suptitle("Attention on held-out sequences (row: query token, column: key token)")
    fig.savefig(path, dpi=100)
    plt.close(fig)


def save_curves(history: dict, path: Path) -> None:
    """Training loss and held-out loss/exact match at each evaluation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    axes[0].plot(history["step"], history["train_loss"], "o-", label="train")
    axes[0].plot(history["step"], history["test_loss"], "o-", label="held-out")
    axes[0].set(xlabel="step", ylabel="cross-entropy", yscale="log")
    axes[1].plot(history["step"], history["test_acc"], "o-", label="held-out")
    axes[1].set(xlabel="step", ylabel="exact match", ylim=(0, 1.02))
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle("Transformer learning to sum digits")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# ---------------------------------------------------------------- training
def main() -> None:
    args = parse_args()
    threadpool_limits(limits=args.threads)
    start_time = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    checkpoint_path = out / "checkpoint.safetensors"

    # Seeding: the global generator sets the initial weights; the batch of step s is drawn
    # from a generator seeded with (seed, s), so a resumed run sees the same batches.
    np.random.seed(args.seed)
    test_codes = held_out_codes(args.digits, args.test_size)
    x_test, y_test = encode(to_digits(test_codes, args.digits))  # (N, 1 + D), (N,)
    print(
        f"task: sum of {args.digits} digits ({9 * args.digits + 1} classes); "
        f"{len(test_codes)} held-out of {10**args.digits} sequences"
    )

    model = make_model(args)
    optimizer, scheduler = make_optimizer(model, args)
    print(model)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{n_params:,} parameters, {args.heads} head(s) x {args.layers} layer(s), Adam")

    history = {"step": [], "train_loss": [], "test_loss": [], "test_acc": [], "seconds": []}
    start_step = 0
    if args.resume and checkpoint_path.exists():
        checkpoint = nn.load(checkpoint_path)
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        scheduler.load_state_dict(checkpoint["scheduler"])
        history = checkpoint["history"]
        start_step = checkpoint["step"]
        mt.set_rng_state(checkpoint["rng_state"])
        print(f"resumed from {checkpoint_path} after step {start_step}")
    elif args.resume:
        print(f"nothing to resume at {checkpoint_path}; starting from scratch")

    model.train()
    loss_sum, seen, chunk_start, last_loss = 0.0, 0, time.perf_counter(), None
    # a live bar on a terminal (none when the output goes to a file or a pipe)
    bar = tqdm(range(start_step, args.steps), desc="train", leave=False, disable=None)
    for step in bar:
        rng = np.random.default_rng([args.seed, step])
        tokens, sums = make_batch(rng, args.batch_size, args.digits, test_codes)  # (B, T), (B,)
        loss = F.cross_entropy(model(tokens), sums)
        last_loss = stop_if_diverged(loss.item(), last_loss, f"step {step + 1}")
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        loss_sum += last_loss
        seen += 1
        if step % 20 == 0:
            bar.set_postfix(loss=f"{last_loss:.4f}")

        if (step + 1) % args.eval_every == 0 or step + 1 == args.steps:
            test_loss, test_acc = evaluate(model, x_test, y_test)
            seconds = time.perf_counter() - chunk_start
            stats = {
                "step": step + 1,
                "train_loss": loss_sum / seen,
                "test_loss": test_loss,
                "test_acc": test_acc,
                "seconds": seconds,
            }
            for key, value in stats.items():
                history[key].append(value)
            tqdm.write(
                f"step {step + 1:5d}/{args.steps}  train loss {stats['train_loss']:.4f}"
                f"  held-out loss {test_loss:.4f} exact match {test_acc:.4f}"
                f"  ({seen * args.batch_size / seconds:,.0f} seq/s)"
            )
            stop_if_diverged(last_loss, last_loss, f"step {step + 1}", model)
            state = {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "step": step + 1,
                "history": history,
                "rng_state": mt.get_rng_state(),
                "args": dataclasses.asdict(args),
            }
            nn.save(state, checkpoint_path)  # atomic: an interrupted save keeps the previous one
            loss_sum, seen, chunk_start = 0.0, 0, time.perf_counter()
    bar.close()

    test_loss, test_acc = evaluate(model, x_test, y_test)
    shown = np.linspace(0, len(x_test) - 1, 4).astype(np.int64)  # a few spread-out examples
    save_attention(model, x_test[shown], y_test[shown], out / "attention.png")
    if history["step"]:
        save_curves(history, out / "curves.png")
    print(f"figures: {out / 'attention.png'}, {out / 'curves.png'}; checkpoint: {checkpoint_path}")
    seconds = time.perf_counter() - start_time
    print(
        f"held-out exact match: {test_acc:.4f} ({args.digits} digits, {len(x_test)} sequences, "
        f"{args.heads} head(s), {args.layers} layer(s), {seconds:.1f} s)"
    )


if __name__ == "__main__":
    main()
