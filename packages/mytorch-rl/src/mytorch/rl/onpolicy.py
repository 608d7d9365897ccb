"""What PPO and A2C share: an actor-critic, a rollout buffer filled from a vector env, optional
observation/reward normalization, acting, checkpoint state and the training loop."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import gymnasium as gym
import numpy as np

import mytorch.core as mt
from mytorch.rl.envs import EpisodeTracker, final_observations, seed_env, seed_everything
from mytorch.rl.networks import ActorCritic, space_dims
from mytorch.rl.normalize import ObservationNormalizer, RewardNormalizer
from mytorch.rl.rollout import RolloutBuffer

LossCheck = Callable[[float, str], object]
"""``loss_check(loss, where)``: called with each gradient step's loss (a float) and where in
the training it is (e.g. ``"iteration 3, epoch 2, minibatch 1, env step 768"``) before the
backward pass and the optimizer step; it may raise (or exit) to stop training there, before a
NaN or infinite loss reaches the weights."""


@dataclass
class OnPolicyConfig:
    num_steps: int = 128  # steps per environment per rollout
    learning_rate: float = 2.5e-4
    anneal_lr: bool = True  # learning rate falls linearly to 0 over the training
    gamma: float = 0.99
    gae_lambda: float = 0.95
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    hidden: tuple[int, ...] = (64, 64)
    activation: str = "tanh"
    log_std_init: float = 0.0  # initial log std of a Gaussian policy
    normalize_obs: bool = False
    normalize_reward: bool = False


class OnPolicyAlgorithm:
    """Collects rollouts of the current policy in ``envs`` (a gymnasium vector env in same-step
    autoreset mode, see ``make_vec_env``); subclasses implement ``update``. ``loss_check``, if
    given, sees every gradient step's loss before that step is taken (see ``LossCheck``)."""

    def __init__(
        self,
        envs: gym.vector.VectorEnv,
        config: OnPolicyConfig,
        total_timesteps: int,
        seed: int = 0,
        *,
        loss_check: LossCheck | None = None,
    ) -> None:
        self.envs, self.config, self.seed = envs, config, seed
        self.loss_check = loss_check
        self.total_timesteps = int(total_timesteps)
        self.rng = seed_everything(seed)
        self.num_envs = envs.num_envs
        obs_shape = space_dims(envs.single_observation_space)
        space = envs.single_action_space
        self.continuous = isinstance(space, gym.spaces.Box)
        self.agent = ActorCritic(
            int(np.prod(obs_shape)), space, config.hidden, config.activation, config.log_std_init
        )
        self.optimizer = self.make_optimizer()
        self.buffer = RolloutBuffer(
            config.num_steps,
            self.num_envs,
            obs_shape,
            tuple(space.shape) if self.continuous else (),
            np.float32 if self.continuous else np.int64,
        )
        self.obs_norm = ObservationNormalizer(obs_shape) if config.normalize_obs else None
        self.rew_norm = (
            RewardNormalizer(self.num_envs, config.gamma) if config.normalize_reward else None
        )
        self.tracker = EpisodeTracker(self.num_envs)
        self.obs = seed_env(envs, seed)
        self.global_step = 0
        self.iteration = 0
        self.history: dict[str, list] = {"step": [], "return": [], "length": []}

    def make_optimizer(self) -> mt.optim.Optimizer:
        return mt.optim.Adam(self.agent.parameters(), lr=self.config.learning_rate, eps=1e-5)

    @property
    def batch_size(self) -> int:
        return self.config.num_steps * self.num_envs

    @property
    def num_iterations(self) -> int:
        return max(self.total_timesteps // self.batch_size, 1)

    # ------------------------------------------------------------------ acting
    def normalize(self, obs: np.ndarray, update: bool = False) -> np.ndarray:
        obs = np.asarray(obs, dtype=np.float32)
        return self.obs_norm(obs, update) if self.obs_norm is not None else obs

    def env_actions(self, actions: np.ndarray) -> np.ndarray:
        """Actions as the environment takes them: Gaussian samples clipped to the bounds."""
        if self.continuous:
            space = self.envs.single_action_space
            return np.clip(actions, space.low, space.high)
        return actions

    @mt.no_grad()
    def predict(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
        """Actions for a batch of raw observations (the mode of the policy when deterministic)."""
        x = mt.from_numpy(self.normalize(obs))
        return self.env_actions(self.agent.act(x, deterministic).numpy())

    # ------------------------------------------------------------------ rollouts
    @mt.no_grad()
    def collect_rollout(self) -> list[tuple[float, int]]:
        """Fill the buffer with ``num_steps`` vector steps and compute advantages and returns;
        returns ``(return, length)`` of the episodes that finished meanwhile."""
        cfg, buf = self.config, self.buffer
        buf.reset()
        finished: list[tuple[float, int]] = []
        for _ in range(cfg.num_steps):
            obs = self.normalize(self.obs, update=True)
            x = mt.from_numpy(obs)
            dist = self.agent.distribution(x)
            action = dist.sample()
            log_prob = dist.log_prob(action).numpy()
            value = self.agent.get_value(x).numpy()
            actions = action.numpy()
            next_obs, rewards, terminated, truncated, infos = self.envs.step(
                self.env_actions(actions)
            )
            self.global_step += self.num_envs
            for ret, length in self.tracker.step(rewards, terminated, truncated):
                finished.append((ret, length))
                self.history["step"].append(self.global_step)
                self.history["return"].append(ret)
                self.history["length"].append(length)
            if self.rew_norm is not None:
                rewards = self.rew_norm(rewards, terminated | truncated)
            final_values = None
            if truncated.any():  # bootstrap across the time limit from the final observation
                real = final_observations(next_obs, infos)[truncated]
                final_values = np.zeros(self.num_envs, dtype=np.float32)
                final_values[truncated] = self.agent.get_value(
                    mt.from_numpy(self.normalize(real))
                ).numpy()
            buf.add(obs, actions, log_prob, rewards, terminated, truncated, value, final_values)
            self.obs = next_obs
        last_value = self.agent.get_value(mt.from_numpy(self.normalize(self.obs))).numpy()
        buf.compute_returns_and_advantages(last_value, cfg.gamma, cfg.gae_lambda)
        return finished

    def update(self) -> dict[str, float]:
        raise NotImplementedError

    def anneal(self) -> None:
        """Learning rate for the coming iteration: linear from the initial value to 0."""
        if self.config.anneal_lr:
            frac = 1.0 - self.iteration / self.num_iterations
            for group in self.optimizer.param_groups:
                group["lr"] = frac * self.config.learning_rate

    def train_iteration(self) -> tuple[list[tuple[float, int]], dict[str, float]]:
        """One rollout and one update; returns the finished episodes and the update's stats."""
        self.anneal()
        finished = self.collect_rollout()
        stats = self.update()
        self.iteration += 1
        return finished, stats

    def learn(self, callback: Callable[[OnPolicyAlgorithm, dict], None] | None = None):
        """Train until ``total_timesteps`` environment steps (whole rollouts); ``callback``
        gets the algorithm and the iteration's stats after each iteration. Returns self."""
        while self.iteration < self.num_iterations:
            _, stats = self.train_iteration()
            if callback is not None:
                callback(self, stats)
        return self

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict:
        """Everything needed to continue training: weights, optimizer, normalizers, counters,
        history and random states (the environments restart their episodes on resume)."""
        state = {
            "agent": self.agent.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "global_step": self.global_step,
            "iteration": self.iteration,
            "history": self.history,
            "config": asdict(self.config),
            "rng": self.rng.bit_generator.state,
            "mt_rng": mt.get_rng_state(),
        }
        if self.obs_norm is not None:
            state["obs_norm"] = self.obs_norm.state_dict()
        if self.rew_norm is not None:
            state["rew_norm"] = self.rew_norm.state_dict()
        return state

    def load_state_dict(self, state: dict) -> None:
        self.agent.load_state_dict(state["agent"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.global_step = int(state["global_step"])
        self.iteration = int(state["iteration"])
        self.history = {k: list(v) for k, v in state["history"].items()}
        self.rng.bit_generator.state = state["rng"]
        mt.set_rng_state(state["mt_rng"])
        if self.obs_norm is not None:
            self.obs_norm.load_state_dict(state["obs_norm"])
        if self.rew_norm is not None:
            self.rew_norm.load_state_dict(state["rew_norm"])
        # fresh episodes, seeded by where training stands, so a resumed run is reproducible
        self.obs = seed_env(self.envs, self.seed + 1_000_003 * self.iteration)
        self.tracker = EpisodeTracker(self.num_envs)
