"""REINFORCE (Williams, 1992): Monte Carlo policy gradient on whole episodes, with a learned
state-value baseline as an option."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import gymnasium as gym
import numpy as np

import mytorch.core as mt
from mytorch.rl.envs import seed_env, seed_everything
from mytorch.rl.networks import ActorCritic, space_dims
from mytorch.rl.onpolicy import LossCheck
from mytorch.rl.returns import discounted_returns


@dataclass
class ReinforceConfig:
    learning_rate: float = 1e-3
    anneal_lr: bool = True  # learning rate falls linearly to 0 over total_timesteps
    gamma: float = 0.99
    episodes_per_update: int = 4  # episodes of experience per gradient step
    baseline: bool = True  # learn V(s) and use G - V(s) as the advantage
    normalize_advantages: bool = True  # standardize the batch's advantages
    vf_coef: float = 0.5
    ent_coef: float = 0.0
    max_grad_norm: float | None = 0.5
    hidden: tuple[int, ...] = (64, 64)
    activation: str = "tanh"


def reinforce_loss(
    log_prob: mt.Tensor, advantages: mt.Tensor, values: mt.Tensor | None, returns: mt.Tensor
) -> tuple[mt.Tensor, mt.Tensor]:
    """(policy loss ``-mean(A log pi)``, baseline loss ``mean((G - V)^2)`` or 0 without one)."""
    policy_loss = -(advantages * log_prob).mean()
    value_loss = (returns - values).pow(2).mean() if values is not None else mt.zeros(())
    return policy_loss, value_loss


class Reinforce:
    """REINFORCE on one environment: play whole episodes with the sampling policy, then step
    on ``-sum_t (G_t - b(s_t)) log pi(a_t | s_t)``. A truncated episode's last return
    bootstraps from the baseline's value of its final observation when there is a baseline.
    ``loss_check``, if given, sees every update's loss before the step is taken (see
    ``LossCheck``).

    >>> env = gym.make("CartPole-v1")
    >>> agent = Reinforce(env, ReinforceConfig(episodes_per_update=2), total_timesteps=50).learn()
    >>> agent.global_step >= 50
    True
    """

    def __init__(
        self,
        env: gym.Env,
        config: ReinforceConfig | None = None,
        total_timesteps: int = 300_000,
        seed: int = 0,
        *,
        loss_check: LossCheck | None = None,
    ) -> None:
        self.env, self.config, self.seed = env, config or ReinforceConfig(), seed
        self.loss_check = loss_check
        cfg = self.config
        self.total_timesteps = int(total_timesteps)
        self.rng = seed_everything(seed)
        obs_shape = space_dims(env.observation_space)
        self.agent = ActorCritic(
            int(np.prod(obs_shape)), env.action_space, cfg.hidden, cfg.activation
        )
        params = self.agent.parameters() if cfg.baseline else self._actor_parameters()
        self.optimizer = mt.optim.Adam(params, lr=cfg.learning_rate)
        self.continuous = isinstance(env.action_space, gym.spaces.Box)
        self.obs = seed_env(env, seed)
        self.global_step = 0
        self.updates = 0
        self.history: dict[str, list] = {"step": [], "return": [], "length": []}

    def _actor_parameters(self) -> list:
        return list(self.agent.actor_body.parameters()) + list(self.agent.actor_head.parameters())

    def env_action(self, action: np.ndarray):
        if self.continuous:
            return np.clip(action, self.env.action_space.low, self.env.action_space.high)
        return int(action)

    @mt.no_grad()
    def predict(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
        x = mt.from_numpy(np.asarray(obs, dtype=np.float32))
        return self.agent.act(x, deterministic).numpy()

    @mt.no_grad()
    def play_episode(self) -> dict[str, np.ndarray]:
        """One episode with the sampling policy: observations, actions, rewards and returns."""
        observations, actions, rewards = [], [], []
        obs, done, truncated = self.obs, False, False
        while not done:
            x = mt.from_numpy(np.asarray(obs, dtype=np.float32)[None])
            action = self.agent.distribution(x).sample().numpy()[0]
            next_obs, reward, terminated, truncated, _ = self.env.step(self.env_action(action))
            observations.append(obs)
            actions.append(action)
            rewards.append(reward)
            self.global_step += 1
            done = terminated or truncated
            obs = next_obs
        bootstrap = 0.0
        if truncated and not terminated and self.config.baseline:
            bootstrap = self.agent.get_value(
                mt.from_numpy(np.asarray(obs, np.float32)[None])
            ).item()
        self.obs, _ = self.env.reset()
        rewards_arr = np.asarray(rewards, dtype=np.float32)
        self.history["step"].append(self.global_step)
        self.history["return"].append(float(rewards_arr.sum()))
        self.history["length"].append(len(rewards))
        return {
            "obs": np.asarray(observations, dtype=np.float32),
            "actions": np.asarray(actions),
            "returns": discounted_returns(rewards_arr, self.config.gamma, bootstrap),
        }

    def update(self, episodes: list[dict[str, np.ndarray]]) -> dict[str, float]:
        """One gradient step on a batch of whole episodes."""
        cfg = self.config
        obs = mt.from_numpy(np.concatenate([e["obs"] for e in episodes]))
        actions = mt.from_numpy(np.concatenate([e["actions"] for e in episodes]))
        returns_np = np.concatenate([e["returns"] for e in episodes])
        dist = self.agent.distribution(obs)
        log_prob = dist.log_prob(actions)
        values = self.agent.get_value(obs) if cfg.baseline else None
        adv = returns_np - values.detach().numpy() if values is not None else returns_np.copy()
        if cfg.normalize_advantages and adv.size > 1:
            adv = (adv - adv.mean()) / (adv.std(ddof=1) + 1e-8)
        policy_loss, value_loss = reinforce_loss(
            log_prob, mt.from_numpy(adv.astype(np.float32)), values, mt.from_numpy(returns_np)
        )
        loss = policy_loss + cfg.vf_coef * value_loss - cfg.ent_coef * dist.entropy().mean()
        if self.loss_check is not None:
            where = f"update {self.updates + 1}, env step {self.global_step}"
            self.loss_check(loss.item(), where)
        self.optimizer.zero_grad()
        loss.backward()
        if cfg.max_grad_norm is not None:
            mt.optim.clip_grad_norm_(list(self.agent.parameters()), cfg.max_grad_norm)
        self.optimizer.step()
        self.updates += 1
        return {"pg": policy_loss.item(), "v": value_loss.item()}

    def train_iteration(self) -> tuple[list[float], dict[str, float]]:
        """``episodes_per_update`` episodes and one update; returns the episodes' returns."""
        if self.config.anneal_lr:
            frac = max(1.0 - self.global_step / self.total_timesteps, 0.0)
            for group in self.optimizer.param_groups:
                group["lr"] = frac * self.config.learning_rate
        episodes = [self.play_episode() for _ in range(self.config.episodes_per_update)]
        stats = self.update(episodes)
        return self.history["return"][-len(episodes) :], stats

    def learn(self, callback: Callable[[Reinforce, dict], None] | None = None) -> Reinforce:
        """Train until at least ``total_timesteps`` environment steps (whole episodes)."""
        while self.global_step < self.total_timesteps:
            _, stats = self.train_iteration()
            if callback is not None:
                callback(self, stats)
        return self

    def state_dict(self) -> dict:
        return {
            "agent": self.agent.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "global_step": self.global_step,
            "updates": self.updates,
            "history": self.history,
            "config": asdict(self.config),
            "rng": self.rng.bit_generator.state,
            "mt_rng": mt.get_rng_state(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.agent.load_state_dict(state["agent"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.global_step = int(state["global_step"])
        self.updates = int(state["updates"])
        self.history = {k: list(v) for k, v in state["history"].items()}
        self.rng.bit_generator.state = state["rng"]
        mt.set_rng_state(state["mt_rng"])
        self.obs = seed_env(self.env, self.seed + 1_000_003 * (self.updates + 1))
