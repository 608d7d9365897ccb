"""mytorch-gen installed alone: import it and train a tiny VAE for a few steps."""

import numpy as np

import mytorch.core as mt
import mytorch.gen as gen


def test_tiny_vae_trains_and_samples():
    mt.manual_seed(0)
    rng = np.random.default_rng(0)
    x = mt.tensor((rng.random((64, 16)) < 0.3).astype(np.float32))  # 64 binary "images"
    vae = gen.VAE(in_features=16, hidden_dim=32, latent_dim=2)
    opt = mt.optim.Adam(vae.parameters(), lr=1e-2)
    first = vae.loss(x).nelbo.mean().item()
    for _ in range(60):
        loss = vae.loss(x).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert vae.loss(x).nelbo.mean().item() < first - 1.0
    assert vae.sample(3).shape == (3, 16)
    assert gen.__version__
