"""Advantage Actor-Critic (synchronous A2C, Mnih et al., 2016): n-step returns from vectorized
environments, one gradient step per rollout, an entropy bonus."""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np

import mytorch.core as mt
from mytorch.rl.onpolicy import LossCheck, OnPolicyAlgorithm, OnPolicyConfig


def a2c_loss(
    log_prob: mt.Tensor,
    entropy: mt.Tensor,
    values: mt.Tensor,
    advantages: mt.Tensor,
    returns: mt.Tensor,
    ent_coef: float,
    vf_coef: float,
) -> tuple[mt.Tensor, mt.Tensor, mt.Tensor]:
    """(total, policy, value) losses: ``-mean(A log pi) - ent_coef * mean(H) + vf_coef * mse``."""
    policy_loss = -(advantages * log_prob).mean()
    value_loss = (returns - values).pow(2).mean()
    return policy_loss - ent_coef * entropy.mean() + vf_coef * value_loss, policy_loss, value_loss


@dataclass
class A2CConfig(OnPolicyConfig):
    num_steps: int = 5  # n of the n-step returns
    learning_rate: float = 7e-4
    anneal_lr: bool = False
    gae_lambda: float = 1.0  # 1 = plain n-step returns
    ent_coef: float = 0.0
    rms_prop_eps: float = 1e-5
    norm_adv: bool = False


class A2C(OnPolicyAlgorithm):
    """A2C with RMSprop (alpha 0.99), as in the original and in Stable-Baselines3.

    >>> from mytorch.rl import make_vec_env
    >>> a2c = A2C(make_vec_env("CartPole-v1", num_envs=2), total_timesteps=40).learn()
    >>> a2c.global_step
    40
    """

    config: A2CConfig

    def __init__(
        self,
        envs: gym.vector.VectorEnv,
        config: A2CConfig | None = None,
        total_timesteps: int = 500_000,
        seed: int = 0,
        *,
        loss_check: LossCheck | None = None,
    ) -> None:
        super().__init__(envs, config or A2CConfig(), total_timesteps, seed, loss_check=loss_check)

    def make_optimizer(self) -> mt.optim.Optimizer:
        return mt.optim.RMSprop(
            self.agent.parameters(),
            lr=self.config.learning_rate,
            alpha=0.99,
            eps=self.config.rms_prop_eps,
        )

    def update(self) -> dict[str, float]:
        cfg = self.config
        data = self.buffer.data()
        adv = data["advantages"]
        if cfg.norm_adv and adv.size > 1:
            adv = ((adv - adv.mean()) / (adv.std(ddof=1) + 1e-8)).astype(np.float32)
        obs = mt.from_numpy(data["obs"])
        dist = self.agent.distribution(obs)
        log_prob = dist.log_prob(mt.from_numpy(data["actions"]))
        loss, pg_loss, v_loss = a2c_loss(
            log_prob,
            dist.entropy(),
            self.agent.get_value(obs),
            mt.from_numpy(adv),
            mt.from_numpy(data["returns"]),
            cfg.ent_coef,
            cfg.vf_coef,
        )
        if self.loss_check is not None:
            where = f"iteration {self.iteration + 1}, env step {self.global_step}"
            self.loss_check(loss.item(), where)
        self.optimizer.zero_grad()
        loss.backward()
        mt.optim.clip_grad_norm_(list(self.agent.parameters()), cfg.max_grad_norm)
        self.optimizer.step()
        return {"pg": pg_loss.item(), "v": v_loss.item()}
