"""Autoencoders: an MLP and a convolutional one, and a denoising wrapper.

Both autoencoders map images in [0, 1] to a ``latent_dim`` code and back to per-pixel logits;
``forward`` returns the reconstruction ``sigmoid(logits)`` and ``loss(x, target)`` the binary
cross-entropy in nats per example (summed over pixels, averaged over the batch).
``DenoisingAutoencoder`` trains one of them to undo a corruption (see ``corruption``).

>>> import mytorch.core as mt
>>> from mytorch.gen.corruption import MaskingNoise
>>> dae = DenoisingAutoencoder(ConvAutoencoder(latent_dim=16), MaskingNoise(0.3))
>>> x = mt.rand(2, 1, 28, 28)
>>> dae(x).shape, dae.loss(x).shape
((2, 1, 28, 28), ())
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import mytorch.core as mt
import mytorch.core.functional as F
import mytorch.nn as nn
from mytorch.core import Tensor

__all__ = ["ConvAutoencoder", "DenoisingAutoencoder", "MLPAutoencoder", "reconstruction_loss"]


def reconstruction_loss(logits: Tensor, target: Tensor) -> Tensor:
    """Binary cross-entropy of ``logits`` against ``target`` in [0, 1], summed over all but the
    batch dim and averaged over the batch (nats per example)."""
    if logits.shape != target.shape:
        raise ValueError(
            f"reconstruction_loss: logits {tuple(logits.shape)} and target "
            f"{tuple(target.shape)} must have the same shape"
        )
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="sum")
    return bce / target.shape[0]


class _Autoencoder(nn.Module):
    def encode(self, x: Tensor) -> Tensor:
        return self.encoder(x)

    def decode_logits(self, z: Tensor) -> Tensor:
        return self.decoder(z)

    def forward(self, x: Tensor) -> Tensor:
        """The reconstruction in [0, 1], shaped like ``x``."""
        return F.sigmoid(self.decode_logits(self.encode(x))).reshape(x.shape)

    def loss(self, x: Tensor, target: Tensor | None = None) -> Tensor:
        """Reconstruction BCE (nats per example) of ``target`` (default ``x``) from ``x``."""
        target = x if target is None else target
        logits = self.decode_logits(self.encode(x)).reshape(target.shape)
        return reconstruction_loss(logits, target)


class MLPAutoencoder(_Autoencoder):
    """``in_features -> hidden... -> latent_dim -> ...hidden -> in_features``, ReLU between.

    Inputs (B, ...) are flattened; ``forward`` returns the input's shape.
    """

    def __init__(
        self, in_features: int = 784, hidden: Sequence[int] = (256,), latent_dim: int = 32
    ) -> None:
        super().__init__()
        if latent_dim < 1 or in_features < 1:
            raise ValueError(
                f"MLPAutoencoder: in_features and latent_dim must be positive, got "
                f"{in_features} and {latent_dim}"
            )
        sizes = [in_features, *hidden, latent_dim]
        enc: list[nn.Module] = [nn.Flatten()]
        for a, b in zip(sizes[:-1], sizes[1:]):
            enc += [nn.Linear(a, b), nn.ReLU()]
        self.encoder = nn.Sequential(*enc[:-1])  # a linear code
        dec: list[nn.Module] = []
        back = sizes[::-1]
        for a, b in zip(back[:-1], back[1:]):
            dec += [nn.Linear(a, b), nn.ReLU()]
        self.decoder = nn.Sequential(*dec[:-1])  # logits
        self.in_features = in_features
        self.latent_dim = latent_dim


class ConvAutoencoder(_Autoencoder):
    """A conv autoencoder for (B, 1, 28, 28) images: two stride-2 3x3 convolutions
    (28 -> 14 -> 7), a linear code, and two stride-2 transposed convolutions back."""

    def __init__(self, channels: tuple[int, int] = (32, 64), latent_dim: int = 32) -> None:
        super().__init__()
        c1, c2 = channels
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c1, 3, stride=2, padding=1),  # (B, c1, 14, 14)
            nn.ReLU(),
            nn.Conv2d(c1, c2, 3, stride=2, padding=1),  # (B, c2, 7, 7)
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(c2 * 49, latent_dim),  # (B, latent_dim)
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, c2 * 49),
            nn.ReLU(),
            nn.Unflatten(1, (c2, 7, 7)),  # (B, c2, 7, 7)
            nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1),  # (B, c1, 14, 14)
            nn.ReLU(),
            nn.ConvTranspose2d(c1, 1, 4, stride=2, padding=1),  # (B, 1, 28, 28) logits
        )
        self.latent_dim = latent_dim

    def encode(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or tuple(x.shape[1:]) != (1, 28, 28):
            raise ValueError(f"ConvAutoencoder: expected (B, 1, 28, 28), got {tuple(x.shape)}")
        return self.encoder(x)


class DenoisingAutoencoder(nn.Module):
    """Train ``autoencoder`` to reconstruct clean ``x`` from ``corruption(x)``.

    ``loss(x)`` corrupts ``x`` and scores the reconstruction against the clean ``x``;
    ``forward(x)`` denoises an (already corrupted) batch.
    """

    def __init__(self, autoencoder: _Autoencoder, corruption: Callable) -> None:
        super().__init__()
        self.autoencoder = autoencoder
        self.corruption = corruption

    def corrupt(self, x: Tensor, generator: mt.Generator | None = None) -> Tensor:
        return self.corruption(x, generator=generator)

    def forward(self, x: Tensor) -> Tensor:
        return self.autoencoder(x)

    def loss(self, x: Tensor, generator: mt.Generator | None = None) -> Tensor:
        """BCE (nats per example) of the clean ``x`` reconstructed from its corruption."""
        return self.autoencoder.loss(self.corrupt(x, generator), target=x)
