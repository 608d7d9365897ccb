"""The denoising-autoencoder demo (apps/mnist_denoise.py) end to end with a tiny budget."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


APP = ROOT / "apps" / "mnist_denoise.py"


def test_command_line_builds_the_corruption(app):
    args = app.tyro.cli(app.Args, args=["--noise-std", "0", "--mask", "0.5", "--model", "mlp"])
    dae = app.make_model(args)
    assert repr(dae.corruption) == "Compose([MaskingNoise(p=0.5, value=0.0)])"
    assert type(dae.autoencoder).__name__ == "MLPAutoencoder"


def test_tiny_run_denoises(tmp_path: Path, run_app, assert_pngs):
    out = tmp_path / "denoise"
    stdout = run_app(APP, "--epochs", "2", "--max-batches", "15", "--out", str(out))
    held_out = [float(v) for v in re.findall(r"held-out BCE ([\d.]+) nats", stdout)]
    assert len(held_out) == 2 and held_out[1] < held_out[0], stdout
    mse = re.search(r"noisy input ([\d.]+) -> denoised ([\d.]+)", stdout)
    assert mse and float(mse.group(2)) < float(mse.group(1)), stdout
    assert_pngs(out, "denoising.png", "curves.png")
