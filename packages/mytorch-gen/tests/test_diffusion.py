"""DDPM/DDIM: schedule identities against closed forms, forward noising, and the samplers."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mytorch.core as mt
import mytorch.nn as nn
from mytorch.gen import DDPM, NoiseSchedule, TimeUNet, cosine_schedule, linear_schedule
from mytorch.gen.unet import sinusoidal_embedding


@pytest.mark.parametrize("make", [linear_schedule, cosine_schedule])
def test_schedule_identities(make):
    s = make(200)
    assert len(s) == 200 and s.betas.dtype == np.float64
    np.testing.assert_allclose(s.alphas_cumprod, np.cumprod(1 - s.betas), rtol=1e-12)
    np.testing.assert_allclose(s.alphas_cumprod_prev[1:], s.alphas_cumprod[:-1])
    assert s.alphas_cumprod_prev[0] == 1.0
    assert np.all(np.diff(s.alphas_cumprod) < 0) and s.alphas_cumprod[-1] < 0.01
    # posterior q(x_{t-1} | x_t, x_0) by Gaussian conditioning: precision alpha_t / beta_t +
    # 1 / (1 - abar_{t-1}); mean var * (sqrt(alpha_t) / beta_t x_t + sqrt(abar_{t-1}) /
    # (1 - abar_{t-1}) x_0). At t = 0 the posterior is the point x_0.
    a, b, ap = s.alphas[1:], s.betas[1:], s.alphas_cumprod_prev[1:]
    var = 1 / (a / b + 1 / (1 - ap))
    np.testing.assert_allclose(s.posterior_variance[1:], var, rtol=1e-9)
    np.testing.assert_allclose(s.posterior_mean_coef1[1:], var * np.sqrt(ap) / (1 - ap), rtol=1e-9)
    np.testing.assert_allclose(s.posterior_mean_coef2[1:], var * np.sqrt(a) / b, rtol=1e-9)
    assert s.posterior_variance[0] == 0 and s.posterior_mean_coef1[0] == pytest.approx(1.0)
    assert s.posterior_mean_coef2[0] == 0


def test_linear_schedule_endpoints():
    s = linear_schedule(1000)
    assert s.betas[0] == pytest.approx(1e-4) and s.betas[-1] == pytest.approx(0.02)
    assert linear_schedule(500).betas[-1] == pytest.approx(0.04)  # scaled by 1000 / T


def test_cosine_schedule_alpha_bar_is_the_squared_cosine():
    T, s = 100, 0.008
    sched = cosine_schedule(T, s=s)
    t = np.arange(1, T + 1)
    f = np.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2 / math.cos(s / (1 + s) * math.pi / 2) ** 2
    # exact until the 0.999 clip at the very end
    np.testing.assert_allclose(sched.alphas_cumprod[:-1], f[:-1], rtol=1e-9)
    assert sched.betas.max() <= 0.999


def test_schedule_rejects_bad_betas():
    with pytest.raises(ValueError, match="in \\(0, 1\\)"):
        NoiseSchedule(np.array([0.1, 1.0]))
    with pytest.raises(ValueError, match="timesteps"):
        linear_schedule(0)


def test_q_sample_has_the_marginal_moments():
    s = linear_schedule(100)
    ddpm = DDPM(lambda x, t: x, s)
    x0 = mt.full((20_000, 1), 0.7)
    t = np.full(20_000, 60)
    xt = ddpm.q_sample(x0, t, mt.randn(20_000, 1, generator=mt.Generator(0))).numpy()
    abar = s.alphas_cumprod[60]
    assert xt.mean() == pytest.approx(math.sqrt(abar) * 0.7, abs=0.02)
    assert xt.std() == pytest.approx(math.sqrt(1 - abar), abs=0.02)
    with pytest.raises(ValueError, match="timesteps must be in"):
        ddpm.q_sample(x0[:2], np.array([0, 100]))


def _oracle(point: np.ndarray, schedule) -> DDPM:
    """A DDPM whose noise predictor is exact for data that is the single image ``point``."""
    target = mt.tensor(point)
    abar = schedule.alphas_cumprod

    def eps(x, t):
        a = mt.tensor(abar[t.numpy()].astype(np.float32)).reshape(-1, 1, 1, 1)
        return (x - a.sqrt() * target) / (1 - a).sqrt()

    return DDPM(eps, schedule)


@pytest.mark.parametrize("make", [linear_schedule, cosine_schedule])
def test_samplers_recover_the_data_with_an_exact_noise_model(make):
    point = np.random.default_rng(0).uniform(-0.9, 0.9, (1, 1, 4, 4)).astype(np.float32)
    ddpm = _oracle(point, make(50))
    out = ddpm.sample(3, (1, 4, 4), generator=mt.Generator(1)).numpy()
    np.testing.assert_allclose(out, np.repeat(point, 3, 0), atol=1e-4)
    for eta in (0.0, 1.0):
        out = ddpm.ddim_sample(3, (1, 4, 4), steps=10, eta=eta, generator=mt.Generator(1)).numpy()
        np.testing.assert_allclose(out, np.repeat(point, 3, 0), atol=1e-4)


def test_sampling_is_reproducible_and_records_the_trajectory():
    mt.manual_seed(0)
    ddpm = DDPM(TimeUNet(base_channels=8, channel_mults=(1, 2), time_dim=16), cosine_schedule(20))
    a = ddpm.ddim_sample(2, (1, 8, 8), steps=5, generator=mt.Generator(3)).numpy()
    b = ddpm.ddim_sample(2, (1, 8, 8), steps=5, generator=mt.Generator(3)).numpy()
    np.testing.assert_array_equal(a, b)
    x, trajectory = ddpm.sample(2, (1, 8, 8), generator=mt.Generator(3), trajectory_every=5)
    assert len(trajectory) == 1 + 4  # x_T and t = 15, 10, 5, 0
    np.testing.assert_array_equal(trajectory[-1].numpy(), x.numpy())
    assert np.abs(x.numpy()).max() <= 1.0 + 1e-6  # clipped x_0 at the last step
    with pytest.raises(ValueError, match="steps must be in"):
        ddpm.ddim_sample(1, (1, 8, 8), steps=21)


def test_training_lowers_the_epsilon_loss():
    mt.manual_seed(0)
    net = TimeUNet(base_channels=8, channel_mults=(1, 2), time_dim=16)
    ddpm = DDPM(net, cosine_schedule(50))
    x0 = mt.tensor(np.tile(np.linspace(-1, 1, 8, dtype=np.float32), (8, 1, 8, 1)))  # (8, 1, 8, 8)
    opt = mt.optim.Adam(net.parameters(), lr=3e-3)
    gen = mt.Generator(0)
    losses = []
    for _ in range(25):
        loss = ddpm.loss(x0, generator=gen)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[0] == pytest.approx(1.0, abs=0.15)  # zero-initialized output: eps_hat = 0
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:5]), losses


def test_sinusoidal_embedding_values():
    t = mt.tensor([0, 3])
    emb = sinusoidal_embedding(t, 4).numpy()
    freqs = np.array([1.0, 10_000 ** (-1 / 2)])
    expected = np.concatenate([np.sin(np.outer([0, 3], freqs)), np.cos(np.outer([0, 3], freqs))], 1)
    np.testing.assert_allclose(emb, expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="even"):
        sinusoidal_embedding(t, 3)


def test_unet_shapes_time_dependence_and_errors():
    mt.manual_seed(0)
    net = TimeUNet(base_channels=8, channel_mults=(1, 2, 2), time_dim=16)
    nn.init.constant_(net.conv_out.weight, 0.1)  # leave the zero init to see the time input
    x = mt.randn(2, 1, 28, 28)
    with mt.no_grad():
        a = net(x, mt.tensor([0, 0])).numpy()
        b = net(x, mt.tensor([50, 50])).numpy()
    assert a.shape == (2, 1, 28, 28) and not np.allclose(a, b)
    with pytest.raises(ValueError, match="divisible by 4"):
        net(mt.randn(1, 1, 10, 10), mt.tensor([0]))
    with pytest.raises(ValueError, match="t must have shape"):
        net(x, mt.tensor([0]))
