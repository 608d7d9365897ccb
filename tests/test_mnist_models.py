"""The model comparison demo (apps/mnist_models.py): zoo models adapted to 28x28 digits, and the
real file run with a tiny budget for two small models, printing the table.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import mytorch.core as mt
import mytorch.nn as nn

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "apps" / "mnist_models.py"
ROW = re.compile(r"^(\w+)\s+([\d,]+)\s+(\d\.\d{4})\s+([\d.]+)$", re.M)
# one BLAS thread: the tiny runs gain nothing from more, and stay fast on a loaded machine
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


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
    assert proc.returncode == 0, f"mnist_models.py {' '.join(argv)} failed:\n{proc.stderr[-3000:]}"
    return proc.stdout


# ---------------------------------------------------------------- adapting the zoo to MNIST
def _first_conv(model: nn.Module) -> nn.Conv2d:
    return next(m for m in model.modules() if isinstance(m, nn.Conv2d))


@pytest.mark.parametrize(
    "name,params",
    [
        ("lenet5", 61_706),
        ("resnet20", 269_434),  # in_channels=1: 16 * 2 * 9 = 288 weights fewer than RGB
        ("resnet18", 11_172_810),
        ("shufflenet_v2_x0_5", 351_610),
        ("squeezenet1_1", 726_474),
        ("mobilenet_v2", 2_236_106),
        ("efficientnet_b0", 4_019_782),
    ],
)
def test_zoo_models_take_one_channel_28x28_digits(app, name, params):
    mt.manual_seed(0)
    model = app.build_model(name)
    conv = _first_conv(model)
    assert conv.in_channels == 1
    assert sum(p.numel() for p in model.parameters()) == params
    with mt.no_grad():
        logits = model.eval()(mt.randn(2, 1, 28, 28))
    assert logits.shape == (2, 10)
    assert mt.isfinite(logits).all().item()


@pytest.mark.parametrize("name", ["mobilenet_v2", "shufflenet_v2_x0_5", "efficientnet_b0"])
def test_replaced_stem_keeps_full_resolution(app, name):
    from mytorch.vision import models

    original = _first_conv(models.get_model(name, num_classes=10))
    conv = _first_conv(app.build_model(name))
    assert original.in_channels == 3 and original.stride == (2, 2)
    assert conv.stride == (1, 1) and conv.padding == (1, 1)
    assert conv.out_channels == original.out_channels and conv.kernel_size == (3, 3)
    if name == "shufflenet_v2_x0_5":
        assert isinstance(app.build_model(name).maxpool, nn.Identity)


def test_unknown_model_is_rejected_with_the_list(app, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")
    with pytest.raises(SystemExit):
        app.parse_args(["--models", "lenet5", "alexnet"])
    err = capsys.readouterr().err
    assert "invalid choice 'alexnet' for argument '--models'" in err and "resnet20" in err


def test_command_line(app):
    args = app.parse_args(["--models", "lenet5", "resnet18", "--epochs", "3", "--max-batches", "7"])
    assert args.models == ["lenet5", "resnet18"]
    assert (args.epochs, args.max_batches, args.source) == (3, 7, "sample")


def test_table_lists_every_model(app):
    rows = [
        {"model": "lenet5", "parameters": 61706, "test_acc": 0.9123, "seconds_per_epoch": 1.25},
        {"model": "resnet18", "parameters": 11172810, "test_acc": 0.5, "seconds_per_epoch": 300},
    ]
    table = app.format_table(rows).splitlines()
    assert table[0].split() == ["model", "parameters", "test", "acc", "s/epoch"]
    assert table[2].split() == ["lenet5", "61,706", "0.9123", "1.2"]
    assert table[3].split() == ["resnet18", "11,172,810", "0.5000", "300.0"]


# ---------------------------------------------------------------- the real file, end to end
def test_two_models_with_a_tiny_budget_print_the_table(tmp_path):
    out = tmp_path / "cmp"
    argv = ["--models", "lenet5", "squeezenet1_1", "--epochs", "1", "--max-batches", "3"]
    stdout = run_app(*argv, "--out", str(out))
    rows = {m.group(1): m.groups()[1:] for m in ROW.finditer(stdout)}
    assert list(rows) == ["lenet5", "squeezenet1_1"], stdout
    assert rows["lenet5"][0] == "61,706" and rows["squeezenet1_1"][0] == "726,474"
    for _params, acc, seconds in rows.values():
        assert 0.0 <= float(acc) <= 1.0 and float(seconds) >= 0  # printed to 0.1 s
    assert "compared 2 models (sample, 4000 train / 1000 test, 1 epochs" in stdout
    assert (out / "comparison.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    results = json.loads((out / "results.json").read_text())
    assert [r["model"] for r in results] == ["lenet5", "squeezenet1_1"]
    assert results[0]["test_acc"] == pytest.approx(float(rows["lenet5"][1]), abs=1e-4)
    assert len(results[0]["history"]["test_acc"]) == 1

    # --resume keeps the finished models with the same settings and trains only the new one
    again = run_app(*argv[:3], "resnet20", *argv[3:], "--out", str(out), "--resume")
    assert "resumed from" in again and "lenet5, squeezenet1_1" in again
    assert "lenet5 epoch" not in again and "resnet20 epoch 1/1" in again
    assert list({m.group(1): 0 for m in ROW.finditer(again)}) == [
        "lenet5",
        "squeezenet1_1",
        "resnet20",
    ]
    results = json.loads((out / "results.json").read_text())
    assert [r["model"] for r in results] == ["lenet5", "squeezenet1_1", "resnet20"]
