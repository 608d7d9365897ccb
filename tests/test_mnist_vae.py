"""The VAE demo (apps/mnist_vae.py) end to end with a tiny budget, and its command line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


APP = ROOT / "apps" / "mnist_vae.py"
EPOCH = re.compile(r"^epoch +(\d+)/\d+: train -ELBO ([\d.]+), held-out -ELBO ([\d.]+) nats$", re.M)
FINAL = re.compile(
    r"^held-out: -ELBO ([\d.]+) nats, IWAE \(k=(\d+)\) bound on -log p\(x\) ([\d.]+) nats, "
    r"reconstruction MSE ([\d.]+) per pixel",
    re.M,
)


def test_command_line(app):
    args = app.tyro.cli(app.Args, args=["--latent-dim", "2", "--conditional", "--beta", "3"])
    assert args == app.Args(latent_dim=2, conditional=True, beta=3.0)
    with pytest.raises(SystemExit):
        app.tyro.cli(app.Args, args=["--source", "web"])


def test_tiny_run_learns_and_draws(tmp_path: Path, run_app, assert_pngs):
    out = tmp_path / "vae"
    stdout = run_app(
        APP,
        "--epochs",
        "3",
        "--max-batches",
        "8",
        "--latent-dim",
        "2",
        "--iwae-k",
        "5",
        "--out",
        str(out),
    )
    epochs = EPOCH.findall(stdout)
    assert len(epochs) == 3, stdout
    held_out = [float(e[2]) for e in epochs]
    assert held_out[-1] < held_out[0] - 5, held_out  # the bound falls
    final = FINAL.search(stdout)
    assert final, stdout
    nelbo, k, iwae = float(final.group(1)), final.group(2), float(final.group(3))
    assert k == "5" and iwae <= nelbo + 1.0  # the IWAE bound is the tighter one
    assert_pngs(
        out, "samples.png", "reconstructions.png", "traversal.png", "latent_map.png", "curves.png"
    )
    assert (out / "model.safetensors").exists()


def test_conditional_run(tmp_path: Path, run_app, assert_pngs):
    out = tmp_path / "cvae"
    stdout = run_app(
        APP,
        "--epochs",
        "1",
        "--max-batches",
        "4",
        "--conditional",
        "--iwae-k",
        "2",
        "--out",
        str(out),
    )
    assert "conditional VAE 784-400-20" in stdout and FINAL.search(stdout)
    assert_pngs(out, "samples.png", "traversal.png")
    assert not (out / "latent_map.png").exists()
