"""mytorch.rl: reinforcement learning on gymnasium environments with mytorch networks.

Algorithms (each a class with ``learn()``, ``predict()`` and checkpoint state): ``DQN``,
``Reinforce``, ``A2C``, ``PPO``. Building blocks: replay buffers (uniform, prioritized),
a rollout buffer with GAE(lambda), schedules, policy heads, gymnasium vector environments,
observation/reward normalization, evaluation and seeding.

>>> from mytorch.rl import PPO, PPOConfig, make_vec_env, evaluate
>>> ppo = PPO(make_vec_env("CartPole-v1", num_envs=2), PPOConfig(num_steps=8), 16).learn()
>>> evaluate(ppo.predict, "CartPole-v1", n_episodes=2).mean > 0
True
"""

from importlib.metadata import PackageNotFoundError, version

from mytorch.rl.a2c import A2C, A2CConfig, a2c_loss
from mytorch.rl.dqn import DQN, DQNConfig, td_targets
from mytorch.rl.envs import (
    EpisodeTracker,
    final_observations,
    make_vec_env,
    seed_env,
    seed_everything,
)
from mytorch.rl.evaluation import EvalResult, evaluate
from mytorch.rl.heads import CategoricalHead, DiagGaussianHead, DiagNormal, layer_init
from mytorch.rl.networks import ActorCritic, QNetwork, mlp, trunk
from mytorch.rl.normalize import ObservationNormalizer, RewardNormalizer, RunningMeanStd
from mytorch.rl.onpolicy import LossCheck, OnPolicyAlgorithm, OnPolicyConfig
from mytorch.rl.ppo import PPO, PPOConfig, normalize_advantages, ppo_policy_loss, ppo_value_loss
from mytorch.rl.reinforce import Reinforce, ReinforceConfig, reinforce_loss
from mytorch.rl.replay import PrioritizedReplayBuffer, ReplayBatch, ReplayBuffer, SumTree
from mytorch.rl.returns import compute_gae, discounted_returns, n_step_returns
from mytorch.rl.rollout import RolloutBuffer
from mytorch.rl.schedules import (
    ConstantSchedule,
    ExponentialSchedule,
    LinearSchedule,
    epsilon_greedy,
)

try:
    __version__ = version("mytorch-rl")
except PackageNotFoundError:
    __version__ = "0.0.0+unknown"
