"""Classify movie reviews as positive or negative with a bidirectional LSTM, in mytorch.

The model embeds each word (``--embed-dim``), reads the review with a one-layer bidirectional
LSTM (``--hidden`` units each way) that is told each review's length, so padding never enters
the state, max-pools the outputs over the valid time steps, and maps that to one logit (binary
cross-entropy). Adam with gradient clipping; batches hold reviews of similar length (sorted
within shuffled pools) so little time goes to padding. The vocabulary comes from the training
texts only. After each epoch it evaluates on the test set and saves a checkpoint; ``--resume``
continues a stopped run and ends with exactly the weights an uninterrupted run would have.

Data: IMDB (25,000 train / 25,000 test reviews, truncated to 200 tokens) is downloaded and
cached on first use. Without network access the run falls back, with a one-line warning (the
failure is remembered for 10 minutes, so later runs lose no time on it), to the
MovieReviews dataset bundled with mytorch-seq (12,752 one-sentence Rotten Tomatoes snippets,
10,201 train / 2,551 held-out test, truncated to 64 tokens; ``--source movie_reviews`` picks it
on purpose). The majority class of MovieReviews (positive) is 57.8% of it.

Expected result with the defaults (``--epochs 0`` means 10 epochs on MovieReviews, 5 on IMDB),
on 2 CPU cores (one BLAS thread):
    MovieReviews:  test accuracy 0.773-0.781 over seeds 0-2 on the 2,551 held-out snippets
                   (0.777 for seed 0; the majority class gives 0.578), in 40 s to 4.5 minutes:
                   251 s measured (14-33 s per epoch at 7,000-17,000 training tokens/s) while
                   other jobs shared the 2 cores (load average 11-13), 40-110 s (30,000-70,000
                   tokens/s) in earlier measurements on a quieter machine
    IMDB:          about 15 min on a busy machine (about 3 min per epoch: 2.3 min of training at
                   the 36,000 tokens/s measured on batches of 64 x 200 tokens, 45 s of evaluation
                   at 550 reviews/s); this model type usually reaches 0.85-0.88 on IMDB, but
                   neither figure was measured on IMDB itself, as it could not be downloaded
                   where these numbers were measured

Run:
    uv run apps/imdb_lstm.py                                  # defaults
    uv run apps/imdb_lstm.py --source movie_reviews --hidden 128 --no-bidirectional
    uv run apps/imdb_lstm.py --epochs 15 --resume             # continue runs/imdb_lstm to 15
    uv run apps/imdb_lstm.py --help                           # every option

Writes to ``--out`` (default runs/imdb_lstm): checkpoint.safetensors (model, optimizer, epoch,
history, random state), vocab.json (the word list, for reuse) and curves.png (loss and accuracy
per epoch).
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import tyro
from threadpoolctl import threadpool_limits
from tqdm import tqdm

import mytorch.core as mt
import mytorch.core.functional as F
import mytorch.nn as nn
from mytorch.core import optim
from mytorch.core.optim import clip_grad_norm_
from mytorch.energy import energy_line
from mytorch.energy.carbon import CarbonTracker
from mytorch.seq import LSTM, Vocab, WordTokenizer, load_sentiment, pad_batch


@dataclass
class Args:
    seed: int = 0  # seeds the initial weights, dropout and the order of the training data
    epochs: int = 0  # epochs to train in all; 0 = auto: 5 on IMDB, 10 on MovieReviews
    batch_size: int = 64  # reviews per optimizer step
    lr: float = 2e-3  # Adam learning rate
    clip: float = 1.0  # clip the gradients' global L2 norm to this (0 = no clipping)
    embed_dim: int = 64  # size of the word embeddings
    hidden: int = 64  # LSTM units per direction
    num_layers: int = 1  # stacked LSTM layers
    bidirectional: bool = True  # also read each review backwards
    pooling: Literal["max", "mean", "last"] = "max"  # over valid steps' outputs; last: final states
    dropout: float = 0.5  # dropout on the embeddings and on the pooled features
    max_len: int = 0  # keep this many tokens of each review; 0 = auto: 200 IMDB, 64 MovieReviews
    min_freq: int = 2  # words seen fewer times in the training texts become <unk>
    max_vocab: int = 30_000  # the most frequent words kept, specials included
    source: Literal["auto", "imdb", "movie_reviews"] = "auto"  # auto: IMDB, else MovieReviews
    data_root: str = ""  # dataset cache directory; "" = $MYTORCH_DATA or the user cache dir
    out: str = "runs/imdb_lstm"  # where the checkpoint, vocabulary and figure go
    resume: bool = False  # continue from <out>/checkpoint.safetensors if it exists
    max_batches: int = 0  # stop each epoch after this many batches (0 = all); for quick checks
    threads: int = 1  # BLAS threads; 1 avoids a spinning thread pool slowing down a busy CPU


DESCRIPTION = __doc__.splitlines()[0]
CLI = (tyro.conf.FlagCreatePairsOff,)  # a bool gets one flag: --resume, not also --no-resume


POOLINGS = ("max", "mean", "last")
MAX_LEN = {"imdb": 200, "movie_reviews": 64}
EPOCHS = {"imdb": 5, "movie_reviews": 10}
POOL_SIZE = 50  # batches' worth of shuffled reviews sorted by length together


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
def encode_texts(
    texts: list[str], tokenizer: WordTokenizer, vocab: Vocab, max_len: int
) -> list[np.ndarray]:
    """Token ids of each text, cut to its first ``max_len`` tokens."""
    return [np.asarray(vocab.encode(tokenizer(t)[:max_len]), dtype=np.int64) for t in texts]


def build_vocab(texts: list[str], tokenizer: WordTokenizer, args: Args) -> Vocab:
    """The vocabulary of ``texts`` (the training texts only: the test set stays unseen)."""
    return Vocab.build(
        (tokenizer(t) for t in texts), min_freq=args.min_freq, max_size=args.max_vocab
    )


def length_batches(
    lengths: np.ndarray, batch_size: int, rng: np.random.Generator | None
) -> list[np.ndarray]:
    """Index batches of items of similar length: with ``rng``, shuffle, sort each pool of
    ``POOL_SIZE`` batches by length, cut it into batches and shuffle the batches; without it,
    sort everything by length (for evaluation)."""
    if rng is None:
        order = np.argsort(lengths, kind="stable")
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    perm = rng.permutation(len(lengths))
    pool = batch_size * POOL_SIZE
    batches = []
    for start in range(0, len(perm), pool):
        chunk = perm[start : start + pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def collate(ids: list[np.ndarray], labels: np.ndarray, index: np.ndarray):
    """Padded ids (B, L), lengths (B,) and float labels (B,) of the items ``index``."""
    x, lengths = pad_batch([ids[i] for i in index])  # (B, L), (B,)
    # an empty review (possible after tokenizing) reads one <pad> step instead of zero steps
    lengths = mt.tensor(np.maximum(lengths.numpy(), 1))
    if x.shape[1] == 0:
        x = mt.zeros(len(index), 1, dtype=mt.int64)
    return x, lengths, mt.tensor(labels[index]).float()


# ---------------------------------------------------------------- model
class LSTMClassifier(nn.Module):
    """Embedding -> (bi)LSTM over the valid steps -> pooling -> one logit per review."""

    def __init__(
        self,
        vocab_size: int,
        embed_dim: int = 64,
        hidden: int = 64,
        num_layers: int = 1,
        bidirectional: bool = True,
        pooling: str = "max",
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"LSTMClassifier: pooling must be one of {POOLINGS}, got {pooling!r}")
        self.pooling = pooling
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.dropout = nn.Dropout(dropout)
        self.lstm = LSTM(
            embed_dim,
            hidden,
            num_layers=num_layers,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
            bidirectional=bidirectional,
        )
        self.fc = nn.Linear(hidden * (2 if bidirectional else 1), 1)

    def forward(self, ids: mt.Tensor, lengths: mt.Tensor) -> mt.Tensor:
        """Logits (B,) for padded ids (B, L) whose rows hold ``lengths`` (B,) real tokens."""
        x = self.dropout(self.embedding(ids))  # (B, L, E)
        # with lengths, padded steps leave the state alone and output zeros
        out, (h_n, _) = self.lstm(x, lengths=lengths)  # (B, L, D*H), (layers*D, B, H)
        if self.pooling == "max":
            padded = mt.arange(ids.shape[1])[None, :] >= lengths[:, None]  # (B, L)
            feats = out.masked_fill(padded[:, :, None], -1e4).amax(dim=1)  # (B, D*H)
        elif self.pooling == "mean":
            feats = out.sum(dim=1) / lengths[:, None].float()  # (B, D*H)
        else:  # the final states of the last layer: forward at its last valid step, backward
            directions = 2 if self.lstm.bidirectional else 1
            last = h_n[-directions:]  # (D, B, H)
            feats = last.transpose(0, 1).reshape(ids.shape[0], -1)  # (B, D*H)
        return self.fc(self.dropout(feats)).squeeze(1)  # (B,)


def make_model(args: Args, vocab_size: int) -> LSTMClassifier:
    return LSTMClassifier(
        vocab_size,
        embed_dim=args.embed_dim,
        hidden=args.hidden,
        num_layers=args.num_layers,
        bidirectional=args.bidirectional,
        pooling=args.pooling,
        dropout=args.dropout,
    )


@mt.no_grad()
def evaluate(
    model: LSTMClassifier, ids: list[np.ndarray], labels: np.ndarray, batch_size: int = 256
) -> tuple[float, float]:
    """Mean binary cross-entropy and accuracy of ``model`` on every item."""
    model.eval()
    lengths = np.array([len(a) for a in ids])
    loss_sum, correct = 0.0, 0
    for index in length_batches(lengths, batch_size, None):
        x, lens, y = collate(ids, labels, index)
        logits = model(x, lens)  # (B,)
        loss_sum += F.binary_cross_entropy_with_logits(logits, y, reduction="sum").item()
        correct += ((logits > 0).float() == y).sum().item()
    return loss_sum / len(ids), correct / len(ids)


def train_epoch(
    model: LSTMClassifier,
    optimizer: optim.Optimizer,
    ids: list[np.ndarray],
    labels: np.ndarray,
    batches: list[np.ndarray],
    clip: float = 0.0,
    desc: str = "",
) -> tuple[float, float, int]:
    """One pass over ``batches``: (mean training loss, training accuracy, items seen)."""
    model.train()
    loss_sum, correct, seen, last_loss = 0.0, 0, 0, None
    # a live bar on a terminal (none when the output goes to a file or a pipe)
    bar = tqdm(batches, desc=desc, leave=False, disable=None)
    for i, index in enumerate(bar):
        x, lengths, y = collate(ids, labels, index)  # (B, L), (B,), (B,)
        logits = model(x, lengths)  # (B,)
        loss = F.binary_cross_entropy_with_logits(logits, y)
        last_loss = stop_if_diverged(loss.item(), last_loss, f"{desc}, step {i + 1}")
        optimizer.zero_grad()
        loss.backward()
        if clip > 0:
            clip_grad_norm_(model.parameters(), clip)
        optimizer.step()

        loss_sum += last_loss * len(index)
        correct += ((logits > 0).float() == y).sum().item()
        seen += len(index)
        if i % 10 == 0:
            bar.set_postfix(loss=f"{loss_sum / seen:.4f}", acc=f"{correct / seen:.4f}")
    bar.close()
    return loss_sum / seen, correct / seen, seen


def save_curves(history: dict, title: str, path: Path) -> None:
    """Loss and accuracy per epoch, train and test, side by side."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no window
    import matplotlib.pyplot as plt

    epochs = range(1, len(history["train_loss"]) + 1)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, metric in zip(axes, ("loss", "acc")):
        ax.plot(epochs, history[f"train_{metric}"], "o-", label="train")
        ax.plot(epochs, history[f"test_{metric}"], "o-", label="test")
        ax.set(xlabel="epoch", ylabel={"loss": "binary cross-entropy", "acc": "accuracy"}[metric])
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
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

    # Seeding: the global generator drives weight init and dropout; the batch order of each
    # epoch comes from its own generator seeded by (seed, epoch), so a resumed run sees the
    # same batches.
    mt.manual_seed(args.seed)
    np.random.seed(args.seed)

    # Data: tokenize, build the vocabulary from the training texts, cut to max_len tokens.
    train_set, test_set, name = load_sentiment(args.source, root=args.data_root or None)
    max_len = args.max_len or MAX_LEN[name]
    epochs = args.epochs or EPOCHS[name]
    tokenizer = WordTokenizer()
    vocab = build_vocab(train_set.texts, tokenizer, args)
    vocab.save(out / "vocab.json")
    train_ids = encode_texts(train_set.texts, tokenizer, vocab, max_len)
    test_ids = encode_texts(test_set.texts, tokenizer, vocab, max_len)
    y_train = np.asarray(train_set.labels, dtype=np.int64)
    y_test = np.asarray(test_set.labels, dtype=np.int64)
    train_lengths = np.array([len(a) for a in train_ids])
    majority = max(y_test.mean(), 1 - y_test.mean())
    print(
        f"data: {name}, {len(train_ids)} train / {len(test_ids)} test reviews, "
        f"vocabulary {len(vocab):,} words, {train_lengths.mean():.1f} tokens per review "
        f"(cut to {max_len}); majority class {majority:.4f} of the test set"
    )

    model = make_model(args, len(vocab))
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    print(model)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{n_params:,} parameters, Adam lr {args.lr:g}, clip {args.clip:g}")

    history = {"train_loss": [], "train_acc": [], "test_loss": [], "test_acc": [], "seconds": []}
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

    carbon = CarbonTracker().start()  # RAPL counters when readable, else a CPU power model
    for epoch in range(start_epoch, epochs):
        order_rng = np.random.default_rng([args.seed, epoch])  # the batch order of this epoch
        batches = length_batches(train_lengths, args.batch_size, order_rng)
        batches = batches[: args.max_batches or len(batches)]
        epoch_start = time.perf_counter()
        train_loss, train_acc, seen = train_epoch(
            model, optimizer, train_ids, y_train, batches, args.clip, f"epoch {epoch + 1}"
        )
        seconds = time.perf_counter() - epoch_start
        tokens = int(sum(train_lengths[b].max() * len(b) for b in batches))  # padded

        test_loss, test_acc = evaluate(model, test_ids, y_test)
        stats = {
            "train_loss": train_loss,
            "train_acc": train_acc,
            "test_loss": test_loss,
            "test_acc": test_acc,
            "seconds": seconds,
        }
        for key, value in stats.items():
            history[key].append(value)
        print(
            f"epoch {epoch + 1:3d}/{epochs}"
            f"  train loss {train_loss:.4f} acc {train_acc:.4f}"
            f"  test loss {test_loss:.4f} acc {test_acc:.4f}"
            f"  {seconds:.1f} s ({seen / seconds:,.0f} reviews/s, {tokens / seconds:,.0f} tokens/s)"
        )

        stop_if_diverged(train_loss, train_loss, f"the end of epoch {epoch + 1}", model)
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

    carbon_report = carbon.stop()
    test_loss, test_acc = evaluate(model, test_ids, y_test)
    if history["train_loss"]:
        title = f"{'bi' if args.bidirectional else ''}LSTM on {name}"
        save_curves(history, title, out / "curves.png")
    print(f"figure: {out / 'curves.png'}; checkpoint: {checkpoint_path}")
    sizes = f"{len(train_ids)} train / {len(test_ids)} test"
    seconds = time.perf_counter() - start_time
    print(f"test accuracy: {test_acc:.4f} (dataset: {name}, {sizes}, {seconds:.1f} s)")
    example = collate(test_ids, y_test, np.arange(min(256, len(test_ids))))[:2]  # ids, lengths
    samples = sum(len(b) for b in batches) if epochs > start_epoch else len(train_ids)
    print(energy_line(model, *example, samples_per_epoch=samples, carbon=carbon_report))


if __name__ == "__main__":
    main()
