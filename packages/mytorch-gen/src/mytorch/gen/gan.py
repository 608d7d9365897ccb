"""Generative adversarial networks (Goodfellow et al., 2014): MLP generator and discriminator,
and the non-saturating losses.

Images are in [-1, 1] (the generator ends in tanh). The discriminator returns one logit per
image; the losses take logits, so the sigmoid is folded into a stable cross-entropy.

>>> import mytorch.core as mt
>>> g, d = MLPGenerator(latent_dim=64), MLPDiscriminator()
>>> fake = g(mt.randn(5, 64))
>>> fake.shape, d(fake).shape
((5, 1, 28, 28), (5,))
"""

from __future__ import annotations

from collections.abc import Sequence

import mytorch.core as mt
import mytorch.core.functional as F
import mytorch.nn as nn
from mytorch.core import Tensor

__all__ = [
    "MLPDiscriminator",
    "MLPGenerator",
    "discriminator_loss",
    "generator_loss",
]


class MLPGenerator(nn.Module):
    """z (B, latent_dim) -> image (B, *image_shape) in [-1, 1]: Linear-LeakyReLU(0.2) blocks,
    then Linear and tanh."""

    def __init__(
        self,
        latent_dim: int = 64,
        hidden: Sequence[int] = (256, 512),
        image_shape: tuple[int, ...] = (1, 28, 28),
    ) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.image_shape = tuple(image_shape)
        out = 1
        for s in image_shape:
            out *= s
        sizes = [latent_dim, *hidden]
        layers: list[nn.Module] = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(a, b), nn.LeakyReLU(0.2)]
        layers += [nn.Linear(sizes[-1], out), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(
                f"MLPGenerator: expected z (B, {self.latent_dim}), got {tuple(z.shape)}"
            )
        return self.net(z).reshape(z.shape[0], *self.image_shape)


class MLPDiscriminator(nn.Module):
    """image (B, ...) -> logit (B,): flatten, Linear-LeakyReLU(0.2) blocks, Linear to 1."""

    def __init__(self, in_features: int = 784, hidden: Sequence[int] = (512, 256)) -> None:
        super().__init__()
        sizes = [in_features, *hidden]
        layers: list[nn.Module] = [nn.Flatten()]
        for a, b in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(a, b), nn.LeakyReLU(0.2)]
        layers.append(nn.Linear(sizes[-1], 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).reshape(x.shape[0])


def discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """-log D(x) - log(1 - D(G(z))), each averaged over its batch."""
    real = F.binary_cross_entropy_with_logits(real_logits, mt.ones_like(real_logits))
    fake = F.binary_cross_entropy_with_logits(fake_logits, mt.zeros_like(fake_logits))
    return real + fake


def generator_loss(fake_logits: Tensor) -> Tensor:
    """The non-saturating generator loss -log D(G(z)), averaged over the batch."""
    return F.binary_cross_entropy_with_logits(fake_logits, mt.ones_like(fake_logits))
