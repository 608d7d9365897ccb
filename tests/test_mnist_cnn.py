"""The MNIST CNN demo (apps/mnist_cnn.py): it learns, runs end to end, and resumes exactly.

Everything uses the sample bundled with mytorch-vision (4,000 train / 1,000 held-out test), so
no network is needed.
"""

from __future__ import annotations

import os
import re
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
APP = ROOT / "apps" / "mnist_cnn.py"
FINAL_LINE = re.compile(
    r"^test accuracy: (\d\.\d{4}) \(source: (\w+), (\d+) train / (\d+) test, [\d.]+ s\)$", re.M
)
ENERGY_LINE = re.compile(
    r"^energy: ([\d,]+) MACs/inference \(([\d,]+) effective\), est\. [\d.]+ \w?J/inference "
    r"and [\d.]+ \w?J/training epoch \(horowitz-45nm\); carbon: .*-> [\d.e-]+ g CO2e$",
    re.M,
)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# one BLAS thread: the tiny runs gain nothing from more, and stay fast on a loaded machine
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


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
        env=ENV,
    )
    assert proc.returncode == 0, f"mnist_cnn.py {' '.join(argv)} failed:\n{proc.stderr[-3000:]}"
    return proc.stdout


# ---------------------------------------------------------------- preprocessing and CLI
def test_preprocessing_gives_normalized_single_channel_images(sample):
    x_train, y_train, x_test, y_test = sample
    assert x_train.shape == (4000, 1, 28, 28) and x_test.shape == (1000, 1, 28, 28)
    assert x_train.dtype == mt.float32 and y_train.dtype == mt.int64
    x = x_train.numpy()
    np.testing.assert_allclose(x.min(), -0.1307 / 0.3081, rtol=1e-5)
    np.testing.assert_allclose(x.max(), (1 - 0.1307) / 0.3081, rtol=1e-5)
    assert abs(x.mean()) < 0.1 and 0.9 < x.std() < 1.1


def test_command_line_parses_every_field(app, monkeypatch):
    argv = "--epochs 3 --optimizer momentum --lr 0.02 --channels 8 16 --hidden 32 --dropout 0.1"
    argv += " --batchnorm --schedule constant --resume --max-batches 5 --data-root /tmp/x"
    argv += " --batch-size 32 --seed 4 --out /tmp/o"
    monkeypatch.setattr(sys, "argv", ["mnist_cnn.py", *argv.split()])
    assert app.parse_args() == app.Args(
        epochs=3,
        optimizer="momentum",
        lr=0.02,
        channels=(8, 16),
        hidden=32,
        dropout=0.1,
        batchnorm=True,
        schedule="constant",
        resume=True,
        max_batches=5,
        data_root="/tmp/x",
        batch_size=32,
        seed=4,
        out="/tmp/o",
    )


@pytest.mark.parametrize(
    "argv,error",
    [
        (["--optimizer", "lbfgs"], "invalid choice 'lbfgs' for argument '--optimizer'"),
        (["--schedule", "step"], "invalid choice 'step' for argument '--schedule'"),
        (["--channels", "8"], "Missing value for argument '--channels'. Expected 2 values."),
    ],
)
def test_command_line_rejects_bad_values(app, monkeypatch, capsys, argv, error):
    monkeypatch.setenv("COLUMNS", "400")
    monkeypatch.setattr(sys, "argv", ["mnist_cnn.py", *argv])
    with pytest.raises(SystemExit):
        app.parse_args()
    assert error in capsys.readouterr().err


def test_default_model_is_the_documented_cnn(app):
    model = app.make_model(app.Args())
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert [(c.in_channels, c.out_channels, c.kernel_size) for c in convs] == [
        (1, 32, (3, 3)),
        (32, 64, (3, 3)),
    ]
    assert [(m.in_features, m.out_features) for m in linears] == [(1600, 128), (128, 10)]
    assert sum(isinstance(m, nn.MaxPool2d) for m in model.modules()) == 2
    assert [m.p for m in model.modules() if isinstance(m, nn.Dropout)] == [0.5]
    assert sum(p.numel() for p in model.parameters()) == 225_034
    assert model(mt.randn(3, 1, 28, 28)).shape == (3, 10)


@pytest.mark.parametrize("batchnorm", [False, True])
@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_model_variants(app, batchnorm, dropout):
    model = app.make_model(
        app.Args(channels=(4, 8), hidden=16, dropout=dropout, batchnorm=batchnorm)
    )
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert [m.num_features for m in norms] == ([4, 8] if batchnorm else [])
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert all((c.bias is None) == batchnorm for c in convs)  # BatchNorm makes the bias moot
    assert sum(isinstance(m, nn.Dropout) for m in model.modules()) == (1 if dropout else 0)
    assert next(m for m in model.modules() if isinstance(m, nn.Linear)).in_features == 8 * 25
    assert model(mt.randn(2, 1, 28, 28)).shape == (2, 10)


def test_evaluate_batches_agree_with_one_pass(app, sample):
    _, _, x_test, y_test = sample
    mt.manual_seed(0)
    model = app.make_model(app.Args(channels=(4, 8), hidden=16))
    x, y = x_test[:700], y_test[:700]  # more than one evaluation batch, and a partial one
    loss, acc, preds, probs = app.evaluate(model, x, y)
    with mt.no_grad():
        logits = model(x)  # still in eval mode: dropout is off
    np.testing.assert_array_equal(preds.numpy(), logits.argmax(dim=1).numpy())
    np.testing.assert_allclose(probs.numpy(), F.softmax(logits, dim=1).max(dim=1)[0].numpy(), 1e-5)
    assert loss == pytest.approx(F.cross_entropy(logits, y).item(), rel=1e-5)
    assert acc == pytest.approx((preds == y).float().mean().item())
    assert not model.training


# ---------------------------------------------------------------- learning
def test_cnn_reaches_93_percent_on_held_out_sample(app, sample):
    """Two epochs of the default model and optimizer on the 4,000 training images."""
    x_train, y_train, x_test, y_test = sample
    args = app.Args()
    mt.manual_seed(0)
    model = app.make_model(args)
    opt = app.OPTIMIZERS["adam"](model.parameters(), lr=app.LEARNING_RATES["adam"])
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=64, shuffle=True)
    for _ in range(2):
        model.train()
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    test_loss, test_acc, preds, probs = app.evaluate(model, x_test, y_test)
    assert test_acc >= 0.93, f"held-out accuracy {test_acc:.4f} after 2 epochs"
    assert test_loss < 0.3
    assert preds.shape == probs.shape == (1000,) and preds.dtype == mt.int64
    assert 0.1 <= probs.numpy().min() and probs.numpy().max() <= 1.0  # the argmax probability


# ---------------------------------------------------------------- the real file, end to end
# A tiny budget: 6 batches per epoch of a narrow model; dropout makes resuming depend on the
# restored random state as well as on the data order, the cosine schedule on the scheduler's.
RESUME_ARGS = ("--max-batches", "6", "--channels", "8", "16", "--hidden", "32", "--seed", "3")


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
    assert 0.15 < float(acc) <= 1.0  # 6 Adam steps already beat chance (0.1)
    energy = ENERGY_LINE.search(stdout)
    assert energy, stdout
    # conv 1->8 on 26x26 outputs, conv 8->16 on 11x11, linear 400->32, linear 32->10
    macs = 26 * 26 * 8 * 9 + 11 * 11 * 16 * 8 * 9 + 400 * 32 + 32 * 10
    assert energy.group(1) == f"{macs:,}"
    assert "epoch   1/1" in stdout and "Conv2d(1, 8, kernel_size=(3, 3)" in stdout
    for png in ("curves.png", "confusion.png", "misclassified.png"):
        data = (out / png).read_bytes()
        assert data[:8] == PNG_MAGIC and len(data) > 5000, png

    checkpoint = nn.load(out / "checkpoint.safetensors")
    assert checkpoint["epoch"] == 1
    assert checkpoint["history"]["test_acc"] == [pytest.approx(float(acc), abs=1e-4)]
    assert set(checkpoint["model"]) == {
        f"{i}.{p}" for i in (0, 3, 7, 10) for p in ("weight", "bias")
    }
    assert checkpoint["model"]["0.weight"].shape == (8, 1, 3, 3)
    assert checkpoint["model"]["7.weight"].shape == (32, 16 * 25)
    assert checkpoint["optimizer"]["state"]  # Adam's moments are saved too
    assert checkpoint["scheduler"]["last_epoch"] == 1
    assert checkpoint["args"]["channels"] == (8, 16)


def test_resume_gives_the_weights_of_an_uninterrupted_run(tmp_path):
    """Train 1 epoch, then resume to 2: the same as 2 epochs straight.

    Resuming with a larger --epochs re-plans the cosine, so epoch 2 runs at the lr a run
    planned for 2 epochs has there (half the peak), as in the uninterrupted run.
    """
    args = RESUME_ARGS  # the default cosine schedule
    out = tmp_path / "resumed"
    run_app(*args, "--epochs", "1", "--out", str(out))
    after_one = nn.load(out / "checkpoint.safetensors")["model"]
    resumed_stdout = run_app(*args, "--epochs", "2", "--out", str(out), "--resume")
    assert "resumed from" in resumed_stdout and "epoch   2/2" in resumed_stdout
    assert "epoch   1/2" not in resumed_stdout
    assert "re-planned for 2 epochs (was 1)" in resumed_stdout

    run_app(*args, "--epochs", "2", "--out", str(tmp_path / "straight"))
    resumed = nn.load(out / "checkpoint.safetensors")
    straight = nn.load(tmp_path / "straight" / "checkpoint.safetensors")
    assert resumed["epoch"] == straight["epoch"] == 2
    for name, weight in straight["model"].items():
        np.testing.assert_allclose(
            resumed["model"][name].numpy(), weight.numpy(), rtol=0, atol=1e-7
        )
        assert not np.allclose(after_one[name].numpy(), weight.numpy()), f"{name} did not train"
    assert resumed["history"]["train_loss"] == pytest.approx(straight["history"]["train_loss"])
    assert resumed["history"]["test_acc"] == pytest.approx(straight["history"]["test_acc"])
    for checkpoint in (resumed, straight):  # the cosine's end, after the last epoch's step
        assert checkpoint["optimizer"]["param_groups"][0]["lr"] == pytest.approx(0.0, abs=1e-12)


def test_cosine_schedule_survives_a_checkpoint(app, tmp_path):
    """The scheduler state the app saves brings a new scheduler to the same point."""

    def make():
        model = app.make_model(app.Args(channels=(2, 2), hidden=4))
        opt = app.OPTIMIZERS["adam"](model.parameters(), lr=1e-3)
        return opt, app.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=5)

    opt, sched = make()
    for _ in range(2):
        opt.step()
        sched.step()
    nn.save({"scheduler": sched.state_dict(), "optimizer": opt.state_dict()}, tmp_path / "c")
    checkpoint = nn.load(tmp_path / "c")
    opt2, sched2 = make()
    opt2.load_state_dict(checkpoint["optimizer"])
    sched2.load_state_dict(checkpoint["scheduler"])
    lrs, lrs2 = [], []
    for o, s, out in ((opt, sched, lrs), (opt2, sched2, lrs2)):
        for _ in range(3):
            o.step()
            s.step()
            out.append(o.param_groups[0]["lr"])
    assert lrs2 == pytest.approx(lrs)
    assert lrs[-1] == pytest.approx(0.0, abs=1e-12)  # epoch 5 of 5: the bottom of the cosine


def test_replanned_cosine_continues_like_a_run_planned_that_long(app):
    def make(t_max):
        opt = app.OPTIMIZERS["adam"](nn.Linear(2, 2).parameters(), lr=1e-3)
        return opt, app.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=t_max)

    def lrs(opt, sched, n):
        out = []
        for _ in range(n):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        return out

    planned = lrs(*make(6), 6)
    opt, sched = make(3)
    first = lrs(opt, sched, 2)  # epochs 0 and 1 of a 3-epoch plan
    app.replan_cosine(sched, 6)
    assert first[0] == planned[0] and first[1] < planned[1]
    assert lrs(opt, sched, 4) == pytest.approx(planned[2:], rel=1e-12)
    assert planned[0] == 1e-3 and planned[3] == pytest.approx(5e-4)
