"""The LSTM sentiment demo (apps/imdb_lstm.py): it learns, runs end to end, and resumes exactly.

Everything uses the MovieReviews dataset bundled with mytorch-seq (10,201 train / 2,551
held-out test snippets), so no network is needed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import mytorch.core as mt
import mytorch.core.functional as F
import mytorch.nn as nn
from mytorch.core import optim
from mytorch.seq import MovieReviews, Vocab, WordTokenizer

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "apps" / "imdb_lstm.py"
FINAL_LINE = re.compile(
    r"^test accuracy: (\d\.\d{4}) \(dataset: (\w+), (\d+) train / (\d+) test, [\d.]+ s\)$", re.M
)
ENERGY_LINE = re.compile(
    r"^energy: ([\d,]+) MACs/inference \(([\d,]+) effective\), est\. [\d.]+ \w?J/inference "
    r"and [\d.]+ \w?J/training epoch \(horowitz-45nm\); carbon: .*-> [\d.e-]+ g CO2e$",
    re.M,
)


@pytest.fixture(scope="module")
def data(app):
    """MovieReviews prepared as the app does: (vocab, train ids, train labels, test ids, labels)."""
    train, test = MovieReviews(split="train"), MovieReviews(split="test")
    tokenizer = WordTokenizer()
    vocab = app.build_vocab(train.texts, tokenizer, app.Args())
    train_ids = app.encode_texts(train.texts, tokenizer, vocab, 64)
    test_ids = app.encode_texts(test.texts, tokenizer, vocab, 64)
    return vocab, train_ids, np.array(train.labels), test_ids, np.array(test.labels)


def run_app(*argv: str) -> str:
    """Run the real file as a script; returns its stdout (fails with stderr on a crash)."""
    proc = subprocess.run(
        [sys.executable, str(APP), "--source", "movie_reviews", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"imdb_lstm.py {' '.join(argv)} failed:\n{proc.stderr[-3000:]}"
    return proc.stdout


# ---------------------------------------------------------------- data and CLI
def test_vocabulary_comes_from_the_training_texts_only(app, data):
    vocab, train_ids, _, test_ids, _ = data
    tokenizer = WordTokenizer()
    train_words = {w for t in MovieReviews(split="train").texts for w in tokenizer(t)}
    test_only = {w for t in MovieReviews(split="test").texts for w in tokenizer(t)} - train_words
    assert test_only and not test_only & set(vocab.itos)
    assert vocab.itos[:2] == ["<pad>", "<unk>"] and 5_000 < len(vocab) <= 30_000
    assert vocab == Vocab.build((tokenizer(t) for t in MovieReviews().texts), min_freq=2)
    assert len(train_ids) == 10_201 and len(test_ids) == 2_551
    assert max(len(a) for a in train_ids) == 60  # the longest snippet; max_len 64 cuts none
    cut = app.encode_texts(MovieReviews().texts[:50], tokenizer, vocab, 10)
    assert max(len(a) for a in cut) == 10
    assert all(np.array_equal(c, a[:10]) for c, a in zip(cut, train_ids))  # the first tokens
    assert sum(int((a == vocab.unk_index).sum()) for a in test_ids) > 0
    assert all(a.dtype == np.int64 and (a > 0).all() for a in train_ids[:100])  # no <pad> inside


def test_length_batches_cover_every_item_once_in_similar_lengths(app):
    lengths = np.random.default_rng(0).integers(1, 60, size=1000)
    batches = app.length_batches(lengths, 16, np.random.default_rng([0, 3]))
    assert np.array_equal(np.sort(np.concatenate(batches)), np.arange(1000))
    assert all(1 <= len(b) <= 16 for b in batches)
    again = app.length_batches(lengths, 16, np.random.default_rng([0, 3]))
    assert all(np.array_equal(a, b) for a, b in zip(batches, again))  # same seed, same batches
    other = app.length_batches(lengths, 16, np.random.default_rng([0, 4]))
    assert not all(np.array_equal(a, b) for a, b in zip(batches, other))
    spread = np.mean([np.ptp(lengths[b]) for b in batches])
    assert spread < 0.25 * np.ptp(lengths)  # pools sorted by length: little padding
    ordered = app.length_batches(lengths, 16, None)  # evaluation: sorted, no shuffling
    assert np.all(np.diff(lengths[np.concatenate(ordered)]) >= 0)


def test_collate_pads_and_keeps_lengths(app):
    ids = [np.array([5, 6, 7]), np.array([8]), np.array([], dtype=np.int64)]
    x, lengths, y = app.collate(ids, np.array([1, 0, 1]), np.array([0, 1, 2]))
    assert x.tolist() == [[5, 6, 7], [8, 0, 0], [0, 0, 0]] and x.dtype == mt.int64
    assert lengths.tolist() == [3, 1, 1]  # an empty review reads one <pad> step
    assert y.tolist() == [1.0, 0.0, 1.0] and y.dtype == mt.float32


def test_command_line_parses_every_field(app):
    argv = "--epochs 3 --lr 0.01 --hidden 32 --no-bidirectional --pooling mean --max-len 50"
    argv += " --max-batches 5 --resume --source movie_reviews --num-layers 2"
    assert app.parse_args(argv.split()) == app.Args(
        epochs=3,
        lr=0.01,
        hidden=32,
        bidirectional=False,
        pooling="mean",
        max_len=50,
        max_batches=5,
        resume=True,
        source="movie_reviews",
        num_layers=2,
    )


def test_command_line_rejects_unknown_pooling(app, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")
    with pytest.raises(SystemExit):
        app.parse_args(["--pooling", "attention"])
    assert "invalid choice 'attention' for argument '--pooling'" in capsys.readouterr().err


# ---------------------------------------------------------------- the model
@pytest.mark.parametrize("pooling", ["max", "mean", "last"])
@pytest.mark.parametrize("bidirectional", [True, False])
@mt.no_grad()
def test_padding_does_not_change_the_logits(app, pooling, bidirectional):
    """A review's logit is the same alone, in a batch with a longer one, and with extra pads."""
    mt.manual_seed(0)
    model = app.LSTMClassifier(50, 8, 6, 2, bidirectional, pooling, dropout=0.3).eval()
    short, long = [3, 9, 4], [7, 2, 2, 8, 11, 5, 6]
    alone = model(mt.tensor([short]), mt.tensor([3]))  # (1,)
    batch = model(mt.tensor([short + [0] * 6, long[:-1] + [0] * 3]), mt.tensor([3, 6]))  # (2,)
    assert batch.shape == (2,)
    np.testing.assert_allclose(batch.numpy()[0], alone.numpy()[0], rtol=1e-5, atol=1e-6)
    unmasked = model(mt.tensor([short + [0] * 6]), mt.tensor([9]))  # pads read as words
    assert not np.allclose(unmasked.numpy(), alone.numpy(), atol=1e-6)


def test_pooling_must_be_known(app):
    with pytest.raises(ValueError, match="pooling must be one of"):
        app.LSTMClassifier(10, pooling="attention")


def test_gradients_reach_every_parameter(app, data):
    _, train_ids, y_train, _, _ = data
    mt.manual_seed(0)
    model = app.make_model(app.Args(hidden=8, embed_dim=8), 20_000)
    x, lengths, y = app.collate(train_ids, y_train, np.arange(8))
    loss = F.binary_cross_entropy_with_logits(model(x, lengths), y)
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and np.abs(p.grad.numpy()).sum() > 0, name
    assert np.all(model.embedding.weight.grad.numpy()[0] == 0)  # padding_idx gets no gradient


# ---------------------------------------------------------------- learning
def test_lstm_beats_the_majority_class_on_held_out_reviews(app, data):
    """Three epochs of a small biLSTM; the majority class (positive) is 57.8% of the test set."""
    vocab, train_ids, y_train, test_ids, y_test = data
    assert y_test.mean() == pytest.approx(0.578, abs=0.001)
    mt.manual_seed(0)
    model = app.make_model(app.Args(hidden=48, embed_dim=48), len(vocab))
    opt = optim.Adam(model.parameters(), lr=4e-3)
    lengths = np.array([len(a) for a in train_ids])
    losses = []
    with threadpool_limits(limits=1):  # as the app runs: a BLAS thread pool only spins here
        for epoch in range(3):
            batches = app.length_batches(lengths, 64, np.random.default_rng([0, epoch]))
            loss, acc, seen = app.train_epoch(model, opt, train_ids, y_train, batches, clip=1.0)
            losses.append(loss)
            assert seen == len(train_ids)
        test_loss, test_acc = app.evaluate(model, test_ids, y_test)
    assert losses[-1] < losses[0] - 0.05, losses
    assert test_acc >= 0.65, f"held-out accuracy {test_acc:.4f} after 3 epochs"
    assert test_loss < 0.66


# ---------------------------------------------------------------- the real file, end to end
# A tiny budget: 8 batches per epoch of a small model; dropout makes resuming depend on the
# restored random state as well as on the batch order.
RESUME_ARGS = ("--max-batches", "8", "--hidden", "16", "--embed-dim", "16", "--seed", "3")


@pytest.fixture(scope="module")
def one_epoch_run(tmp_path_factory):
    """The app run for one capped epoch: (its output directory, its stdout)."""
    out = tmp_path_factory.mktemp("one_epoch")
    stdout = run_app(*RESUME_ARGS, "--epochs", "1", "--out", str(out))
    return out, stdout


def test_smoke_run_prints_accuracy_and_writes_outputs(one_epoch_run):
    out, stdout = one_epoch_run
    match = FINAL_LINE.search(stdout)
    assert match, stdout
    acc, dataset, n_train, n_test = match.groups()
    assert (dataset, n_train, n_test) == ("movie_reviews", "10201", "2551")
    assert 0.3 < float(acc) <= 1.0
    energy = ENERGY_LINE.search(stdout)
    assert energy, stdout
    # per token and direction 4 * (E * H + H * H) with E = H = 16; at least one token per review
    assert int(energy.group(1).replace(",", "")) >= 2 * 4 * (16 * 16 + 16 * 16) + 32
    assert "epoch   1/1" in stdout and "tokens/s" in stdout
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    vocab = Vocab.load(out / "vocab.json")
    checkpoint = nn.load(out / "checkpoint.safetensors")
    assert checkpoint["epoch"] == 1 and checkpoint["vocab"] == vocab.itos
    assert checkpoint["history"]["test_acc"] == [pytest.approx(float(acc), abs=1e-4)]
    assert checkpoint["model"]["embedding.weight"].shape == (len(vocab), 16)
    assert checkpoint["model"]["lstm.weight_hh_l0_reverse"].shape == (64, 16)
    assert checkpoint["model"]["fc.weight"].shape == (1, 32)
    assert checkpoint["optimizer"]["state"]  # Adam's moments are saved too


def test_resume_gives_the_weights_of_an_uninterrupted_run(one_epoch_run, tmp_path):
    out = shutil.copytree(one_epoch_run[0], tmp_path / "resumed")  # leave the fixture's run as is
    after_one = nn.load(out / "checkpoint.safetensors")["model"]
    resumed_stdout = run_app(*RESUME_ARGS, "--epochs", "2", "--out", str(out), "--resume")
    assert "resumed from" in resumed_stdout and "epoch   2/2" in resumed_stdout
    assert "epoch   1/2" not in resumed_stdout

    run_app(*RESUME_ARGS, "--epochs", "2", "--out", str(tmp_path / "straight"))
    resumed = nn.load(out / "checkpoint.safetensors")
    straight = nn.load(tmp_path / "straight" / "checkpoint.safetensors")
    assert resumed["epoch"] == straight["epoch"] == 2
    for name, weight in straight["model"].items():
        np.testing.assert_allclose(
            resumed["model"][name].numpy(), weight.numpy(), rtol=0, atol=1e-7
        )
        if name != "embedding.weight":  # most embedding rows see no word in 8 batches
            assert not np.allclose(after_one[name].numpy(), weight.numpy()), f"{name} still"
    assert resumed["history"]["train_loss"] == pytest.approx(straight["history"]["train_loss"])
