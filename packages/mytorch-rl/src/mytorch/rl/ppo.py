"""Proximal Policy Optimization (Schulman et al., 2017) with the clipped surrogate objective."""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np

import mytorch.core as mt
from mytorch.rl.onpolicy import LossCheck, OnPolicyAlgorithm, OnPolicyConfig


def ppo_policy_loss(
    new_log_prob: mt.Tensor, old_log_prob: mt.Tensor, advantages: mt.Tensor, clip_coef: float
) -> tuple[mt.Tensor, float, float]:
    """Clipped surrogate loss ``mean(max(-A r, -A clip(r, 1-c, 1+c)))`` with
    ``r = exp(new_log_prob - old_log_prob)``; also the approximate KL ``mean((r - 1) - log r)``
    and the fraction of samples whose ratio was clipped."""
    log_ratio = new_log_prob - old_log_prob
    ratio = log_ratio.exp()
    loss1 = -advantages * ratio
    loss2 = -advantages * ratio.clamp(1 - clip_coef, 1 + clip_coef)
    loss = mt.maximum(loss1, loss2).mean()
    r, lr = ratio.detach().numpy(), log_ratio.detach().numpy()
    approx_kl = float(((r - 1) - lr).mean())
    clip_fraction = float((np.abs(r - 1) > clip_coef).mean())
    return loss, approx_kl, clip_fraction


def ppo_value_loss(
    new_values: mt.Tensor,
    old_values: mt.Tensor,
    returns: mt.Tensor,
    clip_coef: float | None = None,
) -> mt.Tensor:
    """``0.5 * mean((V - R)^2)``; with ``clip_coef``, the larger of that and the error of
    ``old_V + clip(V - old_V, -c, c)``, so one update cannot move the value far."""
    unclipped = (new_values - returns).pow(2)
    if clip_coef is None:
        return 0.5 * unclipped.mean()
    clipped = old_values + (new_values - old_values).clamp(-clip_coef, clip_coef)
    return 0.5 * mt.maximum(unclipped, (clipped - returns).pow(2)).mean()


def normalize_advantages(advantages: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    """``(A - mean) / (std + eps)`` with the unbiased std, as ``torch.Tensor.std`` computes it."""
    if advantages.size < 2:
        return advantages - advantages.mean()
    return ((advantages - advantages.mean()) / (advantages.std(ddof=1) + eps)).astype(np.float32)


@dataclass
class PPOConfig(OnPolicyConfig):
    num_minibatches: int = 4
    update_epochs: int = 4
    norm_adv: bool = True
    clip_coef: float = 0.2
    clip_vloss: bool = True  # clip the value update around the rollout's values
    target_kl: float | None = None  # stop an update's epochs early past this approximate KL


class PPO(OnPolicyAlgorithm):
    """PPO: GAE(lambda) advantages, clipped objective, optional value clipping, minibatch
    epochs, advantage normalization, gradient-norm clipping and learning-rate annealing.

    >>> from mytorch.rl import make_vec_env
    >>> envs = make_vec_env("CartPole-v1", num_envs=2)
    >>> ppo = PPO(envs, PPOConfig(num_steps=16), total_timesteps=64, seed=0).learn()
    >>> ppo.global_step
    64
    """

    config: PPOConfig

    def __init__(
        self,
        envs: gym.vector.VectorEnv,
        config: PPOConfig | None = None,
        total_timesteps: int = 100_000,
        seed: int = 0,
        *,
        loss_check: LossCheck | None = None,
    ) -> None:
        super().__init__(envs, config or PPOConfig(), total_timesteps, seed, loss_check=loss_check)

    def update(self) -> dict[str, float]:
        cfg = self.config
        minibatch = max(self.batch_size // cfg.num_minibatches, 1)
        params = list(self.agent.parameters())
        stats: dict[str, list[float]] = {k: [] for k in ("pg", "v", "ent", "kl", "clipfrac")}
        for epoch in range(cfg.update_epochs):
            for i, mb in enumerate(self.buffer.minibatches(minibatch, self.rng)):
                adv = normalize_advantages(mb["advantages"]) if cfg.norm_adv else mb["advantages"]
                obs = mt.from_numpy(mb["obs"])
                dist = self.agent.distribution(obs)
                new_log_prob = dist.log_prob(mt.from_numpy(mb["actions"]))
                entropy = dist.entropy().mean()
                new_values = self.agent.get_value(obs)
                pg_loss, kl, clipfrac = ppo_policy_loss(
                    new_log_prob,
                    mt.from_numpy(mb["log_probs"]),
                    mt.from_numpy(adv),
                    cfg.clip_coef,
                )
                v_loss = ppo_value_loss(
                    new_values,
                    mt.from_numpy(mb["values"]),
                    mt.from_numpy(mb["returns"]),
                    cfg.clip_coef if cfg.clip_vloss else None,
                )
                loss = pg_loss - cfg.ent_coef * entropy + cfg.vf_coef * v_loss
                if self.loss_check is not None:
                    where = f"iteration {self.iteration + 1}, epoch {epoch + 1}, minibatch {i + 1}"
                    self.loss_check(loss.item(), f"{where}, env step {self.global_step}")
                self.optimizer.zero_grad()
                loss.backward()
                mt.optim.clip_grad_norm_(params, cfg.max_grad_norm)
                self.optimizer.step()
                for key, value in zip(
                    stats, (pg_loss.item(), v_loss.item(), entropy.item(), kl, clipfrac)
                ):
                    stats[key].append(value)
            if cfg.target_kl is not None and stats["kl"][-1] > cfg.target_kl:
                break
        return {k: float(np.mean(v)) for k, v in stats.items()}
