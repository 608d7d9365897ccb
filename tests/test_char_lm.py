"""The character language-model demo (apps/char_lm.py): sampling, learning, and the real file.

Everything uses the MovieReviews text bundled with mytorch-seq, so no network is needed.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import mytorch.core as mt
import mytorch.nn as nn
from mytorch.core import optim
from mytorch.seq import SeqDataLoader

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "apps" / "char_lm.py"
FINAL_LINE = re.compile(
    r"^validation bits per char: (\d+\.\d{4}) \(loss (\d+\.\d{4}) nats, (\d+) train / "
    r"(\d+) validation chars, [\d.]+ s\)$",
    re.M,
)


@pytest.fixture(scope="module")
def text(app):
    """(vocab, training ids, validation ids) as the app builds them (validation cut short)."""
    train_text = app.load_text("train")
    vocab = app.build_vocab(train_text)
    return vocab, app.encode(train_text, vocab), app.encode(app.load_text("test")[:8001], vocab)


@pytest.fixture()
def model(app, text):
    """A small untrained model over the real character vocabulary."""
    mt.manual_seed(0)
    return app.CharLM(text[0], embed_dim=8, hidden=16)


def run_app(*argv: str) -> str:
    """Run the real file as a script; returns its stdout (fails with stderr on a crash)."""
    proc = subprocess.run(
        [sys.executable, str(APP), *argv], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, f"char_lm.py {' '.join(argv)} failed:\n{proc.stderr[-3000:]}"
    return proc.stdout


# ---------------------------------------------------------------- data
def test_vocabulary_and_encoding_round_trip(app, text):
    vocab, train_ids, val_ids = text
    assert vocab.itos[:2] == ["<pad>", "<unk>"] and 60 < len(vocab) < 200
    assert vocab.itos[2] == " "  # the most frequent character comes first
    assert {"\n", "a", "Z", "."} <= set(vocab.itos)
    train_text = app.load_text("train")
    assert len(train_ids) == len(train_text) and train_text.count("\n") == 10_201
    assert "".join(vocab.decode(train_ids[:500])) == train_text[:500]
    assert train_ids.dtype == np.int64 and train_ids.min() >= 2  # every character is known
    assert (
        len(val_ids) == 8001 and "".join(vocab.decode(val_ids[:100])) == app.load_text("test")[:100]
    )


# ---------------------------------------------------------------- generate
def test_generate_is_reproducible_with_a_seeded_generator(app, model):
    a = app.generate(model, "The film ", 60, generator=mt.Generator(7))
    b = app.generate(model, "The film ", 60, generator=mt.Generator(7))
    c = app.generate(model, "The film ", 60, generator=mt.Generator(8))
    assert a == b and a != c
    assert a.startswith("The film ") and len(a) == len("The film ") + 60
    assert "<pad>" not in a and "<unk>" not in a
    assert model.training  # left in the mode it was in


def test_generate_does_not_touch_the_global_generator(app, model):
    mt.manual_seed(1)
    expected = mt.rand(3).numpy()
    mt.manual_seed(1)
    app.generate(model, "abc", 20, generator=mt.Generator(0))
    np.testing.assert_array_equal(mt.rand(3).numpy(), expected)


def _greedy(model, vocab, prompt: str, length: int) -> str:
    """Greedy decoding by re-running the whole sequence each step (no carried state)."""
    ids = vocab.encode(list(prompt))
    with mt.no_grad():
        for _ in range(length):
            logits, _ = model(mt.tensor([ids]))  # (1, T, V)
            z = logits.numpy()[0, -1].copy()
            z[[vocab.pad_index, vocab.unk_index]] = -np.inf
            ids.append(int(z.argmax()))
    return "".join(vocab.decode(ids))


def test_top_k_1_is_greedy_and_ignores_the_generator(app, model, text):
    model.eval()
    greedy = [app.generate(model, "Bad ", 30, top_k=1, generator=mt.Generator(s)) for s in (0, 1)]
    hot = app.generate(model, "Bad ", 30, temperature=5.0, top_k=1, generator=mt.Generator(2))
    assert greedy[0] == greedy[1] == hot == _greedy(model, text[0], "Bad ", 30)


@pytest.mark.parametrize("top_k", [2, 5])
def test_top_k_samples_only_among_the_k_most_likely(app, model, text, top_k):
    vocab = text[0]
    model.eval()
    out = app.generate(model, "Fun", 40, temperature=3.0, top_k=top_k, generator=mt.Generator(0))
    ids = vocab.encode(list(out))
    with mt.no_grad():
        logits, _ = model(mt.tensor([ids[:-1]]))  # (1, T, V): the prediction at every step
    z = logits.numpy()[0, len("Fun") - 1 :]  # (40, V): the steps that sampled a character
    z[:, [vocab.pad_index, vocab.unk_index]] = -np.inf
    ranks = (z > z[np.arange(40), ids[len("Fun") :]][:, None]).sum(axis=1)  # (40,)
    assert ranks.max() < top_k
    assert ranks.max() > 0  # at a high temperature, not always the most likely


def test_low_temperature_concentrates_on_likely_characters(app, model):
    model.eval()
    cold = app.generate(model, "x", 200, temperature=0.05, generator=mt.Generator(0))
    hot = app.generate(model, "x", 200, temperature=2.0, generator=mt.Generator(0))
    assert len(set(cold[1:])) < len(set(hot[1:]))


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"temperature": 0.0}, "temperature must be > 0"),
        ({"top_k": 0}, r"top_k must be an int in \[1, "),
        ({"top_k": 1000}, r"top_k must be an int in \[1, "),
        ({"length": -1}, "length must be a non-negative int"),
    ],
)
def test_generate_rejects_bad_arguments(app, model, kwargs, match):
    kwargs = {"length": 5, **kwargs}
    with pytest.raises(ValueError, match=match):
        app.generate(model, "a", **kwargs)


def test_empty_prompt_starts_a_new_line(app, model):
    out = app.generate(model, "", 10, generator=mt.Generator(0))
    assert len(out) == 10


# ---------------------------------------------------------------- learning
def test_short_training_lowers_the_validation_loss(app, text):
    vocab, train_ids, val_ids = text
    mt.manual_seed(0)
    model = app.CharLM(vocab, embed_dim=16, hidden=64, dropout=0.0)
    opt = optim.Adam(model.parameters(), lr=1e-2)
    loader = SeqDataLoader(train_ids, 32, 50, shuffle=True, generator=mt.Generator(0))
    with threadpool_limits(limits=1):
        before = app.evaluate(model, val_ids, 50)
        for _, (x, y) in zip(range(40), loader):
            loss = app.lm_loss(model, x, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        after = app.evaluate(model, val_ids, 50)
    assert before == pytest.approx(math.log(len(vocab)), abs=0.3)  # about uniform at the start
    assert after < before - 1.2, (before, after)  # below the unigram entropy (about 3.0 nats)
    assert after < 3.0


# ---------------------------------------------------------------- the real file, end to end
TINY = ("--max-batches", "4", "--hidden", "24", "--seq-len", "40", "--val-chars", "3000")
TINY += ("--sample-len", "30", "--seed", "5")


@pytest.fixture(scope="module")
def one_epoch_run(tmp_path_factory):
    """The app run for one tiny epoch: (its output directory, its stdout)."""
    out = tmp_path_factory.mktemp("char_lm")
    return out, run_app(*TINY, "--epochs", "1", "--out", str(out))


def test_smoke_run_prints_samples_and_writes_outputs(one_epoch_run):
    out, stdout = one_epoch_run
    match = FINAL_LINE.search(stdout)
    assert match, stdout
    bpc, nats, n_train, n_val = match.groups()
    assert float(bpc) == pytest.approx(float(nats) / math.log(2), abs=2e-4)
    assert 1.0 < float(bpc) < 7.0 and n_val == "3001"
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    checkpoint = nn.load(out / "checkpoint.safetensors")
    assert checkpoint["epoch"] == 1
    (sample,) = checkpoint["history"]["samples"]
    assert sample.startswith("This movie ") and len(sample) == len("This movie ") + 30
    assert stdout.count("  sample: ") == 1 and f"  sample: {sample!r}\n" in stdout
    assert checkpoint["history"]["val_bpc"] == [pytest.approx(float(bpc), abs=1e-4)]
    vocab_size = len(checkpoint["vocab"])
    assert checkpoint["model"]["fc.weight"].shape == (vocab_size, 24)
    assert checkpoint["optimizer"]["state"]


def test_resume_gives_the_weights_of_an_uninterrupted_run(one_epoch_run, tmp_path):
    out = shutil.copytree(one_epoch_run[0], tmp_path / "resumed")
    resumed_stdout = run_app(*TINY, "--epochs", "2", "--out", str(out), "--resume")
    assert "resumed from" in resumed_stdout and "epoch   2/2" in resumed_stdout
    run_app(*TINY, "--epochs", "2", "--out", str(tmp_path / "straight"))
    resumed = nn.load(out / "checkpoint.safetensors")
    straight = nn.load(tmp_path / "straight" / "checkpoint.safetensors")
    for name, weight in straight["model"].items():
        np.testing.assert_allclose(
            resumed["model"][name].numpy(), weight.numpy(), rtol=0, atol=1e-7
        )
    assert resumed["history"]["samples"] == straight["history"]["samples"]
