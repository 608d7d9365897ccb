"""VAE: the ELBO's arithmetic, the analytic KL, the IWAE bound, conditioning and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mytorch.core as mt
from mytorch.gen import (
    VAE,
    ConditionalVAE,
    bernoulli_log_likelihood,
    gaussian_kl,
    gaussian_log_density,
    reparameterize,
)


def test_bernoulli_log_likelihood_by_hand():
    logits = mt.tensor([[0.0, 2.0, -1.0]])
    x = mt.tensor([[1.0, 0.0, 0.5]])
    p = 1 / (1 + np.exp(-np.array([0.0, 2.0, -1.0])))
    expected = math.log(p[0]) + math.log(1 - p[1]) + 0.5 * math.log(p[2]) + 0.5 * math.log(1 - p[2])
    assert bernoulli_log_likelihood(logits, x).item() == pytest.approx(expected, rel=1e-6)


def test_gaussian_kl_by_hand_and_zero_at_the_prior():
    mu = mt.tensor([[1.0, -2.0]])
    logvar = mt.tensor([[0.0, math.log(4.0)]])
    # KL = 0.5 * sum(var + mu^2 - 1 - log var)
    expected = 0.5 * ((1 + 1 - 1 - 0) + (4 + 4 - 1 - math.log(4)))
    assert gaussian_kl(mu, logvar).item() == pytest.approx(expected, rel=1e-6)
    assert gaussian_kl(mt.zeros(3, 5), mt.zeros(3, 5)).numpy() == pytest.approx(np.zeros(3))


def test_gaussian_kl_matches_monte_carlo():
    rng = np.random.default_rng(0)
    mu = rng.normal(size=4)
    logvar = rng.normal(size=4) * 0.5
    z = mu + np.exp(0.5 * logvar) * rng.standard_normal((200_000, 4))
    log_q = -0.5 * (np.log(2 * np.pi) + logvar + (z - mu) ** 2 / np.exp(logvar)).sum(1)
    log_p = -0.5 * (np.log(2 * np.pi) + z**2).sum(1)
    mc = (log_q - log_p).mean()
    analytic = gaussian_kl(mt.tensor(mu[None]), mt.tensor(logvar[None])).item()
    assert analytic == pytest.approx(mc, abs=0.02)


def test_gaussian_log_density_matches_the_formula():
    z, mu, logvar = mt.tensor([[0.5, 1.0]]), mt.tensor([[0.0, 2.0]]), mt.tensor([[0.0, 1.0]])
    var = np.array([1.0, math.e])
    expected = -0.5 * np.sum(np.log(2 * np.pi * var) + (np.array([0.5, -1.0]) ** 2) / var)
    assert gaussian_log_density(z, mu, logvar).item() == pytest.approx(expected, rel=1e-6)


def test_reparameterize_has_the_right_moments_and_gradients():
    mu = mt.full((20_000, 1), 1.5, requires_grad=True)
    logvar = mt.full((20_000, 1), math.log(0.25), requires_grad=True)
    z = reparameterize(mu, logvar, generator=mt.Generator(0))
    assert z.detach().numpy().mean() == pytest.approx(1.5, abs=0.01)
    assert z.detach().numpy().std() == pytest.approx(0.5, abs=0.01)
    z.sum().backward()
    assert mu.grad.numpy() == pytest.approx(np.ones((20_000, 1)))
    eps = (z.detach().numpy() - 1.5) / 0.5
    assert logvar.grad.numpy() == pytest.approx(0.5 * 0.5 * eps, abs=1e-5)  # dz/dlogvar


def test_loss_is_recon_plus_kl_with_the_model_parts():
    mt.manual_seed(0)
    vae = VAE(in_features=6, hidden_dim=5, latent_dim=3)
    x = mt.rand(4, 6)
    mt.manual_seed(1)
    out = vae.loss(x)
    mt.manual_seed(1)  # the same z sample by hand
    mu, logvar = vae.encode(x)
    z = reparameterize(mu, logvar)
    recon = -bernoulli_log_likelihood(vae.decode(z), x)
    kl = gaussian_kl(mu, logvar)
    np.testing.assert_allclose(out.recon.detach().numpy(), recon.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(out.kl.detach().numpy(), kl.detach().numpy(), rtol=1e-6)
    total = (recon + kl).detach().numpy()
    np.testing.assert_allclose(out.nelbo.detach().numpy(), total, rtol=1e-6)
    assert out.loss.item() == pytest.approx(total.mean(), rel=1e-6)


def test_beta_weights_only_the_kl_term():
    mt.manual_seed(0)
    vae = VAE(in_features=6, hidden_dim=5, latent_dim=3, beta=4.0)
    x = mt.rand(4, 6)
    with mt.no_grad():
        out = vae.loss(x)
    expected = (out.recon + 4.0 * out.kl).numpy().mean()
    assert out.loss.item() == pytest.approx(expected, rel=1e-6)
    np.testing.assert_allclose(out.nelbo.numpy(), (out.recon + out.kl).numpy(), rtol=1e-6)


def test_iwae_bound_is_at_least_the_elbo_and_rises_with_k():
    mt.manual_seed(0)
    vae = VAE(in_features=20, hidden_dim=16, latent_dim=4)
    x = (mt.rand(50, 20) < 0.5).float()
    with mt.no_grad():
        elbo = -np.mean([vae.loss(x).nelbo.numpy().mean() for _ in range(20)])
        iwae1 = np.mean([vae.log_likelihood(x, k=1).numpy().mean() for _ in range(20)])
        iwae50 = vae.log_likelihood(x, k=50).numpy().mean()
        iwae500 = vae.log_likelihood(x, k=500).numpy().mean()
    assert iwae1 == pytest.approx(elbo, abs=0.3)  # k = 1 is the ELBO
    assert iwae50 > elbo + 0.1
    assert iwae500 >= iwae50 - 0.02


def test_gaussian_decoder():
    mt.manual_seed(0)
    vae = VAE(in_features=8, hidden_dim=6, latent_dim=2, decoder="gaussian")
    x = mt.randn(5, 8)
    mean, logvar = vae.decode(mt.zeros(5, 2))
    assert mean.shape == logvar.shape == (5, 8)
    out = vae.loss(x)
    assert out.recon.shape == (5,) and np.isfinite(out.loss.item())
    assert vae.log_likelihood(x, k=3).shape == (5,)
    assert vae.sample(2).shape == (2, 8)


def test_conditional_vae_uses_the_label():
    mt.manual_seed(0)
    cvae = ConditionalVAE(in_features=10, hidden_dim=8, latent_dim=2, num_classes=3)
    x = mt.rand(4, 10)
    z = mt.zeros(4, 2)
    with mt.no_grad():
        a = cvae.decode(z, mt.tensor([0, 0, 0, 0])).numpy()
        b = cvae.decode(z, mt.tensor([1, 1, 1, 1])).numpy()
    assert not np.allclose(a, b)
    assert cvae.loss(x, mt.tensor([0, 1, 2, 0])).nelbo.shape == (4,)
    assert cvae.log_likelihood(x, mt.tensor([0, 1, 2, 0]), k=4).shape == (4,)
    with pytest.raises(ValueError, match="needs y"):
        cvae.loss(x)
    with pytest.raises(ValueError, match="unconditional"):
        VAE(in_features=10).loss(x, mt.tensor([0, 1, 2, 0]))


def test_vae_trains_on_mnist_sample():
    """Twenty steps on 500 images bring the bound far below where it starts."""
    from mytorch.vision.datasets import load_sample

    images, _ = load_sample(train=True)
    x = mt.tensor(images[:500].reshape(-1, 784).astype(np.float32) / 255)
    mt.manual_seed(0)
    vae = VAE(hidden_dim=200)
    opt = mt.optim.Adam(vae.parameters(), lr=1e-3)
    with mt.no_grad():
        start = vae.loss(x).nelbo.mean().item()
    for _ in range(4):
        for i in range(0, 500, 100):
            loss = vae.loss(x[i : i + 100]).loss
            opt.zero_grad()
            loss.backward()
            opt.step()
    with mt.no_grad():
        end = vae.loss(x).nelbo.mean().item()
    assert start > 500 and end < 290, (start, end)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"decoder": "poisson"}, "decoder"),
        ({"beta": -1.0}, "beta"),
        ({"latent_dim": 0}, "latent_dim"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        VAE(**kwargs)


def test_bad_input_shape_names_the_sizes():
    with pytest.raises(ValueError, match="expected 784 features per example, got 100"):
        VAE().loss(mt.rand(2, 100))


def test_matches_torch_reference_vae(torch):
    """The same weights and the same z give PyTorch's reference-VAE loss."""
    mt.manual_seed(0)
    vae = VAE(in_features=12, hidden_dim=7, latent_dim=3)
    sd = {k: torch.tensor(v.numpy()) for k, v in vae.state_dict().items()}
    x = np.random.default_rng(0).random((5, 12)).astype(np.float32)
    mu, logvar = vae.encode(mt.tensor(x))
    eps = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)
    z = mu + (0.5 * logvar).exp() * mt.tensor(eps)
    ours = (-bernoulli_log_likelihood(vae.decode(z), mt.tensor(x)) + gaussian_kl(mu, logvar)).sum()
    lin = torch.nn.functional.linear
    xt = torch.tensor(x)
    h = torch.relu(lin(xt, sd["fc1.weight"], sd["fc1.bias"]))
    tmu, tlv = (
        lin(h, sd["fc21.weight"], sd["fc21.bias"]),
        lin(h, sd["fc22.weight"], sd["fc22.bias"]),
    )
    tz = tmu + torch.exp(0.5 * tlv) * torch.tensor(eps)
    recon = torch.sigmoid(
        lin(torch.relu(lin(tz, sd["fc3.weight"], sd["fc3.bias"])), sd["fc4.weight"], sd["fc4.bias"])
    )
    bce = torch.nn.functional.binary_cross_entropy(recon, xt, reduction="sum")
    kld = -0.5 * torch.sum(1 + tlv - tmu.pow(2) - tlv.exp())
    assert ours.item() == pytest.approx((bce + kld).item(), rel=1e-5)
