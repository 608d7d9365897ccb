"""Train a character-level LSTM language model on movie-review text and sample from it.

The model embeds each character (``--embed-dim``), runs a stacked LSTM (``--hidden`` units,
``--num-layers`` layers) and predicts the next character with a linear layer (cross-entropy).
Training reads random windows of ``--seq-len`` characters from the training text (Adam with
gradient clipping). After each epoch it reports the validation loss in bits per character,
prints a sample continuing ``--prompt`` (see ``generate``: temperature and top-k sampling from
a seeded generator) and saves a checkpoint; ``--resume`` continues a stopped run and ends with
exactly the weights an uninterrupted run would have.

Data: the MovieReviews snippets bundled with mytorch-seq (12,752 Rotten Tomatoes critic
sentences, one per line, no network needed): its training split (10,201 snippets, about 1.15
million characters) is the training text and the first ``--val-chars`` characters of its test
split (2,551 snippets; 60,000 by default) the validation text. The 114 characters of the
training text, after <pad> and <unk>, are the vocabulary.

Expected result with the defaults (6 epochs of 100 batches of 64 x 100 characters), on this
machine's 2 CPU cores (one BLAS thread): validation 2.41 bits per character (seed 0), down from
6.86 for a uniform guess over the vocabulary and 4.48 for the characters' frequencies, in 1.5-16
minutes: 958 s measured (130-172 s per epoch, about 4,300 training characters/s) while other
jobs crowded the 2 cores (load average 16-21), about 90 s (14 s per epoch, 45,000 characters/s)
in an earlier measurement on a less busy machine; by then the samples hold real words and
sentence shapes ("This movie will ... a great ... of the ...") among invented ones. Longer runs
(``--max-batches 0``, more epochs, ``--hidden 256``) keep improving.

Run:
    uv run apps/char_lm.py                                   # defaults
    uv run apps/char_lm.py --hidden 256 --num-layers 2 --epochs 20
    uv run apps/char_lm.py --epochs 10 --resume              # continue runs/char_lm to 10
    uv run apps/char_lm.py --help                            # every option

Writes to ``--out`` (default runs/char_lm): checkpoint.safetensors (model, optimizer, epoch,
history, random state, vocabulary) and curves.png (training and validation bits per character).
"""

from __future__ import annotations

import dataclasses
import itertools
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
from mytorch.core.optim import clip_grad_norm_
from mytorch.core.random import Generator, rng
from mytorch.seq import LSTM, CharTokenizer, MovieReviews, SeqDataLoader, Vocab


@dataclass
class Args:
    seed: int = 0  # seeds the initial weights, dropout, the training windows and the samples
    epochs: int = 6  # epochs to train in all
    max_batches: int = 100  # batches per epoch (0 = every window of the training text once)
    batch_size: int = 64  # windows per optimizer step
    seq_len: int = 100  # characters per window (backpropagation through time this far)
    lr: float = 6e-3  # Adam learning rate
    clip: float = 1.0  # clip the gradients' global L2 norm to this (0 = no clipping)
    embed_dim: int = 32  # size of the character embeddings
    hidden: int = 192  # LSTM units per layer
    num_layers: int = 1  # stacked LSTM layers
    dropout: float = 0.1  # dropout on the LSTM's outputs (and between its layers)
    val_chars: int = 60_000  # characters of the test split used for validation (0 = all)
    prompt: str = "This movie "  # the start of each sample
    sample_len: int = 200  # characters generated per sample
    temperature: float = 0.8  # sampling temperature: lower is safer, higher more varied
    top_k: int = 0  # sample from the k most likely characters only (0 = from all)
    out: str = "runs/char_lm"  # where the checkpoint and figure go
    resume: bool = False  # continue from <out>/checkpoint.safetensors if it exists
    threads: int = 1  # BLAS threads; 1 avoids a spinning thread pool slowing down a busy CPU


DESCRIPTION = __doc__.splitlines()[0]
CLI = (tyro.conf.FlagCreatePairsOff,)  # a bool gets one flag: --resume, not also --no-resume


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


# ---------------------------------------------------------------- data
def load_text(split: str) -> str:
    """The MovieReviews snippets of ``split``, one per line."""
    return "\n".join(MovieReviews(split=split).texts) + "\n"


def build_vocab(text: str) -> Vocab:
    """Every character of ``text`` (after ``<pad>`` and ``<unk>``), most frequent first."""
    return Vocab.build([CharTokenizer()(text)])


def encode(text: str, vocab: Vocab) -> np.ndarray:
    """Character ids (N,) int64; characters outside the vocabulary become ``<unk>``."""
    return np.asarray(vocab.encode(CharTokenizer()(text)), dtype=np.int64)


# ---------------------------------------------------------------- model
class CharLM(nn.Module):
    """Embedding -> LSTM -> Linear: next-character logits at every position.

    ``vocab`` is kept on the model (not as a parameter) so that ``generate`` can turn text into
    ids and back.
    """

    def __init__(
        self,
        vocab: Vocab,
        embed_dim: int = 32,
        hidden: int = 192,
        num_layers: int = 1,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.vocab = vocab
        self.embedding = nn.Embedding(len(vocab), embed_dim, padding_idx=0)
        self.lstm = LSTM(
            embed_dim,
            hidden,
            num_layers=num_layers,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(hidden, len(vocab))

    def forward(self, ids: mt.Tensor, state=None):
        """Logits (B, T, V) for ids (B, T), and the LSTM's final ``(h, c)`` to continue from."""
        x = self.embedding(ids)  # (B, T, E)
        out, state = self.lstm(x, state)  # (B, T, H)
        return self.fc(self.dropout(out)), state  # (B, T, V)


def make_model(args: Args, vocab: Vocab) -> CharLM:
    return CharLM(vocab, args.embed_dim, args.hidden, args.num_layers, args.dropout)


@mt.no_grad()
def generate(
    model: CharLM,
    prompt: str,
    length: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    generator: Generator | None = None,
) -> str:
    """``prompt`` followed by ``length`` characters sampled from ``model`` one at a time.

    Each character is drawn from ``softmax(logits / temperature)`` restricted to the ``top_k``
    most likely characters (all when None; ``top_k=1`` is greedy decoding), never ``<pad>`` or
    ``<unk>``. Draws come from ``generator`` (the global generator when None), so a seeded
    generator gives the same text every time. The model is left in the mode it was in.
    Example: ``generate(model, "The plot ", 50, temperature=0.8, generator=mt.Generator(0))``.
    """
    if not isinstance(length, int) or length < 0:
        raise ValueError(f"generate: length must be a non-negative int, got {length!r}")
    if not temperature > 0:
        raise ValueError(f"generate: temperature must be > 0, got {temperature!r}")
    vocab = model.vocab
    n = len(vocab)
    if top_k is not None and (not isinstance(top_k, int) or not 1 <= top_k <= n):
        raise ValueError(f"generate: top_k must be an int in [1, {n}] or None, got {top_k!r}")
    draw = rng(generator)
    ids = vocab.encode(list(prompt)) or [vocab["\n"]]  # an empty prompt starts a new line
    was_training = model.training
    model.eval()
    logits, state = model(mt.tensor([ids]))  # (1, T, V)
    sampled = []
    for _ in range(length):
        z = logits.numpy()[0, -1].astype(np.float64) / temperature  # (V,)
        z[[vocab.pad_index, vocab.unk_index]] = -np.inf
        if top_k is not None and top_k < n:
            z[np.argsort(z, kind="stable")[: n - top_k]] = -np.inf  # all but the k largest
        p = np.exp(z - z.max())
        p /= p.sum()
        next_id = int(draw.choice(n, p=p))
        sampled.append(next_id)
        logits, state = model(mt.tensor([[next_id]]), state)  # (1, 1, V)
    model.train(was_training)
    return prompt + "".join(vocab.decode(sampled))


# ---------------------------------------------------------------- training
def lm_loss(model: CharLM, x: mt.Tensor, y: mt.Tensor) -> mt.Tensor:
    """Mean next-character cross-entropy (nats) for inputs x (B, T) and targets y (B, T)."""
    logits, _ = model(x)  # (B, T, V)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


@mt.no_grad()
def evaluate(model: CharLM, ids: np.ndarray, seq_len: int, batch_size: int = 64) -> float:
    """Mean next-character cross-entropy (nats) over the windows of ``ids``, in order."""
    model.eval()
    total, count = 0.0, 0
    for x, y in SeqDataLoader(ids, batch_size, seq_len):  # (B, T), (B, T)
        total += lm_loss(model, x, y).item() * y.numel()
        count += y.numel()
    return total / count


def save_curves(history: dict, path: Path) -> None:
    """Training and validation bits per character per epoch."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no window
    import matplotlib.pyplot as plt

    epochs = range(1, len(history["train_bpc"]) + 1)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(epochs, history["train_bpc"], "o-", label="train")
    ax.plot(epochs, history["val_bpc"], "o-", label="validation")
    ax.set(xlabel="epoch", ylabel="bits per character", title="character LSTM on MovieReviews")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    threadpool_limits(limits=args.threads)
    start_time = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    checkpoint_path = out / "checkpoint.safetensors"

    # Seeding: the global generator drives weight init and dropout; the loader's generator is
    # reseeded from (seed, epoch) each epoch, so a resumed run sees the same windows; samples
    # use generators of their own, so printing them changes nothing else.
    mt.manual_seed(args.seed)
    np.random.seed(args.seed)
    loader_rng = Generator(args.seed)

    train_text, val_text = load_text("train"), load_text("test")
    if args.val_chars:
        val_text = val_text[: args.val_chars + 1]
    vocab = build_vocab(train_text)
    train_ids, val_ids = encode(train_text, vocab), encode(val_text, vocab)
    loader = SeqDataLoader(
        train_ids, args.batch_size, args.seq_len, shuffle=True, drop_last=True,
        generator=loader_rng,
    )  # fmt: skip
    n_batches = min(len(loader), args.max_batches or len(loader))
    print(
        f"data: MovieReviews, {len(train_ids):,} train / {len(val_ids):,} validation characters, "
        f"vocabulary {len(vocab)} characters; {n_batches} batches of "
        f"{args.batch_size} x {args.seq_len} per epoch"
    )

    model = make_model(args, vocab)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    print(model)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{n_params:,} parameters, Adam lr {args.lr:g}, clip {args.clip:g}")

    history = {"train_bpc": [], "val_bpc": [], "seconds": [], "samples": []}
    start_epoch = 0
    if args.resume and checkpoint_path.exists():
        checkpoint = nn.load(checkpoint_path)
        if checkpoint["vocab"] != vocab.itos:
            raise RuntimeError(f"{checkpoint_path} was trained with another vocabulary")
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        history = checkpoint["history"]
        start_epoch = checkpoint["epoch"]
        mt.set_rng_state(checkpoint["rng_state"])
        print(f"resumed from {checkpoint_path} after epoch {start_epoch}")
    elif args.resume:
        print(f"nothing to resume at {checkpoint_path}; starting from scratch")

    top_k = args.top_k or None
    for epoch in range(start_epoch, args.epochs):
        model.train()
        loader_rng.manual_seed(args.seed * 100_003 + epoch)  # the windows of this epoch
        epoch_start = time.perf_counter()
        loss_sum, seen, last_loss = 0.0, 0, None
        batches = itertools.islice(loader, n_batches)
        # a live bar on a terminal (none when the output goes to a file or a pipe)
        bar = tqdm(batches, total=n_batches, desc=f"epoch {epoch + 1}", leave=False, disable=None)
        for i, (x, y) in enumerate(bar):  # (B, T), (B, T)
            loss = lm_loss(model, x, y)
            last_loss = stop_if_diverged(loss.item(), last_loss, f"epoch {epoch + 1}, step {i + 1}")
            optimizer.zero_grad()
            loss.backward()
            if args.clip > 0:
                clip_grad_norm_(model.parameters(), args.clip)
            optimizer.step()

            loss_sum += last_loss
            seen += 1
            if i % 10 == 0:
                bar.set_postfix(bpc=f"{loss_sum / seen / math.log(2):.3f}")
        bar.close()
        seconds = time.perf_counter() - epoch_start

        train_bpc = loss_sum / seen / math.log(2)
        val_bpc = evaluate(model, val_ids, args.seq_len) / math.log(2)
        sample_rng = Generator(args.seed * 100_003 + epoch)
        sample = generate(
            model, args.prompt, args.sample_len, args.temperature, top_k, generator=sample_rng
        )
        for key, value in zip(history, (train_bpc, val_bpc, seconds, sample)):
            history[key].append(value)
        chars = seen * args.batch_size * args.seq_len
        print(
            f"epoch {epoch + 1:3d}/{args.epochs}  train {train_bpc:.4f} bits/char"
            f"  validation {val_bpc:.4f} bits/char"
            f"  {seconds:.1f} s ({chars / seconds:,.0f} chars/s)"
        )
        print(f"  sample: {sample!r}")

        stop_if_diverged(last_loss, last_loss, f"the end of epoch {epoch + 1}", model)
        state = {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "epoch": epoch + 1,
            "history": history,
            "rng_state": mt.get_rng_state(),
            "vocab": vocab.itos,
            "args": dataclasses.asdict(args),
        }
        nn.save(state, checkpoint_path)  # atomic: an interrupted save keeps the previous one

    val_loss = evaluate(model, val_ids, args.seq_len)
    if history["train_bpc"]:
        save_curves(history, out / "curves.png")
    print(f"figure: {out / 'curves.png'}; checkpoint: {checkpoint_path}")
    sizes = f"{len(train_ids)} train / {len(val_ids)} validation chars"
    seconds = time.perf_counter() - start_time
    print(
        f"validation bits per char: {val_loss / math.log(2):.4f} "
        f"(loss {val_loss:.4f} nats, {sizes}, {seconds:.1f} s)"
    )


if __name__ == "__main__":
    main()
