"""Variational autoencoders (Kingma & Welling, 2014): VAE, conditional VAE and beta-VAE.

The encoder maps an image to the mean and log-variance of a diagonal Gaussian q(z|x); a
sample ``z = mu + sigma * eps`` (the reparameterization) goes through the decoder, which gives
the parameters of p(x|z): Bernoulli logits per pixel, or a Gaussian mean and log-variance per
pixel. The loss is the negative ELBO in nats per example,
``-E_q[log p(x|z)] + beta * KL(q(z|x) || N(0, I))`` with the KL term in closed form; with
``beta = 1`` (the default) it is the plain VAE bound. ``log_likelihood(x, k)`` is the
importance-weighted bound of Burda et al. (2016), tighter than the ELBO as k grows.

Layer names follow PyTorch's reference VAE (``fc1``, ``fc21``, ``fc22``, ``fc3``, ``fc4``), so
the 784-400-20 model here and that one share a state_dict layout.

>>> import mytorch.core as mt
>>> vae = VAE(in_features=784, hidden_dim=400, latent_dim=20)
>>> out = vae.loss(mt.rand(8, 784))
>>> out.loss.shape, out.recon.shape, out.kl.shape
((), (8,), (8,))
"""

from __future__ import annotations

import math
from typing import NamedTuple

import mytorch.core as mt
import mytorch.core.functional as F
import mytorch.nn as nn
from mytorch.core import Tensor

__all__ = [
    "VAE",
    "ConditionalVAE",
    "VAELoss",
    "bernoulli_log_likelihood",
    "gaussian_kl",
    "gaussian_log_density",
    "gaussian_log_likelihood",
    "reparameterize",
]

LOG_2PI = math.log(2 * math.pi)


def reparameterize(mu: Tensor, logvar: Tensor, generator: mt.Generator | None = None) -> Tensor:
    """A sample of N(mu, exp(logvar)) written as ``mu + exp(logvar / 2) * eps``, eps ~ N(0, I),
    so gradients flow to ``mu`` and ``logvar``."""
    eps = mt.randn_like(mu, generator=generator)
    return mu + (0.5 * logvar).exp() * eps


def gaussian_kl(mu: Tensor, logvar: Tensor) -> Tensor:
    """KL(N(mu, diag(exp(logvar))) || N(0, I)) in nats, summed over the last dim: (B, L) -> (B,)."""
    return -0.5 * (1.0 + logvar - mu * mu - logvar.exp()).sum(dim=-1)


def gaussian_log_density(z: Tensor, mu: Tensor, logvar: Tensor) -> Tensor:
    """log N(z; mu, diag(exp(logvar))), summed over the last dim."""
    return -0.5 * (LOG_2PI + logvar + (z - mu) ** 2 * (-logvar).exp()).sum(dim=-1)


def bernoulli_log_likelihood(logits: Tensor, x: Tensor) -> Tensor:
    """log p(x | logits) of independent Bernoullis, summed over the last dim: (..., D) -> (...).

    ``x`` may be grey levels in [0, 1] (the usual continuous relaxation on MNIST): the value is
    then minus the binary cross-entropy, as in PyTorch's reference VAE.
    """
    # log sigmoid(l) * x + log sigmoid(-l) * (1 - x) = x * l - softplus(l)
    return (x * logits - F.softplus(logits)).sum(dim=-1)


def gaussian_log_likelihood(mean: Tensor, logvar: Tensor, x: Tensor) -> Tensor:
    """log N(x; mean, diag(exp(logvar))) summed over the last dim: (..., D) -> (...)."""
    return gaussian_log_density(x, mean, logvar)


class VAELoss(NamedTuple):
    """``loss``: the training objective (scalar, mean over the batch, with beta);
    ``recon``: -log p(x|z) per example (B,); ``kl``: KL(q(z|x) || p(z)) per example (B,);
    ``nelbo``: recon + kl per example (B,), the negative ELBO in nats (beta not applied)."""

    loss: Tensor
    recon: Tensor
    kl: Tensor
    nelbo: Tensor


class VAE(nn.Module):
    """An MLP VAE: ``in_features -> hidden_dim -> (mu, logvar) in latent_dim`` and back.

    Args:
        in_features: size of a flattened example (784 for MNIST); inputs of any shape
            (B, ...) are flattened to (B, in_features).
        hidden_dim: width of the one hidden layer of the encoder and of the decoder.
        latent_dim: dimension of z.
        decoder: ``"bernoulli"`` (logits per pixel; data in [0, 1]) or ``"gaussian"`` (mean and
            log-variance per pixel).
        beta: weight of the KL term in ``loss`` (beta-VAE, Higgins et al. 2017); 1 = the ELBO.
        num_classes: 0 for an unconditional VAE; otherwise a one-hot label is concatenated to
            the encoder's and the decoder's input (see ``ConditionalVAE``).
    """

    def __init__(
        self,
        in_features: int = 784,
        hidden_dim: int = 400,
        latent_dim: int = 20,
        decoder: str = "bernoulli",
        beta: float = 1.0,
        num_classes: int = 0,
    ) -> None:
        super().__init__()
        if decoder not in ("bernoulli", "gaussian"):
            raise ValueError(f"VAE: decoder must be 'bernoulli' or 'gaussian', got {decoder!r}")
        if beta < 0:
            raise ValueError(f"VAE: beta must be >= 0, got {beta}")
        for name, value in (("in_features", in_features), ("hidden_dim", hidden_dim)):
            if value < 1:
                raise ValueError(f"VAE: {name} must be positive, got {value}")
        if latent_dim < 1:
            raise ValueError(f"VAE: latent_dim must be positive, got {latent_dim}")
        self.in_features = in_features
        self.latent_dim = latent_dim
        self.decoder = decoder
        self.beta = beta
        self.num_classes = num_classes
        out = in_features * (2 if decoder == "gaussian" else 1)
        self.fc1 = nn.Linear(in_features + num_classes, hidden_dim)
        self.fc21 = nn.Linear(hidden_dim, latent_dim)  # mu
        self.fc22 = nn.Linear(hidden_dim, latent_dim)  # log-variance
        self.fc3 = nn.Linear(latent_dim + num_classes, hidden_dim)
        self.fc4 = nn.Linear(hidden_dim, out)

    def _condition(self, h: Tensor, y: Tensor | None) -> Tensor:
        if self.num_classes == 0:
            if y is not None:
                raise ValueError("VAE: labels y given to an unconditional VAE (num_classes=0)")
            return h
        if y is None:
            raise ValueError(f"VAE: a conditional VAE (num_classes={self.num_classes}) needs y")
        if tuple(y.shape) != (h.shape[0],):
            raise ValueError(f"VAE: y must have shape ({h.shape[0]},), got {tuple(y.shape)}")
        onehot = F.one_hot(y, self.num_classes).to(h.dtype)  # (B, num_classes)
        return mt.cat([h, onehot], dim=1)

    def _flatten(self, x: Tensor) -> Tensor:
        x = x.reshape(x.shape[0], -1)  # (B, D)
        if x.shape[1] != self.in_features:
            raise ValueError(
                f"VAE: expected {self.in_features} features per example, got {x.shape[1]}"
            )
        return x

    def encode(self, x: Tensor, y: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """``(mu, logvar)`` of q(z|x), each (B, latent_dim)."""
        h = F.relu(self.fc1(self._condition(self._flatten(x), y)))  # (B, H)
        return self.fc21(h), self.fc22(h)

    def decode(self, z: Tensor, y: Tensor | None = None) -> Tensor | tuple[Tensor, Tensor]:
        """p(x|z): logits (B, D) for a Bernoulli decoder, ``(mean, logvar)`` for a Gaussian one."""
        h = F.relu(self.fc3(self._condition(z, y)))  # (B, H)
        out = self.fc4(h)
        if self.decoder == "bernoulli":
            return out
        mean, logvar = out.chunk(2, dim=-1)
        return mean, logvar

    def log_px(self, params, x: Tensor) -> Tensor:
        """log p(x|z) per example for decoder output ``params`` (as from ``decode``)."""
        if self.decoder == "bernoulli":
            return bernoulli_log_likelihood(params, x)
        return gaussian_log_likelihood(params[0], params[1], x)

    def mean_image(self, params) -> Tensor:
        """The decoder's mean E[x|z]: sigmoid(logits), or the Gaussian mean."""
        return F.sigmoid(params) if self.decoder == "bernoulli" else params[0]

    def forward(self, x: Tensor, y: Tensor | None = None):
        """``(decoder params, mu, logvar)`` for one reparameterized sample per example."""
        mu, logvar = self.encode(x, y)
        z = reparameterize(mu, logvar)
        return self.decode(z, y), mu, logvar

    def loss(self, x: Tensor, y: Tensor | None = None) -> VAELoss:
        """Negative ELBO (nats per example) with one sample of z; see ``VAELoss``."""
        x = self._flatten(x)
        params, mu, logvar = self(x, y)
        recon = -self.log_px(params, x)  # (B,)
        kl = gaussian_kl(mu, logvar)  # (B,)
        loss = (recon + self.beta * kl).mean()
        return VAELoss(loss, recon, kl, recon + kl)

    def log_likelihood(self, x: Tensor, y: Tensor | None = None, k: int = 50) -> Tensor:
        """The importance-weighted bound (IWAE, Burda et al. 2016) on log p(x) per example (B,):
        ``log (1/k) sum_i p(x, z_i) / q(z_i|x)`` with z_i ~ q(z|x). k = 1 is the ELBO; the bound
        rises towards log p(x) as k grows."""
        if k < 1:
            raise ValueError(f"VAE.log_likelihood: k must be >= 1, got {k}")
        x = self._flatten(x)  # (B, D)
        mu, logvar = self.encode(x, y)  # (B, L)
        b = x.shape[0]
        mu_k = mu.unsqueeze(0).expand(k, *mu.shape)  # (k, B, L)
        logvar_k = logvar.unsqueeze(0).expand(k, *logvar.shape)
        z = reparameterize(mu_k, logvar_k)  # (k, B, L)
        yk = None if y is None else y.unsqueeze(0).expand(k, b).reshape(k * b)
        params = self.decode(z.reshape(k * b, self.latent_dim), yk)
        xk = x.unsqueeze(0).expand(k, *x.shape).reshape(k * b, -1)
        log_px = self.log_px(params, xk).reshape(k, b)  # (k, B)
        log_pz = gaussian_log_density(z, mt.zeros_like(z), mt.zeros_like(z))  # (k, B)
        log_qz = gaussian_log_density(z, mu_k, logvar_k)  # (k, B)
        log_w = log_px + log_pz - log_qz  # (k, B)
        return log_w.logsumexp(dim=0) - math.log(k)

    @mt.no_grad()
    def sample(self, n: int, y: Tensor | None = None, generator=None) -> Tensor:
        """``n`` samples of the decoder's mean E[x|z] with z ~ N(0, I): (n, in_features)."""
        z = mt.randn(n, self.latent_dim, generator=generator)
        return self.mean_image(self.decode(z, y))


class ConditionalVAE(VAE):
    """A VAE conditioned on a class label (Sohn et al., 2015): the one-hot label is concatenated
    to the encoder's input and to z. ``sample(n, y)`` draws digits of the given classes.

    >>> import mytorch.core as mt
    >>> cvae = ConditionalVAE(num_classes=10, latent_dim=2)
    >>> cvae.sample(3, y=mt.tensor([0, 1, 2])).shape
    (3, 784)
    """

    def __init__(
        self,
        in_features: int = 784,
        hidden_dim: int = 400,
        latent_dim: int = 20,
        num_classes: int = 10,
        decoder: str = "bernoulli",
        beta: float = 1.0,
    ) -> None:
        if num_classes < 1:
            raise ValueError(f"ConditionalVAE: num_classes must be >= 1, got {num_classes}")
        super().__init__(in_features, hidden_dim, latent_dim, decoder, beta, num_classes)
