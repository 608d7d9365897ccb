"""Denoising diffusion (Ho et al., 2020) with DDIM sampling (Song et al., 2021).

``NoiseSchedule`` holds the betas and every quantity derived from them (float64 NumPy arrays
of length T): ``alphas = 1 - betas``, ``alphas_cumprod`` (alpha-bar_t = prod_{s<=t} alpha_s),
the posterior q(x_{t-1} | x_t, x_0)'s variance ``beta_t (1 - abar_{t-1}) / (1 - abar_t)`` and
mean coefficients. ``linear_schedule`` is DDPM's (1e-4 to 0.02 scaled to T steps),
``cosine_schedule`` that of Nichol & Dhariwal (2021).

``DDPM`` wraps an epsilon-prediction network ``model(x_t, t)``: ``q_sample`` noises
``x_0`` in one step, ``loss`` is the simple objective ``||eps - eps_theta(x_t, t)||^2`` with t
uniform, ``sample`` is ancestral sampling over all T steps, and ``ddim_sample`` the
deterministic (eta = 0) or stochastic DDIM sampler over a subsequence of the steps. Data are
images scaled to [-1, 1]; time indices run 0 .. T-1 (index t is the paper's t + 1).

>>> import mytorch.core as mt
>>> from mytorch.gen.unet import TimeUNet
>>> ddpm = DDPM(TimeUNet(base_channels=8, channel_mults=(1, 2)), cosine_schedule(100))
>>> ddpm.loss(mt.rand(2, 1, 28, 28) * 2 - 1).shape
()
>>> ddpm.ddim_sample(2, (1, 28, 28), steps=5).shape
(2, 1, 28, 28)
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

import mytorch.core as mt
import mytorch.core.functional as F
import mytorch.nn as nn
from mytorch.core import Tensor

__all__ = ["DDPM", "NoiseSchedule", "cosine_schedule", "linear_schedule"]


class NoiseSchedule:
    """A variance schedule ``betas`` (T,) in (0, 1) and the quantities derived from it."""

    def __init__(self, betas: np.ndarray) -> None:
        betas = np.asarray(betas, dtype=np.float64)
        if betas.ndim != 1 or len(betas) < 1:
            raise ValueError(f"NoiseSchedule: betas must be 1-D and non-empty, got {betas.shape}")
        if not np.all((betas > 0) & (betas < 1)):
            raise ValueError("NoiseSchedule: every beta must be in (0, 1)")
        self.betas = betas
        self.alphas = 1.0 - betas
        self.alphas_cumprod = np.cumprod(self.alphas)  # abar_t
        self.alphas_cumprod_prev = np.append(1.0, self.alphas_cumprod[:-1])  # abar_{t-1}
        # q(x_{t-1} | x_t, x_0) = N(coef1 * x_0 + coef2 * x_t, posterior_variance)
        self.posterior_variance = (
            betas * (1.0 - self.alphas_cumprod_prev) / (1.0 - self.alphas_cumprod)
        )
        self.posterior_mean_coef1 = (
            betas * np.sqrt(self.alphas_cumprod_prev) / (1.0 - self.alphas_cumprod)
        )
        self.posterior_mean_coef2 = (
            (1.0 - self.alphas_cumprod_prev) * np.sqrt(self.alphas) / (1.0 - self.alphas_cumprod)
        )

    @property
    def num_timesteps(self) -> int:
        return len(self.betas)

    def __len__(self) -> int:
        return len(self.betas)


def linear_schedule(
    timesteps: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02
) -> NoiseSchedule:
    """Betas evenly spaced from ``beta_start`` to ``beta_end`` (DDPM's values for T = 1000;
    for other T they are scaled by 1000 / T, so abar_T stays about the same)."""
    if timesteps < 1:
        raise ValueError(f"linear_schedule: timesteps must be >= 1, got {timesteps}")
    scale = 1000 / timesteps
    return NoiseSchedule(np.linspace(beta_start * scale, beta_end * scale, timesteps))


def cosine_schedule(timesteps: int = 1000, s: float = 0.008, max_beta: float = 0.999):
    """abar(t) = f(t) / f(0) with f(t) = cos(((t / T + s) / (1 + s)) * pi / 2) ** 2; betas
    ``1 - abar_t / abar_{t-1}`` clipped at ``max_beta``."""
    if timesteps < 1:
        raise ValueError(f"cosine_schedule: timesteps must be >= 1, got {timesteps}")
    steps = np.arange(timesteps + 1, dtype=np.float64) / timesteps
    f = np.cos((steps + s) / (1 + s) * math.pi / 2) ** 2
    abar = f / f[0]
    return NoiseSchedule(np.clip(1.0 - abar[1:] / abar[:-1], 1e-8, max_beta))


def _gather(values: np.ndarray, t: np.ndarray, ndim: int) -> Tensor:
    """values[t] as a float32 tensor shaped (B, 1, ..., 1) to broadcast over images."""
    out = values[t].astype(np.float32).reshape(len(t), *([1] * (ndim - 1)))
    return mt.from_numpy(out)


class DDPM(nn.Module):
    """Epsilon-prediction diffusion around ``model(x_t, t) -> eps``.

    Args:
        model: the noise predictor, e.g. ``TimeUNet``.
        schedule: a ``NoiseSchedule`` (``linear_schedule(T)`` or ``cosine_schedule(T)``).
        clip_denoised: clamp the predicted x_0 to [-1, 1] while sampling.
    """

    def __init__(
        self,
        model: Callable[[Tensor, Tensor], Tensor],
        schedule: NoiseSchedule,
        clip_denoised: bool = True,
    ) -> None:
        super().__init__()
        self.model = model
        self.schedule = schedule
        self.clip_denoised = clip_denoised

    @property
    def num_timesteps(self) -> int:
        return self.schedule.num_timesteps

    def _check_t(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=np.int64)
        if t.size and (t.min() < 0 or t.max() >= self.num_timesteps):
            raise ValueError(f"DDPM: timesteps must be in [0, {self.num_timesteps}), got {t}")
        return t

    def q_sample(self, x0: Tensor, t, noise: Tensor | None = None) -> Tensor:
        """x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps, for per-example indices ``t`` (B,)."""
        t = self._check_t(t.numpy() if isinstance(t, Tensor) else t)
        if noise is None:
            noise = mt.randn_like(x0)
        abar = self.schedule.alphas_cumprod
        return (
            _gather(np.sqrt(abar), t, x0.ndim) * x0 + _gather(np.sqrt(1 - abar), t, x0.ndim) * noise
        )

    def loss(self, x0: Tensor, generator: mt.Generator | None = None) -> Tensor:
        """The simple loss: mean squared error between eps and eps_theta(x_t, t), t uniform."""
        b = x0.shape[0]
        t = mt.randint(0, self.num_timesteps, (b,), generator=generator)  # (B,)
        noise = mt.randn_like(x0, generator=generator)
        x_t = self.q_sample(x0, t.numpy(), noise)
        return F.mse_loss(self.model(x_t, t), noise)

    def predict_x0(self, x_t: Tensor, t: np.ndarray, eps: Tensor) -> Tensor:
        """x_0 implied by x_t and a noise prediction: (x_t - sqrt(1 - abar) eps) / sqrt(abar)."""
        abar = self.schedule.alphas_cumprod
        x0 = (x_t - _gather(np.sqrt(1 - abar), t, x_t.ndim) * eps) * _gather(
            1 / np.sqrt(abar), t, x_t.ndim
        )
        return x0.clamp(-1.0, 1.0) if self.clip_denoised else x0

    def _eps(self, x: Tensor, i: int) -> tuple[Tensor, np.ndarray]:
        t = np.full(x.shape[0], i, dtype=np.int64)
        return self.model(x, mt.from_numpy(t)), t

    @mt.no_grad()
    def sample(
        self,
        n: int,
        shape: tuple[int, ...],
        generator: mt.Generator | None = None,
        trajectory_every: int = 0,
        progress: Callable | None = None,
    ):
        """Ancestral sampling over all T steps: n images (n, *shape) from x_T ~ N(0, I).

        With ``trajectory_every = k > 0`` returns ``(images, [x_t every k steps, x_0])``.
        ``progress`` (e.g. ``tqdm``) wraps the step iterator.
        """
        s = self.schedule
        x = mt.randn(n, *shape, generator=generator)
        trajectory = [x]
        steps = range(self.num_timesteps - 1, -1, -1)
        for i in progress(steps) if progress else steps:
            eps, t = self._eps(x, i)
            x0 = self.predict_x0(x, t, eps)
            mean = (
                _gather(s.posterior_mean_coef1, t, x.ndim) * x0
                + _gather(s.posterior_mean_coef2, t, x.ndim) * x
            )
            if i > 0:
                sigma = math.sqrt(s.posterior_variance[i])
                x = mean + sigma * mt.randn_like(x, generator=generator)
            else:
                x = mean
            if trajectory_every and (i % trajectory_every == 0):
                trajectory.append(x)
        return (x, trajectory) if trajectory_every else x

    @mt.no_grad()
    def ddim_sample(
        self,
        n: int,
        shape: tuple[int, ...],
        steps: int = 50,
        eta: float = 0.0,
        generator: mt.Generator | None = None,
        progress: Callable | None = None,
    ) -> Tensor:
        """DDIM sampling over ``steps`` evenly spaced timesteps (eta = 0: deterministic;
        eta = 1: DDPM-like noise)."""
        if not 1 <= steps <= self.num_timesteps:
            raise ValueError(
                f"ddim_sample: steps must be in [1, {self.num_timesteps}], got {steps}"
            )
        abar = self.schedule.alphas_cumprod
        times = np.unique(np.linspace(0, self.num_timesteps - 1, steps).round().astype(np.int64))
        times = times[::-1]
        x = mt.randn(n, *shape, generator=generator)
        pairs = list(zip(times, list(times[1:]) + [-1]))
        for i, prev in progress(pairs) if progress else pairs:
            eps, t = self._eps(x, int(i))
            x0 = self.predict_x0(x, t, eps)
            if self.clip_denoised:  # the eps consistent with the clipped x_0
                eps = (x - math.sqrt(abar[i]) * x0) / math.sqrt(1 - abar[i])
            a_prev = abar[prev] if prev >= 0 else 1.0
            sigma = eta * math.sqrt((1 - a_prev) / (1 - abar[i]) * (1 - abar[i] / a_prev))
            x = math.sqrt(a_prev) * x0 + math.sqrt(max(1 - a_prev - sigma**2, 0.0)) * eps
            if sigma > 0 and prev >= 0:
                x = x + sigma * mt.randn_like(x, generator=generator)
        return x
