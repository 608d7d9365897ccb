"""The MNIST MLP demo (apps/mnist_fc.py): it learns, runs end to end, and resumes exactly.

Everything uses the sample bundled with mytorch-vision (4,000 train / 1,000 held-out test), so
no network is needed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import mytorch.core as mt
import mytorch.core.functional as F
import mytorch.nn as nn
from mytorch.core.data import DataLoader, TensorDataset

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "apps" / "mnist_fc.py"
FINAL_LINE = re.compile(
    r"^test accuracy: (\d\.\d{4}) \(source: (\w+), (\d+) train / (\d+) test, [\d.]+ s\)$", re.M
)
ENERGY_LINE = re.compile(
    r"^energy: ([\d,]+) MACs/inference \(([\d,]+) effective\), est\. [\d.]+ \w?J/inference "
    r"and [\d.]+ \w?J/training epoch \(horowitz-45nm\); carbon: .*-> [\d.e-]+ g CO2e$",
    re.M,
)


@pytest.fixture(scope="module")
def sample(app):
    """The bundled sample, preprocessed as the app does: (x_train, y_train, x_test, y_test)."""
    args = app.Args(source="sample")
    x_train, y_train, source = app.load_mnist(args, train=True, source="sample")
    x_test, y_test, _ = app.load_mnist(args, train=False, source="sample")
    assert source == "sample"
    return x_train, y_train, x_test, y_test


def run_app(*argv: str) -> str:
    """Run the real file as a script; returns its stdout (fails with stderr on a crash)."""
    proc = subprocess.run(
        [sys.executable, str(APP), "--source", "sample", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"mnist_fc.py {' '.join(argv)} failed:\n{proc.stderr[-3000:]}"
    return proc.stdout


# ---------------------------------------------------------------- preprocessing and CLI
def test_preprocessing_normalizes_flat_float32_rows(sample):
    x_train, y_train, x_test, y_test = sample
    assert x_train.shape == (4000, 784) and x_test.shape == (1000, 784)
    assert x_train.dtype == mt.float32 and y_train.dtype == mt.int64
    x = x_train.numpy()
    # background pixels (0) map to -mean/std, ink (255) to (1 - mean)/std
    np.testing.assert_allclose(x.min(), -0.1307 / 0.3081, rtol=1e-5)
    np.testing.assert_allclose(x.max(), (1 - 0.1307) / 0.3081, rtol=1e-5)
    assert abs(x.mean()) < 0.1 and 0.9 < x.std() < 1.1  # normalized like full MNIST
    assert np.bincount(y_test.numpy(), minlength=10).tolist() == [100] * 10  # stratified


def test_command_line_parses_every_field(app, monkeypatch):
    argv = "--epochs 3 --optimizer momentum --lr 0.02 --hidden 64 32 --dropout 0.1"
    argv += " --init xavier --resume --max-batches 5 --data-root /tmp/x"
    monkeypatch.setattr(sys, "argv", ["mnist_fc.py", *argv.split()])
    args = app.parse_args()
    assert args == app.Args(
        epochs=3,
        optimizer="momentum",
        lr=0.02,
        hidden=[64, 32],
        dropout=0.1,
        init="xavier",
        resume=True,
        max_batches=5,
        data_root="/tmp/x",
    )


def test_command_line_rejects_unknown_optimizer(app, monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "400")
    monkeypatch.setattr(sys, "argv", ["mnist_fc.py", "--optimizer", "lbfgs"])
    with pytest.raises(SystemExit):
        app.parse_args()
    assert "invalid choice 'lbfgs' for argument '--optimizer'" in capsys.readouterr().err


@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_model_shape_and_layers(app, dropout):
    model = app.make_model(app.Args(hidden=[32, 16], dropout=dropout))
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(784, 32), (32, 16), (16, 10)]
    assert sum(isinstance(m, nn.Dropout) for m in model.modules()) == (2 if dropout else 0)
    assert all(np.all(m.bias.detach().numpy() == 0) for m in linears)
    assert model(mt.randn(5, 784)).shape == (5, 10)


# ---------------------------------------------------------------- learning
def _train(app, args, x, y, steps: int) -> list[float]:
    """A few optimizer steps the way the app takes them; returns the loss of each step."""
    mt.manual_seed(args.seed)
    model = app.make_model(args)
    opt = app.OPTIMIZERS[args.optimizer](
        model.parameters(), lr=args.lr or app.LEARNING_RATES[args.optimizer]
    )
    losses = []
    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)
    for _, (xb, yb) in zip(range(steps), loader):
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize(
    "optimizer,init",
    [("sgd", "he"), ("momentum", "he"), ("adagrad", "he"), ("adam", "he")]
    + [("adam", "xavier"), ("adam", "normal"), ("adam", "uniform")],
)
def test_every_optimizer_and_initializer_learns(app, sample, optimizer, init):
    x_train, y_train, _, _ = sample
    args = app.Args(optimizer=optimizer, init=init, hidden=[64])
    losses = _train(app, args, x_train, y_train, steps=30)
    assert np.mean(losses[:3]) > 1.5  # near log(10) = 2.3 at the start
    assert np.mean(losses[-5:]) < 0.6 * np.mean(losses[:3]), losses


def test_mlp_reaches_85_percent_on_held_out_sample(app, sample):
    """Three epochs of the default model and optimizer; a broken model cannot get near 85%."""
    x_train, y_train, x_test, y_test = sample
    args = app.Args()
    mt.manual_seed(0)
    model = app.make_model(args)
    opt = app.OPTIMIZERS["adam"](model.parameters(), lr=1e-3)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=128, shuffle=True)
    for _ in range(3):
        model.train()
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    test_loss, test_acc, preds = app.evaluate(model, x_test, y_test)
    assert test_acc >= 0.85, f"held-out accuracy {test_acc:.4f} after 3 epochs"
    assert test_loss < 0.5
    assert preds.shape == (1000,) and preds.dtype == mt.int64


# ---------------------------------------------------------------- the real file, end to end
# A tiny budget: 8 batches per epoch of a small model; dropout makes resuming depend on the
# restored random state as well as on the data order.
RESUME_ARGS = ("--max-batches", "8", "--hidden", "64", "32", "--dropout", "0.2", "--seed", "3")


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
    acc, source, n_train, n_test = match.groups()
    assert (source, n_train, n_test) == ("sample", "4000", "1000")
    assert 0.2 < float(acc) <= 1.0  # 8 Adam steps already beat chance (0.1)
    energy = ENERGY_LINE.search(stdout)
    assert energy, stdout
    assert energy.group(1) == f"{784 * 64 + 64 * 32 + 32 * 10:,}"  # the MLP's MACs per image
    for png in ("curves.png", "confusion.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png

    checkpoint = nn.load(out / "checkpoint.safetensors")
    assert checkpoint["epoch"] == 1
    assert checkpoint["history"]["test_acc"] == [pytest.approx(float(acc), abs=1e-4)]
    assert set(checkpoint["model"]) == {f"{i}.{p}" for i in (0, 3, 6) for p in ("weight", "bias")}
    assert checkpoint["model"]["0.weight"].shape == (64, 784)
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
        assert not np.allclose(after_one[name].numpy(), weight.numpy()), f"{name} did not train"
    assert resumed["history"]["train_loss"] == pytest.approx(straight["history"]["train_loss"])


def test_a_diverging_run_stops_with_a_message_and_saves_nothing(tmp_path):
    """An absurd learning rate: the run ends at the first non-finite loss, saying where and the
    last finite loss, with exit status 1 and no checkpoint of the NaN weights."""
    out = tmp_path / "diverged"
    argv = ["--optimizer", "sgd", "--lr", "1e30", "--epochs", "2", "--max-batches", "8"]
    proc = subprocess.run(
        [sys.executable, str(APP), "--source", "sample", *argv, "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stderr[-3000:]
    last_line = proc.stderr.strip().splitlines()[-1]
    assert re.fullmatch(
        r"error: the training loss became (nan|inf) at epoch 1, step [2-8] \(last finite loss "
        r"\d+\.\d{4}\); stopped without saving a checkpoint of these weights "
        r"\(try a smaller --lr\)",
        last_line,
    ), last_line
    assert not (out / "checkpoint.safetensors").exists()
    assert "epoch   1/2" not in proc.stdout  # it stopped inside the first epoch
