"""GAN, DCGAN and WGAN-GP: losses, architectures, init, and the gradient penalty's double
backward checked against finite differences in float64 (and against PyTorch)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mytorch.core as mt
import mytorch.core.functional as F
import mytorch.nn as nn
from mytorch.core.testing import gradcheck, gradgradcheck
from mytorch.gen import (
    DCGANDiscriminator,
    DCGANGenerator,
    MLPDiscriminator,
    MLPGenerator,
    critic_loss,
    dcgan_init_,
    discriminator_loss,
    generator_loss,
    gradient_penalty,
    wasserstein_generator_loss,
)


def test_gan_losses_by_hand():
    real, fake = mt.tensor([2.0, 0.0]), mt.tensor([-1.0, 1.0])
    sp = lambda v: math.log1p(math.exp(v))  # softplus  # noqa: E731
    # -log sigmoid(r) = softplus(-r); -log(1 - sigmoid(f)) = softplus(f)
    d = (sp(-2.0) + sp(0.0)) / 2 + (sp(-1.0) + sp(1.0)) / 2
    assert discriminator_loss(real, fake).item() == pytest.approx(d, rel=1e-6)
    assert generator_loss(fake).item() == pytest.approx((sp(1.0) + sp(-1.0)) / 2, rel=1e-6)
    assert critic_loss(real, fake).item() == pytest.approx(0.0 - 1.0)
    assert wasserstein_generator_loss(fake).item() == pytest.approx(0.0)


def test_architectures_and_shapes():
    z = mt.randn(3, 16)
    g, d = MLPGenerator(16), MLPDiscriminator()
    assert g(z).shape == (3, 1, 28, 28) and d(g(z)).shape == (3,)
    assert np.abs(g(z).detach().numpy()).max() <= 1.0
    dg, dd = DCGANGenerator(16, ngf=4), DCGANDiscriminator(ndf=4)
    assert dg(z).shape == (3, 1, 28, 28) and dd(dg(z)).shape == (3,)
    assert dg(z.reshape(3, 16, 1, 1)).shape == (3, 1, 28, 28)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in dg.modules()) == 2
    assert sum(isinstance(m, nn.BatchNorm2d) for m in dd.modules()) == 1
    critic = DCGANDiscriminator(ndf=4, norm=False)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in critic.modules())
    with pytest.raises(ValueError, match="expected z \\(B, 16\\)"):
        dg(mt.randn(3, 8))
    with pytest.raises(ValueError, match="expected \\(B, C, 28, 28\\)"):
        dd(mt.randn(3, 1, 32, 32))


def test_dcgan_init_statistics():
    mt.manual_seed(0)
    g = DCGANGenerator(64, ngf=32)
    g.apply(dcgan_init_)
    w = g.net[0].weight.detach().numpy()
    assert abs(w.mean()) < 2e-3 and w.std() == pytest.approx(0.02, rel=0.05)
    bn = g.net[1]
    assert bn.weight.detach().numpy().mean() == pytest.approx(1.0, abs=0.01)
    assert np.all(bn.bias.detach().numpy() == 0)


def test_gradient_penalty_of_a_linear_critic():
    """f(x) = w . x has gradient w everywhere: the penalty is weight * (|w| - 1)^2."""
    w = mt.tensor(np.arange(1, 7, dtype=np.float32).reshape(1, 6) / 10, requires_grad=True)
    critic = lambda x: (x.reshape(x.shape[0], -1) * w).sum(dim=1)  # noqa: E731
    real, fake = mt.rand(4, 1, 2, 3), mt.rand(4, 1, 2, 3)
    gp = gradient_penalty(critic, real, fake, weight=10.0)
    norm = float(np.linalg.norm(np.arange(1, 7) / 10))
    assert gp.item() == pytest.approx(10 * (norm - 1) ** 2, rel=1e-5)
    gp.backward()  # d/dw of 10 (|w| - 1)^2 = 20 (|w| - 1) w / |w|
    expected = 20 * (norm - 1) * (np.arange(1, 7) / 10) / norm
    np.testing.assert_allclose(w.grad.numpy().ravel(), expected, rtol=1e-5)


def _critic64(w1, b1, w2, b2):
    """A small critic in float64 written with functional ops: conv(stride 2) - LeakyReLU(0.2) -
    conv(stride 2) - LeakyReLU(0.2) - linear, with its parameters as explicit inputs."""

    def f(x):
        h = F.leaky_relu(F.conv2d(x, w1, b1, stride=2, padding=1), 0.2)  # (B, 3, 3, 3)
        h = F.leaky_relu(F.conv2d(h, w2, None, stride=2, padding=1), 0.2)  # (B, 2, 2, 2)
        return F.linear(h.reshape(h.shape[0], -1), b2).reshape(h.shape[0])  # (B,)

    return f


def _params64(seed=0):
    rng = np.random.default_rng(seed)

    def t(*shape, scale=0.5):
        return mt.tensor(rng.normal(0, scale, shape), dtype=mt.float64, requires_grad=True)

    return t(3, 1, 3, 3), t(3), t(2, 3, 3, 3), t(1, 8)


def test_critic_ops_have_double_backward():
    w1, b1, w2, b2 = _params64()
    x = mt.tensor(
        np.random.default_rng(1).normal(size=(2, 1, 6, 6)), dtype=mt.float64, requires_grad=True
    )
    fn = lambda x, w1, b1, w2, b2: _critic64(w1, b1, w2, b2)(x)  # noqa: E731
    assert gradcheck(fn, (x, w1, b1, w2, b2))
    assert gradgradcheck(fn, (x, w1, b1, w2, b2))


def test_gradient_penalty_double_backward_matches_finite_differences():
    """gradcheck of the penalty itself: its gradient is a double backward through the critic."""
    w1, b1, w2, b2 = _params64()
    rng = np.random.default_rng(2)
    real = mt.tensor(rng.normal(size=(3, 1, 6, 6)), dtype=mt.float64, requires_grad=True)
    fake = mt.tensor(rng.normal(size=(3, 1, 6, 6)), dtype=mt.float64, requires_grad=True)
    alpha = mt.tensor([0.2, 0.5, 0.9], dtype=mt.float64)

    def penalty(real, fake, w1, b1, w2, b2):
        return gradient_penalty(_critic64(w1, b1, w2, b2), real, fake, alpha=alpha)

    assert gradcheck(penalty, (real, fake, w1, b1, w2, b2))
    assert gradgradcheck(penalty, (real, fake, w1, b1, w2, b2))


def test_gradient_penalty_matches_torch(torch):
    mt.manual_seed(0)
    critic = DCGANDiscriminator(ndf=4, norm=False)
    critic.apply(dcgan_init_)
    tcritic = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 4, 2, 1, bias=False),
        torch.nn.LeakyReLU(0.2),
        torch.nn.Conv2d(4, 8, 4, 2, 1, bias=True),
        torch.nn.Identity(),
        torch.nn.LeakyReLU(0.2),
        torch.nn.Conv2d(8, 1, 7, 1, 0, bias=False),
    )
    tcritic.load_state_dict(
        {k.removeprefix("net."): torch.tensor(v.numpy()) for k, v in critic.state_dict().items()}
    )
    rng = np.random.default_rng(0)
    real, fake = (
        rng.random((5, 1, 28, 28), dtype=np.float32),
        rng.random((5, 1, 28, 28), dtype=np.float32),
    )
    alpha = rng.random(5, dtype=np.float32)
    gp = gradient_penalty(critic, mt.tensor(real), mt.tensor(fake), alpha=mt.tensor(alpha))
    gp.backward()

    a = torch.tensor(alpha).view(5, 1, 1, 1)
    x_hat = (a * torch.tensor(real) + (1 - a) * torch.tensor(fake)).requires_grad_(True)
    (g,) = torch.autograd.grad(tcritic(x_hat).sum(), x_hat, create_graph=True)
    tgp = 10 * ((g.reshape(5, -1).norm(2, dim=1) - 1) ** 2).mean()
    tgp.backward()
    assert gp.item() == pytest.approx(tgp.item(), rel=1e-4)
    for (name, p), tp in zip(critic.named_parameters(), tcritic.parameters()):
        # a bias followed only by piecewise-linear ops does not move the input gradient: its
        # gradient is zero (PyTorch) or absent (None, mytorch: not in the double-backward graph)
        ours = np.zeros(tuple(p.shape)) if p.grad is None else p.grad.numpy()
        theirs = np.zeros(tuple(p.shape)) if tp.grad is None else tp.grad.numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-3, atol=1e-6, err_msg=name)
    assert critic.net[0].weight.grad is not None and np.any(critic.net[0].weight.grad.numpy())


def test_gradient_penalty_errors():
    critic = DCGANDiscriminator(ndf=2, norm=False)
    with pytest.raises(ValueError, match="real \\(2, 1, 28, 28\\) and fake \\(3, 1, 28, 28\\)"):
        gradient_penalty(critic, mt.rand(2, 1, 28, 28), mt.rand(3, 1, 28, 28))
    with pytest.raises(ValueError, match="alpha must have shape \\(2,\\)"):
        gradient_penalty(critic, mt.rand(2, 1, 28, 28), mt.rand(2, 1, 28, 28), alpha=mt.rand(3))


def test_a_few_dcgan_steps_lower_the_discriminator_loss():
    mt.manual_seed(0)
    g, d = DCGANGenerator(16, ngf=4), DCGANDiscriminator(ndf=4)
    g.apply(dcgan_init_)
    d.apply(dcgan_init_)
    opt = mt.optim.Adam(d.parameters(), lr=2e-3, betas=(0.5, 0.999))
    real = mt.rand(16, 1, 28, 28) * 0.2 + 0.8  # bright images; the generator's are mid-grey
    with mt.no_grad():
        fake = g(mt.randn(16, 16))
    losses = []
    for _ in range(8):
        loss = discriminator_loss(d(real), d(fake))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0], losses
