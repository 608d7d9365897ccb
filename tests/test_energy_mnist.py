"""The energy trade-off demo (apps/energy_mnist.py): gates prune without changing outputs, the
regularized MLP needs far fewer effective MACs, and the file runs end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import mytorch.core as mt
from mytorch.energy import L0Gate, count

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "apps" / "energy_mnist.py"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_models_have_the_documented_macs(app):
    assert count(app.make_model("mlp", False), (1, 1, 28, 28)).macs == 784 * 512 + 512 * 256 + 2560
    cnn = 26 * 26 * 16 * 9 + 11 * 11 * 32 * 16 * 9 + 800 * 128 + 128 * 10
    assert count(app.make_model("cnn", True), (1, 1, 28, 28)).macs == cnn
    gates = [m for m in app.make_model("cnn", True).modules() if isinstance(m, L0Gate)]
    assert [g.num_features for g in gates] == [16, 32, 128]


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_pruning_gated_units_leaves_the_outputs_unchanged(app, kind):
    mt.manual_seed(0)
    model = app.make_model(kind, gated=True)
    for gate in (m for m in model.modules() if isinstance(m, L0Gate)):
        gate.log_alpha.data[::3] = -20.0  # every third unit's eval gate is exactly 0
    model.eval()
    x = mt.rand(8, 1, 28, 28)
    with mt.no_grad():
        before = model(x).numpy()
        pruned = app.prune_gated(model)
        after = model(x).numpy()
    widths = (512, 256) if kind == "mlp" else (16, 32, 128)
    assert pruned == sum(len(range(0, w, 3)) for w in widths)
    np.testing.assert_allclose(after, before, rtol=1e-5, atol=1e-6)
    first = model[1] if kind == "mlp" else model[0]
    assert not first.weight.data[::3].any() and first.weight.data[1::3].all()


def test_command_line_rejects_unknown_models(app, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")
    with pytest.raises(SystemExit):
        app.parse_args(["--models", "rnn"])
    assert "invalid choice 'rnn' for argument '--models'" in capsys.readouterr().err
    assert app.parse_args(["--models", "cnn", "mlp"]).models == ["cnn", "mlp"]


def test_regularized_mlp_needs_far_fewer_effective_macs(app, tmp_path, capsys):
    """A short budget (6 epochs): the L0-gated MLP skips >= 30% more MACs within 2 points."""
    results = app.main(
        ["--models", "mlp", "--epochs-mlp", "6", "--out", str(tmp_path), "--strengths", "1"]
    )
    base, gated = results
    assert base["label"] == "baseline" and gated["label"] == "l0 1"
    assert base["macs"] == gated["macs"] == 535_040
    assert gated["effective_macs"] <= 0.7 * base["effective_macs"]
    assert gated["energy_uj"] < base["energy_uj"]
    assert gated["accuracy"] >= base["accuracy"] - 0.02 and base["accuracy"] > 0.9
    assert gated["pruned_units"] > 0
    out = capsys.readouterr().out
    assert "fewer effective MACs" in out and "of its MACs multiply a zero" in out
    saved = json.loads((tmp_path / "results.json").read_text())
    assert [r["label"] for r in saved] == ["baseline", "l0 1"]
    for png in ("tradeoff.png", "energy_mlp_baseline.png", "energy_mlp_l0_1.png"):
        assert (tmp_path / png).read_bytes()[:8] == PNG_MAGIC, png


def test_activation_regularizer_and_cnn_run_end_to_end(app, tmp_path):
    argv = ["--models", "cnn", "--regularizer", "activation", "--strengths", "0.01"]
    argv += ["--epochs-cnn", "1", "--max-batches", "5", "--out", str(tmp_path)]
    base, reg = app.main(argv)
    assert reg["label"] == "activation 0.01" and reg["pruned_units"] == 0
    assert len(reg["relu_sparsity"]) == 3  # the three ReLUs of the CNN
    assert all(0 <= r["output_sparsity"] <= 1 for r in reg["relu_sparsity"])
    assert (tmp_path / "tradeoff.png").read_bytes()[:8] == PNG_MAGIC
