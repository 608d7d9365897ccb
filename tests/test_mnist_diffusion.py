"""The diffusion demo (apps/mnist_diffusion.py) end to end with a tiny budget."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


APP = ROOT / "apps" / "mnist_diffusion.py"


def test_command_line(app):
    args = app.tyro.cli(
        app.Args, args=["--schedule", "linear", "--timesteps", "100", "--ddim-steps", "20"]
    )
    assert args == app.Args(schedule="linear", timesteps=100, ddim_steps=20)
    with pytest.raises(SystemExit):
        app.tyro.cli(app.Args, args=["--schedule", "quadratic"])


def test_tiny_run_learns_and_draws(tmp_path: Path, run_app, assert_pngs):
    out = tmp_path / "diffusion"
    stdout = run_app(
        APP,
        "--max-steps",
        "24",
        "--batch-size",
        "16",
        "--timesteps",
        "20",
        "--ddim-steps",
        "5",
        "--n-samples",
        "20",
        "--out",
        str(out),
    )
    loss = re.search(r"loss: first (\d+) steps ([\d.]+) -> last \d+ ([\d.]+)", stdout)
    assert loss, stdout
    assert float(loss.group(3)) < 0.9 * float(loss.group(2)), loss.group(0)
    assert "trained 24 steps" in stdout
    for name in ("real held-out (20)", "DDPM 20 steps", "DDIM 5 steps"):
        assert re.search(
            rf"^{re.escape(name)}: confident \(>0.9\) [\d.]+, .*classifier-Frechet [\d.]+$",
            stdout,
            re.M,
        ), stdout
    assert_pngs(out, "samples.png", "ddim.png", "denoising.png", "steps.png", "loss.png")
