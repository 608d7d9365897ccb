"""The algorithms as library calls: they run, learn a little, and their checkpoint state brings
a fresh instance to exactly the same point."""

import re

import gymnasium as gym
import numpy as np
import pytest

import mytorch.core as mt
import mytorch.nn as nn
from mytorch.rl import (
    A2C,
    DQN,
    PPO,
    A2CConfig,
    DQNConfig,
    PPOConfig,
    Reinforce,
    ReinforceConfig,
    make_vec_env,
)

SMALL_DQN = DQNConfig(
    buffer_size=500,
    learning_starts=64,
    train_frequency=16,
    gradient_steps=4,
    batch_size=16,
    target_network_frequency=32,
    hidden=(16, 16),
)


def make(kind: str, seed: int = 0, total: int = 256):
    if kind == "ppo":
        cfg = PPOConfig(num_steps=16, num_minibatches=2, update_epochs=2, hidden=(16, 16))
        return PPO(make_vec_env("CartPole-v1", 2), cfg, total, seed)
    if kind == "ppo_cont":
        cfg = PPOConfig(
            num_steps=32,
            update_epochs=1,
            num_minibatches=1,
            hidden=(16,),
            normalize_obs=True,
            normalize_reward=True,
        )
        return PPO(make_vec_env("Pendulum-v1", 2), cfg, total, seed)
    if kind == "a2c":
        return A2C(
            make_vec_env("CartPole-v1", 4), A2CConfig(num_steps=16, hidden=(16,)), total, seed
        )
    if kind == "dqn":
        return DQN(make_vec_env("CartPole-v1", 1), SMALL_DQN, total, seed)
    if kind == "dqn_per":
        cfg = DQNConfig(**{**SMALL_DQN.__dict__, "prioritized": True, "double_dqn": True})
        return DQN(make_vec_env("CartPole-v1", 1), cfg, total, seed)
    if kind == "reinforce":
        cfg = ReinforceConfig(episodes_per_update=2, hidden=(16,))
        return Reinforce(gym.make("CartPole-v1"), cfg, total, seed)
    raise ValueError(kind)


def weights(algo) -> dict[str, np.ndarray]:
    module = algo.q_network if isinstance(algo, DQN) else algo.agent
    return {k: v.numpy().copy() for k, v in module.state_dict().items()}


KINDS = ["ppo", "ppo_cont", "a2c", "dqn", "dqn_per", "reinforce"]


@pytest.mark.parametrize("kind", KINDS)
def test_learn_runs_the_budget_and_changes_the_weights(kind):
    algo = make(kind)
    before = weights(algo)
    algo.learn()
    assert algo.global_step >= 256
    after = weights(algo)
    assert any(not np.array_equal(before[k], after[k]) for k in before)
    obs = (
        np.zeros((3, *algo.envs.single_observation_space.shape))
        if hasattr(algo, "envs")
        else np.zeros((3, 4))
    )
    actions = algo.predict(obs)
    assert actions.shape[0] == 3


@pytest.mark.parametrize("kind", KINDS)
def test_seeding_makes_runs_reproducible(kind):
    a, b = make(kind, seed=3).learn(), make(kind, seed=3).learn()
    for k, v in weights(a).items():
        np.testing.assert_array_equal(v, weights(b)[k])
    assert a.history["return"] == b.history["return"]
    c = make(kind, seed=4).learn()
    assert any(not np.array_equal(v, weights(c)[k]) for k, v in weights(a).items())


@pytest.mark.parametrize("kind", ["ppo", "dqn_per", "reinforce"])
def test_checkpoint_restores_a_run_that_continues_identically(kind, tmp_path):
    """Save halfway through a file; two fresh instances loaded from it train on identically,
    and the loaded one starts with the saved weights, optimizer state and counters."""
    algo = make(kind, total=512)
    while algo.global_step < 256:
        algo.step() if isinstance(algo, DQN) else algo.train_iteration()
    nn.save({"algorithm": algo.state_dict()}, tmp_path / "c.safetensors")
    state = nn.load(tmp_path / "c.safetensors")["algorithm"]
    runs = []
    for _ in range(2):
        fresh = make(kind, seed=0, total=512)
        mt.manual_seed(123)  # anything: the checkpoint's random state must win
        fresh.load_state_dict(state)
        assert fresh.global_step == algo.global_step
        for k, v in weights(algo).items():
            np.testing.assert_array_equal(weights(fresh)[k], v)
        fresh.learn()
        runs.append(fresh)
    assert runs[0].global_step >= 512
    for k, v in weights(runs[0]).items():
        np.testing.assert_array_equal(v, weights(runs[1])[k])
    assert runs[0].history["return"][: len(algo.history["return"])] == algo.history["return"]


def test_ppo_lr_anneals_linearly_to_zero():
    algo = make("ppo", total=128)  # 4 iterations of 32 steps
    lrs = []
    while algo.iteration < algo.num_iterations:
        algo.train_iteration()
        lrs.append(algo.optimizer.param_groups[0]["lr"])
    assert lrs == pytest.approx([2.5e-4 * f for f in (1.0, 0.75, 0.5, 0.25)])


def test_ppo_bootstraps_truncated_episodes_from_the_final_observation():
    """With a 5-step time limit every episode is truncated: the buffer must hold the critic's
    value of each final observation at those steps."""
    envs = make_vec_env("CartPole-v1", 1, max_episode_steps=5)
    cfg = PPOConfig(num_steps=12, hidden=(8,))
    algo = PPO(envs, cfg, 12, seed=0)
    algo.collect_rollout()
    buf = algo.buffer
    trunc_steps = np.flatnonzero(buf.truncated[:, 0])
    term_steps = np.flatnonzero(buf.terminated[:, 0])
    assert len(trunc_steps) >= 1 and len(term_steps) == 0 and (trunc_steps[0] == 4)
    assert np.all(buf.final_values[trunc_steps, 0] != 0)
    nxt = buf.next_values(np.zeros(1))
    # inside an episode the next value is the next step's; at the cut it is V(final obs)
    np.testing.assert_array_equal(nxt[:4, 0], buf.values[1:5, 0])
    np.testing.assert_array_equal(nxt[4, 0], buf.final_values[4, 0])


def test_dqn_stores_the_final_observation_after_truncation():
    envs = make_vec_env("CartPole-v1", 1, max_episode_steps=3)
    algo = DQN(envs, SMALL_DQN, 6, seed=0)
    for _ in range(6):
        algo.step()
    b = algo.buffer
    # steps 2 and 5 end episodes by truncation: not terminal, and next_obs is not a reset obs
    assert b.terminated[:6].tolist() == [0.0] * 6
    np.testing.assert_array_equal(b.next_obs[0], b.obs[1])
    assert not np.array_equal(b.next_obs[2], b.obs[3])  # obs[3] is a fresh episode's start


def test_dqn_rejects_continuous_actions_and_bad_loss():
    with pytest.raises(ValueError, match="DQN needs discrete actions"):
        DQN(make_vec_env("Pendulum-v1", 1), SMALL_DQN, 10)
    with pytest.raises(ValueError, match="must be 'huber' or 'mse'"):
        DQN(make_vec_env("CartPole-v1", 1), DQNConfig(loss="l1"), 10)


def test_reinforce_without_baseline_trains_only_the_actor():
    cfg = ReinforceConfig(baseline=False, episodes_per_update=2, hidden=(8,))
    algo = Reinforce(gym.make("CartPole-v1"), cfg, 100, seed=0)
    before = weights(algo)
    algo.learn()
    after = weights(algo)
    assert all(np.array_equal(before[k], after[k]) for k in before if k.startswith("critic"))
    assert any(not np.array_equal(before[k], after[k]) for k in before if k.startswith("actor"))


class Stop(Exception):
    pass


def gradient_steps(algo) -> int:
    if isinstance(algo, PPO):
        return algo.iteration * algo.config.update_epochs * algo.config.num_minibatches
    if isinstance(algo, A2C):
        return algo.iteration
    return algo.gradient_updates if isinstance(algo, DQN) else algo.updates


FIRST_STEP = {
    "ppo": "iteration 1, epoch 1, minibatch 1, env step 32",  # 2 envs x 16 steps
    "a2c": "iteration 1, env step 64",  # 4 envs x 16 steps
    "dqn": "gradient step 1, env step 80",  # the first multiple of 16 past learning_starts 64
    "reinforce": "update 1, env step ",  # after two whole episodes
}


@pytest.mark.parametrize("kind", sorted(FIRST_STEP))
def test_loss_check_sees_every_gradient_step_and_changes_nothing(kind):
    seen: list[tuple[float, str]] = []
    algo = make(kind)
    algo.loss_check = lambda loss, where: seen.append((loss, where))
    algo.learn()
    assert len(seen) == gradient_steps(algo) > 1
    assert all(isinstance(loss, float) and np.isfinite(loss) for loss, _ in seen)
    assert seen[0][1].startswith(FIRST_STEP[kind])
    assert len({where for _, where in seen}) == len(seen)  # each step named apart
    reference = make(kind).learn()  # the same run without a check
    for k, v in weights(reference).items():
        np.testing.assert_array_equal(weights(algo)[k], v)


@pytest.mark.parametrize("kind", sorted(FIRST_STEP))
def test_loss_check_can_stop_training_before_the_step_is_taken(kind):
    def stop(loss: float, where: str) -> None:
        raise Stop(where)

    algo = make(kind)
    algo.loss_check = stop
    before = weights(algo)
    with pytest.raises(Stop, match=re.escape(FIRST_STEP[kind])):
        algo.learn()
    for k, v in before.items():
        np.testing.assert_array_equal(weights(algo)[k], v)  # no step on the checked loss
    assert gradient_steps(algo) == 0


def test_loss_check_is_a_constructor_option():
    check = lambda loss, where: None  # noqa: E731
    ppo = PPO(make_vec_env("CartPole-v1", 1), PPOConfig(num_steps=4), 4, loss_check=check)
    a2c = A2C(make_vec_env("CartPole-v1", 1), A2CConfig(num_steps=4), 4, loss_check=check)
    dqn = DQN(make_vec_env("CartPole-v1", 1), SMALL_DQN, 4, loss_check=check)
    rf = Reinforce(gym.make("CartPole-v1"), ReinforceConfig(), 4, loss_check=check)
    assert ppo.loss_check is a2c.loss_check is dqn.loss_check is rf.loss_check is check
    assert make("ppo").loss_check is None
