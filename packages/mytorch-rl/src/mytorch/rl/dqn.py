"""Deep Q-Network (Mnih et al., 2015): replay, a target network, Huber loss, epsilon-greedy
exploration; Double DQN (van Hasselt et al., 2016) and prioritized replay as options."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import gymnasium as gym
import numpy as np

import mytorch.core as mt
import mytorch.core.functional as F
from mytorch.rl.envs import EpisodeTracker, final_observations, seed_env, seed_everything
from mytorch.rl.networks import QNetwork, space_dims
from mytorch.rl.onpolicy import LossCheck
from mytorch.rl.replay import PrioritizedReplayBuffer, ReplayBatch, ReplayBuffer
from mytorch.rl.schedules import LinearSchedule, epsilon_greedy


@dataclass
class DQNConfig:
    buffer_size: int = 100_000
    learning_rate: float = 2.3e-3
    batch_size: int = 64
    gamma: float = 0.99
    learning_starts: int = 1_000  # environment steps of random play before learning
    train_frequency: int = 256  # environment steps between training phases
    gradient_steps: int = 128  # gradient steps per training phase
    target_network_frequency: int = 256  # environment steps between target updates
    tau: float = 1.0  # target <- tau * online + (1 - tau) * target
    start_e: float = 1.0
    end_e: float = 0.04
    exploration_fraction: float = 0.16  # of the total steps over which epsilon decays
    hidden: tuple[int, ...] = (256, 256)
    loss: str = "huber"  # huber | mse
    double_dqn: bool = False
    max_grad_norm: float | None = 10.0
    prioritized: bool = False
    alpha: float = 0.6  # prioritization exponent
    beta_start: float = 0.4  # importance-weight exponent, annealed to 1


def td_targets(
    q_next_target: mt.Tensor,
    rewards: mt.Tensor,
    terminated: mt.Tensor,
    gamma: float,
    q_next_online: mt.Tensor | None = None,
) -> mt.Tensor:
    """``r + gamma * (1 - terminated) * Q_target(s', a*)``, with ``a*`` the target's own argmax
    (DQN) or the online network's argmax (Double DQN, when ``q_next_online`` is given)."""
    if q_next_online is None:
        next_q = q_next_target.max(dim=1)[0]
    else:
        best = q_next_online.argmax(dim=1, keepdim=True)  # (B, 1)
        next_q = q_next_target.gather(1, best).squeeze(1)
    return rewards + gamma * (1 - terminated) * next_q


class DQN:
    """DQN on a vector env with discrete actions (``make_vec_env``, same-step autoreset).
    ``loss_check``, if given, sees every gradient step's loss before that step is taken (see
    ``LossCheck``).

    >>> from mytorch.rl import make_vec_env
    >>> cfg = DQNConfig(learning_starts=32, train_frequency=16, gradient_steps=2, batch_size=8)
    >>> dqn = DQN(make_vec_env("CartPole-v1"), cfg, total_timesteps=64).learn()
    >>> dqn.global_step, dqn.gradient_updates
    (64, 4)
    """

    def __init__(
        self,
        envs: gym.vector.VectorEnv,
        config: DQNConfig | None = None,
        total_timesteps: int = 100_000,
        seed: int = 0,
        *,
        loss_check: LossCheck | None = None,
    ) -> None:
        self.envs, self.config, self.seed = envs, config or DQNConfig(), seed
        self.loss_check = loss_check
        cfg = self.config
        if cfg.loss not in ("huber", "mse"):
            raise ValueError(f"DQNConfig.loss must be 'huber' or 'mse', got {cfg.loss!r}")
        if not isinstance(envs.single_action_space, gym.spaces.Discrete):
            raise ValueError(f"DQN needs discrete actions, got {envs.single_action_space}")
        self.total_timesteps = int(total_timesteps)
        self.rng = seed_everything(seed)
        self.num_envs = envs.num_envs
        obs_shape = space_dims(envs.single_observation_space)
        self.n_actions = int(envs.single_action_space.n)
        obs_dim = int(np.prod(obs_shape))
        self.q_network = QNetwork(obs_dim, self.n_actions, cfg.hidden)
        self.target_network = QNetwork(obs_dim, self.n_actions, cfg.hidden)
        self.target_network.load_state_dict(self.q_network.state_dict())
        self.optimizer = mt.optim.Adam(self.q_network.parameters(), lr=cfg.learning_rate)
        buffer_cls = PrioritizedReplayBuffer if cfg.prioritized else ReplayBuffer
        kwargs = {"alpha": cfg.alpha} if cfg.prioritized else {}
        self.buffer = buffer_cls(cfg.buffer_size, obs_shape, **kwargs)
        self.epsilon = LinearSchedule(
            cfg.start_e, cfg.end_e, max(int(cfg.exploration_fraction * total_timesteps), 1)
        )
        self.beta = LinearSchedule(cfg.beta_start, 1.0, max(self.total_timesteps, 1))
        self.tracker = EpisodeTracker(self.num_envs)
        self.obs = seed_env(envs, seed)
        self.global_step = 0
        self.gradient_updates = 0
        self.history: dict[str, list] = {"step": [], "return": [], "length": []}

    @mt.no_grad()
    def predict(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
        """Greedy actions for a batch of observations (epsilon-greedy at the current epsilon
        when not deterministic)."""
        greedy = self.q_network(mt.from_numpy(np.asarray(obs, dtype=np.float32))).argmax(dim=1)
        if deterministic:
            return greedy.numpy()
        return epsilon_greedy(
            greedy.numpy(), self.n_actions, self.epsilon(self.global_step), self.rng
        )

    def collect_step(self) -> list[tuple[float, int]]:
        """One vector step of epsilon-greedy play stored in the replay buffer."""
        if self.global_step < self.config.learning_starts:
            actions = self.rng.integers(0, self.n_actions, self.num_envs)
        else:
            actions = self.predict(self.obs, deterministic=False)
        next_obs, rewards, terminated, truncated, infos = self.envs.step(actions)
        # after a truncation the stored next state is the real final one: the target bootstraps
        real_next = final_observations(next_obs, infos)
        self.buffer.add(self.obs, actions, rewards, real_next, terminated)
        self.obs = next_obs
        self.global_step += self.num_envs
        finished = self.tracker.step(rewards, terminated, truncated)
        for ret, length in finished:
            self.history["step"].append(self.global_step)
            self.history["return"].append(ret)
            self.history["length"].append(length)
        return finished

    def loss(self, batch: ReplayBatch) -> tuple[mt.Tensor, np.ndarray]:
        """The weighted TD loss of a batch and its TD errors (for priorities)."""
        cfg = self.config
        obs, next_obs = mt.from_numpy(batch.obs), mt.from_numpy(batch.next_obs)
        with mt.no_grad():
            q_next_online = self.q_network(next_obs) if cfg.double_dqn else None
            target = td_targets(
                self.target_network(next_obs),
                mt.from_numpy(batch.rewards),
                mt.from_numpy(batch.terminated),
                cfg.gamma,
                q_next_online,
            )
        q = self.q_network(obs).gather(1, mt.from_numpy(batch.actions).unsqueeze(1)).squeeze(1)
        per_sample = (
            F.huber_loss(q, target, reduction="none")
            if cfg.loss == "huber"
            else F.mse_loss(q, target, reduction="none")
        )
        if cfg.prioritized:
            loss = (per_sample * mt.from_numpy(batch.weights)).mean()
        else:
            loss = per_sample.mean()
        return loss, (q.detach() - target).numpy()

    def train_step(self) -> float:
        """One gradient step on a sampled batch; returns the loss."""
        cfg = self.config
        if cfg.prioritized:
            batch = self.buffer.sample(cfg.batch_size, self.rng, beta=self.beta(self.global_step))
        else:
            batch = self.buffer.sample(cfg.batch_size, self.rng)
        loss, td_error = self.loss(batch)
        value = loss.item()
        if self.loss_check is not None:
            where = f"gradient step {self.gradient_updates + 1}, env step {self.global_step}"
            self.loss_check(value, where)
        self.optimizer.zero_grad()
        loss.backward()
        if cfg.max_grad_norm is not None:
            mt.optim.clip_grad_norm_(list(self.q_network.parameters()), cfg.max_grad_norm)
        self.optimizer.step()
        if cfg.prioritized:
            self.buffer.update_priorities(batch.indices, td_error)
        self.gradient_updates += 1
        return value

    @mt.no_grad()
    def update_target(self) -> None:
        """target <- tau * online + (1 - tau) * target (a copy when tau = 1)."""
        tau = self.config.tau
        for t, p in zip(self.target_network.parameters(), self.q_network.parameters()):
            t.copy_(p if tau == 1.0 else tau * p + (1.0 - tau) * t)

    def step(self) -> tuple[list[tuple[float, int]], list[float]]:
        """One vector step, then the training and target updates that fall due at it."""
        cfg = self.config
        before = self.global_step
        finished = self.collect_step()
        losses: list[float] = []
        if self.global_step > cfg.learning_starts:
            if self.global_step // cfg.train_frequency > before // cfg.train_frequency:
                losses = [self.train_step() for _ in range(cfg.gradient_steps)]
            if (
                self.global_step // cfg.target_network_frequency
                > before // cfg.target_network_frequency
            ):
                self.update_target()
        return finished, losses

    def learn(self, callback: Callable[[DQN, list[float]], None] | None = None) -> DQN:
        """Train until ``total_timesteps`` environment steps; ``callback`` runs after each
        vector step with its losses. Returns self."""
        while self.global_step < self.total_timesteps:
            _, losses = self.step()
            if callback is not None:
                callback(self, losses)
        return self

    def state_dict(self, include_buffer: bool = True) -> dict:
        """Weights, optimizer, counters, history, random states and (optionally) the replay
        buffer's contents; the environments restart their episodes on resume."""
        state = {
            "q_network": self.q_network.state_dict(),
            "target_network": self.target_network.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "global_step": self.global_step,
            "gradient_updates": self.gradient_updates,
            "history": self.history,
            "config": asdict(self.config),
            "rng": self.rng.bit_generator.state,
            "mt_rng": mt.get_rng_state(),
        }
        if include_buffer:
            state["buffer"] = self.buffer.state_dict()
        return state

    def load_state_dict(self, state: dict) -> None:
        self.q_network.load_state_dict(state["q_network"])
        self.target_network.load_state_dict(state["target_network"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.global_step = int(state["global_step"])
        self.gradient_updates = int(state["gradient_updates"])
        self.history = {k: list(v) for k, v in state["history"].items()}
        self.rng.bit_generator.state = state["rng"]
        mt.set_rng_state(state["mt_rng"])
        if "buffer" in state:
            self.buffer.load_state_dict(state["buffer"])
        self.obs = seed_env(self.envs, self.seed + 1_000_003 * (self.global_step + 1))
        self.tracker = EpisodeTracker(self.num_envs)
