"""The digit-sum Transformer demo (apps/toy_transformer.py): data, model, learning, end to end."""

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

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "apps" / "toy_transformer.py"
FINAL_LINE = re.compile(
    r"^held-out exact match: (\d\.\d{4}) \((\d+) digits, (\d+) sequences, (\d+) head\(s\), "
    r"(\d+) layer\(s\), [\d.]+ s\)$",
    re.M,
)
PNG = b"\x89PNG\r\n\x1a\n"


def run_app(*argv: str) -> str:
    """Run the real file as a script; returns its stdout (fails with stderr on a crash)."""
    proc = subprocess.run(
        [sys.executable, str(APP), *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, (
        f"toy_transformer.py {' '.join(argv)} failed:\n{proc.stderr[-3000:]}"
    )
    return proc.stdout


# ---------------------------------------------------------------- data and CLI
def test_digits_and_encoding(app):
    seqs = app.to_digits(np.array([0, 7, 314, 999]), 3)
    assert seqs.tolist() == [[0, 0, 0], [0, 0, 7], [3, 1, 4], [9, 9, 9]]
    tokens, sums = app.encode(seqs)
    assert tokens.dtype == mt.int64 and tokens.shape == (4, 4)
    assert tokens[:, 0].tolist() == [app.SUM_TOKEN] * 4
    assert sums.tolist() == [0, 7, 8, 27]


def test_held_out_set_is_fixed_and_never_trained_on(app):
    held = app.held_out_codes(3, 100)
    assert len(np.unique(held)) == 100 and held.min() >= 0 and held.max() < 1000
    np.testing.assert_array_equal(held, app.held_out_codes(3, 100))  # independent of --seed
    rng = np.random.default_rng(0)
    tokens, sums = app.make_batch(rng, 5000, 3, held)
    codes = tokens[:, 1:].numpy() @ np.array([100, 10, 1])
    assert not np.isin(codes, held).any()
    assert len(np.unique(codes)) > 850  # but every other sequence shows up
    np.testing.assert_array_equal(sums.numpy(), tokens[:, 1:].numpy().sum(axis=1))
    with pytest.raises(ValueError, match="over half"):
        app.held_out_codes(2, 60)


def test_command_line_parses_every_field(app, monkeypatch):
    argv = "--digits 3 --d-model 32 --heads 4 --layers 2 --ff 64 --steps 10 --lr 0.01"
    argv += " --warmup 5 --test-size 50 --eval-every 5 --resume --threads 2 --seed 7"
    monkeypatch.setattr(sys, "argv", ["toy_transformer.py", *argv.split()])
    assert app.parse_args() == app.Args(
        digits=3, d_model=32, heads=4, layers=2, ff=64, steps=10, lr=0.01, warmup=5,
        test_size=50, eval_every=5, resume=True, threads=2, seed=7,
    )  # fmt: skip


def test_command_line_rejects_heads_not_dividing_d_model(app, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["toy_transformer.py", "--d-model", "30", "--heads", "4"])
    with pytest.raises(SystemExit):
        app.parse_args()
    assert "not divisible by --heads 4" in capsys.readouterr().err


@pytest.mark.parametrize("heads,layers", [(1, 1), (4, 2)])
def test_model_shapes_and_attention_maps(app, heads, layers):
    args = app.Args(digits=4, d_model=16, heads=heads, layers=layers, ff=32)
    model = app.make_model(args)
    tokens, _ = app.encode(np.array([[1, 2, 3, 4], [9, 9, 0, 0], [5, 5, 5, 5]]))
    assert model(tokens).shape == (3, 37)  # sums 0..36
    maps = model.attention_maps()
    assert len(maps) == layers
    for w in maps:
        assert w.shape == (3, heads, 5, 5) and not w.requires_grad
        np.testing.assert_allclose(w.numpy().sum(axis=-1), 1.0, rtol=1e-5)  # softmax rows


# ---------------------------------------------------------------- learning
def test_tiny_transformer_learns_to_sum_three_digits(app):
    """Sum of 3 digits with one head: 0.98-0.995 held-out exact match for seeds 0-2 in
    8-17 s; a broken model (attention that does not mix the digits, wrong gradients) stays
    far below 95% (the most frequent sum alone is 7.5% of the sequences)."""
    args = app.Args(digits=3, d_model=32, ff=64, steps=1000, lr=1e-2, warmup=50, test_size=200)
    model = app.make_model(args)
    optimizer, scheduler = app.make_optimizer(model, args)
    held = app.held_out_codes(args.digits, args.test_size)
    x_test, y_test = app.encode(app.to_digits(held, args.digits))
    limits = threadpool_limits(limits=1)  # as the app runs; a spinning BLAS pool is slower here
    for step in range(args.steps):
        rng = np.random.default_rng([args.seed, step])
        tokens, sums = app.make_batch(rng, 128, args.digits, held)
        loss = F.cross_entropy(model(tokens), sums)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
    limits.unregister()
    test_loss, test_acc = app.evaluate(model, x_test, y_test)
    assert test_acc >= 0.95, f"held-out exact match {test_acc:.4f} after {args.steps} steps"
    assert test_loss < 0.3
    # the [SUM] query spreads its attention over the digits (the sum needs all of them)
    model.eval()
    with mt.no_grad():
        model(x_test)
    from_sum = model.attention_maps()[0][:, 0, 0, 1:].numpy()  # (N, digits)
    assert from_sum.min(axis=1).mean() > 0.1


# ---------------------------------------------------------------- the real file, end to end
TINY = ("--digits", "3", "--d-model", "16", "--ff", "32", "--test-size", "100")


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    """The app run for 40 steps: (its output directory, its stdout)."""
    out = tmp_path_factory.mktemp("toy_transformer")
    stdout = run_app(*TINY, "--steps", "40", "--eval-every", "20", "--out", str(out))
    return out, stdout


def test_smoke_run_prints_accuracy_and_writes_outputs(short_run):
    out, stdout = short_run
    match = FINAL_LINE.search(stdout)
    assert match, stdout
    acc, digits, n_test, heads, layers = match.groups()
    assert (digits, n_test, heads, layers) == ("3", "100", "1", "1")
    assert 0.0 <= float(acc) <= 1.0
    for png in ("attention.png", "curves.png"):
        assert (out / png).read_bytes()[:8] == PNG, png
    checkpoint = nn.load(out / "checkpoint.safetensors")
    assert checkpoint["step"] == 40
    assert checkpoint["history"]["step"] == [20, 40]
    assert checkpoint["history"]["test_acc"][-1] == pytest.approx(float(acc), abs=1e-4)
    assert "blocks.0.attn.in_proj_weight" in checkpoint["model"]
    assert checkpoint["model"]["blocks.0.attn.in_proj_weight"].shape == (48, 16)
    assert checkpoint["optimizer"]["state"]  # Adam's moments are saved too


def test_resume_gives_the_weights_of_an_uninterrupted_run(short_run, tmp_path):
    out = shutil.copytree(short_run[0], tmp_path / "resumed")
    common = (*TINY, "--steps", "60", "--eval-every", "20")
    stdout = run_app(*common, "--out", str(out), "--resume")
    assert "resumed from" in stdout and "step    60/60" in stdout
    assert "step    20/60" not in stdout
    run_app(*common, "--out", str(tmp_path / "straight"))
    resumed = nn.load(out / "checkpoint.safetensors")
    straight = nn.load(tmp_path / "straight" / "checkpoint.safetensors")
    assert resumed["step"] == straight["step"] == 60
    for name, weight in straight["model"].items():
        np.testing.assert_allclose(resumed["model"][name].numpy(), weight.numpy(), atol=1e-6)
