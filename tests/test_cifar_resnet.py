"""The CIFAR ResNet-20 demo (apps/cifar_resnet.py): offline fallback, preprocessing, and the
real file run end to end on synthetic data with a tiny budget, resuming exactly.
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
import mytorch.nn as nn
from mytorch.vision.datasets import CIFAR10

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "apps" / "cifar_resnet.py"
FINAL_LINE = re.compile(
    r"^test accuracy: (\d\.\d{4}) \(source: (\w+), (\d+) train / (\d+) test, [\d.]+ s\)$", re.M
)
# one BLAS thread: the tiny runs gain nothing from more, and stay fast on a loaded machine
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
# 2 batches of 16 synthetic images per epoch, tested on 32: a few seconds per epoch
TINY = ("--synthetic", "--synthetic-size", "64", "32", "--batch-size", "16", "--max-batches", "2")


def run_app(*argv: str) -> str:
    """Run the real file as a script; returns its stdout (fails with stderr on a crash)."""
    proc = subprocess.run(
        [sys.executable, str(APP), *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=ENV,
    )
    assert proc.returncode == 0, f"cifar_resnet.py {' '.join(argv)} failed:\n{proc.stderr[-3000:]}"
    return proc.stdout


# ---------------------------------------------------------------- data and CLI
def test_command_line_parses_every_field(app):
    argv = "--epochs 4 --batch-size 32 --lr 0.05 --momentum 0.8 --weight-decay 5e-4 --warmup 1"
    argv += " --no-augment --synthetic --synthetic-size 100 20 --data-root /tmp/x --out /tmp/o"
    argv += " --resume --max-batches 3 --seed 2"
    assert app.parse_args(argv.split()) == app.Args(
        epochs=4,
        batch_size=32,
        lr=0.05,
        momentum=0.8,
        weight_decay=5e-4,
        warmup=1,
        augment=False,
        synthetic=True,
        synthetic_size=(100, 20),
        data_root="/tmp/x",
        out="/tmp/o",
        resume=True,
        max_batches=3,
        seed=2,
    )
    assert app.parse_args([]) == app.Args()
    assert (app.Args().lr, app.Args().momentum, app.Args().weight_decay) == (0.1, 0.9, 1e-4)


def test_synthetic_data_has_cifar_shapes(app):
    args = app.Args(synthetic=True, synthetic_size=[50, 20])
    x_train, y_train, x_test, y_test, source = app.load_cifar(args)
    assert source == "synthetic"
    assert x_train.shape == (50, 3, 32, 32) and x_test.shape == (20, 3, 32, 32)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.int64
    assert set(y_test.tolist()) <= set(range(10))
    assert not np.array_equal(x_train[:20], x_test)  # different noise for the test split


def test_cifar10_files_in_the_data_root_are_used(app, tmp_path):
    """The real-data path: CIFAR-10 binary batch files already in --data-root are read."""
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    rng = np.random.default_rng(0)
    sizes = {f"data_batch_{i}.bin": 3 for i in range(1, 6)} | {"test_batch.bin": 4}
    for name, n in sizes.items():
        labels = rng.integers(0, 10, (n, 1), dtype=np.uint8)
        pixels = rng.integers(0, 256, (n, 3072), dtype=np.uint8)  # planar R, G, B
        (folder / name).write_bytes(np.concatenate([labels, pixels], axis=1).tobytes())
    x_train, y_train, x_test, y_test, source = app.load_cifar(app.Args(data_root=str(tmp_path)))
    assert source == "full"
    assert x_train.shape == (15, 3, 32, 32) and x_test.shape == (4, 3, 32, 32)
    last = np.frombuffer((folder / "test_batch.bin").read_bytes(), np.uint8).reshape(4, 3073)
    np.testing.assert_array_equal(y_test, last[:, 0])
    np.testing.assert_array_equal(x_test.reshape(4, 3072), last[:, 1:])  # channels first


def test_failed_download_falls_back_to_synthetic_data_in_one_line(
    app, monkeypatch, tmp_path, capfd
):
    monkeypatch.setattr(CIFAR10, "mirrors", ["http://127.0.0.1:9/"])  # nothing listens there
    args = app.Args(data_root=str(tmp_path), synthetic_size=(30, 10))
    x_train, y_train, x_test, y_test, source = app.load_cifar(args)
    assert source == "synthetic" and len(x_train) == 30 and len(y_test) == 10
    err = capfd.readouterr().err
    assert err == (  # one line: the cause, what is used instead, where the archive goes
        "warning: CIFAR10: could not download cifar-10-binary.tar.gz from 127.0.0.1:9: "
        "connection refused. Using synthetic data instead: its accuracy says nothing about "
        f"CIFAR-10. To use CIFAR-10, place cifar-10-binary.tar.gz in {tmp_path}, or pass "
        "--synthetic to use synthetic data on purpose.\n"
    )
    app.load_cifar(args)  # the next run within 10 minutes makes no network attempt
    assert " s ago; not retried for " in capfd.readouterr().err


def test_normalize_is_totensor_then_normalize(app):
    images = np.random.default_rng(0).integers(0, 256, (4, 3, 32, 32), dtype=np.uint8)
    out = app.normalize(images)
    assert isinstance(out, mt.Tensor) and out.dtype == mt.float32 and out.shape == images.shape
    mean = np.array(app.CIFAR_MEAN).reshape(3, 1, 1)
    std = np.array(app.CIFAR_STD).reshape(3, 1, 1)
    np.testing.assert_allclose(out.numpy(), (images / 255.0 - mean) / std, rtol=1e-5, atol=1e-5)


def test_model_is_resnet20(app):
    model = app.make_model(app.Args())
    assert sum(p.numel() for p in model.parameters()) == 269_722
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == 19
    with mt.no_grad():
        assert model.eval()(mt.randn(2, 3, 32, 32)).shape == (2, 10)


@pytest.mark.parametrize("warmup", [0, 2])
def test_schedule_warms_up_then_follows_a_cosine_to_zero(app, warmup):
    model = nn.Linear(2, 2)
    opt = app.optim.SGD(model.parameters(), lr=0.1)
    sched = app.make_scheduler(opt, app.Args(warmup=warmup), epochs=6)
    lrs = []
    for _ in range(6):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()  # (no gradients: nothing changes) the order the schedulers expect
        sched.step()
    if warmup:
        assert lrs[0] == pytest.approx(0.01) and lrs[0] < lrs[1] < lrs[2]
    cosine = lrs[warmup:]
    assert cosine[0] == pytest.approx(0.1)
    assert all(a > b for a, b in zip(cosine, cosine[1:]))
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12)  # after the last epoch


@pytest.mark.parametrize("warmup", [0, 1])
def test_replanned_schedule_continues_like_a_run_planned_that_long(app, warmup):
    def make(epochs):
        opt = app.optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1)
        return opt, app.make_scheduler(opt, app.Args(warmup=warmup), epochs)

    def lrs(opt, sched, n):
        out = []
        for _ in range(n):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        return out

    planned = lrs(*make(7), 7)
    opt, sched = make(4)
    first = lrs(opt, sched, 3)  # epochs 0-2 of a 4-epoch plan
    app.replan_cosine(sched, app.Args(warmup=warmup), 7)
    assert first[2] < planned[2]
    assert lrs(opt, sched, 4) == pytest.approx(planned[3:], rel=1e-12)


# ---------------------------------------------------------------- the real file, end to end
@pytest.fixture(scope="module")
def resume_runs(tmp_path_factory):
    """A 2-epoch run resumed to 3 epochs, and a straight 3-epoch run.

    With one warm-up epoch the schedule is lr 0.01, then the cosine from 0.1: resuming with
    --epochs 3 re-plans the cosine, so the third epoch runs at 0.05 as in the straight run.
    """
    base = tmp_path_factory.mktemp("cifar")
    args = (*TINY, "--warmup", "1", "--seed", "1")
    first = run_app(*args, "--epochs", "2", "--out", str(base / "resumed"))
    after_two = nn.load(base / "resumed" / "checkpoint.safetensors")
    resumed = run_app(*args, "--epochs", "3", "--out", str(base / "resumed"), "--resume")
    straight = run_app(*args, "--epochs", "3", "--out", str(base / "straight"))
    return base, first, after_two, resumed, straight


def test_smoke_run_prints_accuracy_and_writes_outputs(resume_runs):
    base, first, after_two, _, _ = resume_runs
    match = FINAL_LINE.search(first)
    assert match, first
    acc, source, n_train, n_test = match.groups()
    assert (source, n_train, n_test) == ("synthetic", "64", "32")
    assert 0.0 <= float(acc) <= 1.0
    assert "ResNet-20: 269,722 parameters" in first and "epoch   2/2" in first
    assert after_two["epoch"] == 2 and after_two["total_epochs"] == 2
    assert after_two["history"]["test_acc"][-1] == pytest.approx(float(acc), abs=1e-4)
    assert after_two["history"]["lr"] == pytest.approx([0.01, 0.1])  # warm-up, then the cosine
    assert after_two["model"]["conv1.weight"].shape == (16, 3, 3, 3)
    assert "layer3.2.bn2.running_var" in after_two["model"]
    assert after_two["optimizer"]["state"]  # the momentum buffers are saved too
    assert after_two["args"]["synthetic"] is True
    for png in ("curves.png", "confusion.png"):
        data = (base / "resumed" / png).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000, png


def test_resume_gives_the_weights_of_an_uninterrupted_run(resume_runs):
    base, _, after_two, resumed_stdout, _ = resume_runs
    assert "resumed from" in resumed_stdout and "epoch   3/3" in resumed_stdout
    assert "epoch   2/3" not in resumed_stdout
    assert "re-planned for 3 epochs (was 2)" in resumed_stdout
    resumed = nn.load(base / "resumed" / "checkpoint.safetensors")
    straight = nn.load(base / "straight" / "checkpoint.safetensors")
    assert resumed["epoch"] == straight["epoch"] == 3
    assert straight["history"]["lr"] == pytest.approx([0.01, 0.1, 0.05])
    assert resumed["history"]["lr"] == pytest.approx(straight["history"]["lr"])
    for name, value in straight["model"].items():
        np.testing.assert_allclose(resumed["model"][name].numpy(), value.numpy(), atol=1e-6)
        if name.endswith("weight"):
            assert not np.array_equal(after_two["model"][name].numpy(), value.numpy()), name
    assert resumed["history"]["train_loss"] == pytest.approx(straight["history"]["train_loss"])
