"""The GAN demo (apps/mnist_gan.py) end to end for each model with a tiny budget."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


APP = ROOT / "apps" / "mnist_gan.py"
SCORE = re.compile(
    r"^(gan|dcgan|wgan-gp) \(\d+\): class fractions \[([\d. ]+)\].*classifier-Frechet ([\d.]+)$",
    re.M,
)


def test_command_line(app):
    args = app.tyro.cli(
        app.Args, args=["--model", "wgan-gp", "--n-critic", "3", "--gp-weight", "5"]
    )
    assert args == app.Args(model="wgan-gp", n_critic=3, gp_weight=5.0)
    with pytest.raises(SystemExit):
        app.tyro.cli(app.Args, args=["--model", "vae"])


def test_models_of_each_kind(app):
    for model in ("gan", "dcgan", "wgan-gp"):
        g, d, opt_g, opt_d = app.make_models(app.Args(model=model, width=4, latent_dim=8))
        assert opt_d.param_groups[0]["betas"] == (
            (0.0, 0.9) if model == "wgan-gp" else (0.5, 0.999)
        )
        norms = [type(m).__name__ for m in d.modules() if "BatchNorm" in type(m).__name__]
        assert norms == (["BatchNorm2d"] if model == "dcgan" else [])
        assert opt_g.param_groups[0]["lr"] == (1e-4 if model == "wgan-gp" else 2e-4)
        _, _, opt_g, opt_d = app.make_models(app.Args(model=model, width=4, lr=5e-5))
        assert opt_g.param_groups[0]["lr"] == opt_d.param_groups[0]["lr"] == 5e-5  # --lr


@pytest.mark.parametrize("model", ["gan", "dcgan", "wgan-gp"])
def test_tiny_run(tmp_path: Path, model: str, run_app, assert_pngs):
    out = tmp_path / model
    stdout = run_app(
        APP,
        "--model",
        model,
        "--epochs",
        "2",
        "--max-batches",
        "10",
        "--width",
        "8",
        "--n-samples",
        "100",
        "--out",
        str(out),
    )
    epochs = re.findall(r"^epoch +\d+/2: (.*) \(\d+ s\)$", stdout, re.M)
    assert len(epochs) == 2, stdout
    last = dict(kv.rsplit(" ", 1) for kv in epochs[-1].split(", "))
    if model == "wgan-gp":
        # the critic separates real from fake: its Wasserstein loss goes below 0
        assert float(last["critic (Wasserstein)"]) < 0, epochs
    else:
        # the discriminator beats chance, where its loss would be 2 ln 2
        assert float(last["discriminator"]) < 2 * math.log(2), epochs
    score = SCORE.search(stdout)
    assert score and score.group(1) == model, stdout
    assert sum(map(float, score.group(2).split())) == pytest.approx(1.0, abs=1e-6)
    assert_pngs(out, "samples_epoch1.png", "samples_epoch2.png", "losses.png")
