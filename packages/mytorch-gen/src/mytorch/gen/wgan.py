"""WGAN-GP (Gulrajani et al., 2017): the Wasserstein critic losses and the gradient penalty.

The critic f (e.g. ``DCGANDiscriminator(norm=False)``: no BatchNorm, as the paper advises)
is trained ``n_critic`` times per generator step to minimize
``f(fake).mean() - f(real).mean() + lambda * E[(||grad_x f(x_hat)||_2 - 1)^2]`` with x_hat
drawn uniformly on segments between real and fake images. The penalty differentiates through a
gradient, so it is computed with ``create_graph=True`` and its own backward is a double
backward through the critic. Adam with ``WGAN_GP_LR`` and ``WGAN_GP_BETAS`` is the paper's
choice.

>>> import mytorch.core as mt
>>> from mytorch.gen.dcgan import DCGANDiscriminator
>>> critic = DCGANDiscriminator(ndf=4, norm=False)
>>> real, fake = mt.rand(3, 1, 28, 28), mt.rand(3, 1, 28, 28)
>>> gradient_penalty(critic, real, fake).shape
()
"""

from __future__ import annotations

from collections.abc import Callable

import mytorch.core as mt
from mytorch.core import Tensor, autograd

__all__ = [
    "WGAN_GP_BETAS",
    "WGAN_GP_LR",
    "critic_loss",
    "gradient_penalty",
    "wasserstein_generator_loss",
]

WGAN_GP_LR = 1e-4
WGAN_GP_BETAS = (0.0, 0.9)


def gradient_penalty(
    critic: Callable[[Tensor], Tensor],
    real: Tensor,
    fake: Tensor,
    weight: float = 10.0,
    alpha: Tensor | None = None,
    generator: mt.Generator | None = None,
) -> Tensor:
    """``weight * mean_i (||d critic(x_hat_i) / d x_hat_i||_2 - 1)^2`` with
    ``x_hat = alpha * real + (1 - alpha) * fake``, alpha ~ U(0, 1) per example (or given, (B,)).

    The result is differentiable (twice through ``critic``) with respect to the critic's
    parameters, ``real`` and ``fake``.
    """
    if real.shape != fake.shape:
        raise ValueError(
            f"gradient_penalty: real {tuple(real.shape)} and fake {tuple(fake.shape)} differ"
        )
    b = real.shape[0]
    if alpha is None:
        alpha = mt.rand(b, generator=generator, dtype=real.dtype)
    if tuple(alpha.shape) != (b,):
        raise ValueError(
            f"gradient_penalty: alpha must have shape ({b},), got {tuple(alpha.shape)}"
        )
    a = alpha.reshape(b, *([1] * (real.ndim - 1)))  # (B, 1, ..., 1)
    x_hat = a * real + (1 - a) * fake
    if not x_hat.requires_grad:  # real and fake both constant: differentiate w.r.t. x_hat
        x_hat = x_hat.detach().requires_grad_(True)
    with mt.enable_grad():
        scores = critic(x_hat)  # (B,)
        (grads,) = autograd.grad(scores.sum(), x_hat, create_graph=True)
    norms = (grads.reshape(b, -1) ** 2).sum(dim=1).sqrt()  # (B,)
    return weight * ((norms - 1.0) ** 2).mean()


def critic_loss(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """The critic's Wasserstein loss ``f(fake).mean() - f(real).mean()`` (penalty not included)."""
    return fake_scores.mean() - real_scores.mean()


def wasserstein_generator_loss(fake_scores: Tensor) -> Tensor:
    """The generator's loss ``-f(G(z)).mean()``."""
    return -fake_scores.mean()
