"""DCGAN (Radford et al., 2016) for 28x28 images.

Generator: z (B, latent_dim) -> ConvTranspose 7x7 to (4*ngf, 7, 7) -> BN-ReLU -> ConvTranspose
4x4 stride 2 to (2*ngf, 14, 14) -> BN-ReLU -> ConvTranspose 4x4 stride 2 to (C, 28, 28) -> tanh.
Discriminator: Conv 4x4 stride 2 to (ndf, 14, 14) -> LeakyReLU(0.2) -> Conv 4x4 stride 2 to
(2*ndf, 7, 7) -> BN -> LeakyReLU(0.2) -> Conv 7x7 to one logit. No pooling, no hidden linear
layers, BatchNorm everywhere but the generator's output and the discriminator's input, as the
paper prescribes; ``dcgan_init_`` applies its N(0, 0.02) initialization, and ``DCGAN_BETAS``
are its Adam betas (with lr ``DCGAN_LR``).

``norm=False`` drops the discriminator's BatchNorm (a critic for WGAN-GP, whose gradient
penalty is per example and so must not mix examples through batch statistics).

>>> import mytorch.core as mt
>>> g, d = DCGANGenerator(latent_dim=16, ngf=8), DCGANDiscriminator(ndf=8)
>>> _ = g.apply(dcgan_init_), d.apply(dcgan_init_)
>>> fake = g(mt.randn(3, 16))
>>> fake.shape, d(fake).shape
((3, 1, 28, 28), (3,))
"""

from __future__ import annotations

import mytorch.nn as nn
from mytorch.core import Tensor

__all__ = ["DCGAN_BETAS", "DCGAN_LR", "DCGANDiscriminator", "DCGANGenerator", "dcgan_init_"]

DCGAN_LR = 2e-4
DCGAN_BETAS = (0.5, 0.999)


class DCGANGenerator(nn.Module):
    def __init__(self, latent_dim: int = 64, ngf: int = 32, channels: int = 1) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.net = nn.Sequential(
            nn.ConvTranspose2d(latent_dim, ngf * 4, 7, 1, 0, bias=False),  # (B, 4ngf, 7, 7)
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),  # (B, 2ngf, 14, 14)
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(),
            nn.ConvTranspose2d(ngf * 2, channels, 4, 2, 1, bias=False),  # (B, C, 28, 28)
            nn.Tanh(),
        )

    def forward(self, z: Tensor) -> Tensor:
        """z (B, latent_dim) or (B, latent_dim, 1, 1) -> images (B, C, 28, 28) in [-1, 1]."""
        if z.ndim == 2:
            z = z.reshape(z.shape[0], z.shape[1], 1, 1)
        if z.ndim != 4 or tuple(z.shape[1:]) != (self.latent_dim, 1, 1):
            raise ValueError(
                f"DCGANGenerator: expected z (B, {self.latent_dim}), got {tuple(z.shape)}"
            )
        return self.net(z)


class DCGANDiscriminator(nn.Module):
    def __init__(self, ndf: int = 32, channels: int = 1, norm: bool = True) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(channels, ndf, 4, 2, 1, bias=False),  # (B, ndf, 14, 14)
            nn.LeakyReLU(0.2),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=not norm),  # (B, 2ndf, 7, 7)
            nn.BatchNorm2d(ndf * 2) if norm else nn.Identity(),
            nn.LeakyReLU(0.2),
            nn.Conv2d(ndf * 2, 1, 7, 1, 0, bias=False),  # (B, 1, 1, 1)
        )

    def forward(self, x: Tensor) -> Tensor:
        """images (B, C, 28, 28) -> logits (B,)."""
        if x.ndim != 4 or tuple(x.shape[2:]) != (28, 28):
            raise ValueError(f"DCGANDiscriminator: expected (B, C, 28, 28), got {tuple(x.shape)}")
        return self.net(x).reshape(x.shape[0])


def dcgan_init_(module: nn.Module) -> None:
    """The DCGAN paper's init, for ``model.apply``: conv weights N(0, 0.02), BatchNorm weights
    N(1, 0.02) and biases 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
