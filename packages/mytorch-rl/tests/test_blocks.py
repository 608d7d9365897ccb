"""Schedules, normalizers, policy heads, networks, vector environments and evaluation."""

import gymnasium as gym
import numpy as np
import pytest

import mytorch.core as mt
from mytorch.core.distributions import Categorical
from mytorch.rl import (
    ActorCritic,
    CategoricalHead,
    DiagGaussianHead,
    EpisodeTracker,
    ExponentialSchedule,
    LinearSchedule,
    ObservationNormalizer,
    QNetwork,
    RewardNormalizer,
    RunningMeanStd,
    epsilon_greedy,
    evaluate,
    final_observations,
    make_vec_env,
    seed_env,
    seed_everything,
)


def test_schedules():
    s = LinearSchedule(1.0, 0.1, 10)
    assert [s(t) for t in (0, 5, 10, 20, -3)] == pytest.approx([1.0, 0.55, 0.1, 0.1, 1.0])
    e = ExponentialSchedule(1.0, 0.2, 0.5)
    assert [e(t) for t in (0, 1, 2, 5)] == pytest.approx([1.0, 0.5, 0.25, 0.2])
    with pytest.raises(ValueError, match="duration must be positive"):
        LinearSchedule(1, 0, 0)
    with pytest.raises(ValueError, match="decay must be in"):
        ExponentialSchedule(1, 0, 1.5)


def test_epsilon_greedy_explores_at_the_given_rate():
    rng = np.random.default_rng(0)
    greedy = np.zeros(20_000, dtype=np.int64)
    out = epsilon_greedy(greedy, 4, 0.4, rng)
    # a random action equals the greedy one a quarter of the time: P(changed) = 0.4 * 3/4
    assert abs((out != 0).mean() - 0.3) < 0.015
    assert np.array_equal(epsilon_greedy(greedy, 4, 0.0, rng), greedy)


def test_running_mean_std_merges_batches_exactly():
    rng = np.random.default_rng(1)
    data = rng.normal(3.0, 2.0, size=(1000, 2))
    rms = RunningMeanStd((2,), epsilon=0.0)
    rms.count = 0.0
    for chunk in np.array_split(data, 7):
        rms.update(chunk)
    np.testing.assert_allclose(rms.mean, data.mean(0), rtol=1e-10)
    np.testing.assert_allclose(rms.var, data.var(0), rtol=1e-10)


def test_observation_normalizer_and_state():
    norm = ObservationNormalizer((2,), clip=5.0)
    rng = np.random.default_rng(2)
    for _ in range(50):
        out = norm(rng.normal([10.0, -4.0], [3.0, 0.1], size=(16, 2)))
    assert out.dtype == np.float32
    big = norm(np.array([[1e6, 0.0]]), update=False)
    assert big[0, 0] == 5.0  # clipped
    copy = ObservationNormalizer((2,), clip=5.0)
    copy.load_state_dict(norm.state_dict())
    x = rng.normal(size=(3, 2))
    np.testing.assert_array_equal(copy(x, update=False), norm(x, update=False))


def test_reward_normalizer_scales_by_the_return_std_and_resets_at_episode_ends():
    norm = RewardNormalizer(2, gamma=0.5)
    r = np.array([1.0, 2.0])
    norm(r, np.array([False, True]))
    # returns after the first step: [1, 2]; env 1's episode ended, so its return restarts
    assert norm.returns.tolist() == [1.0, 0.0]
    out = norm(r, np.array([False, False]), update=False)
    assert norm.returns.tolist() == [1.5, 2.0]
    np.testing.assert_allclose(out, r / np.sqrt(norm.rms.var + 1e-8), rtol=1e-6)


def test_heads_give_distributions_with_the_right_shapes():
    mt.manual_seed(0)
    feats = mt.randn(5, 8)
    cat = CategoricalHead(8, 3)(feats)
    assert isinstance(cat, Categorical) and cat.batch_shape == (5,)
    assert np.allclose(cat.probs.detach().numpy(), 1 / 3, atol=0.05)  # gain 0.01: nearly uniform
    gauss = DiagGaussianHead(8, 2, log_std_init=np.log(0.5))(feats)
    a = gauss.sample()
    assert a.shape == (5, 2) and gauss.batch_shape == (5,) and gauss.event_shape == (2,)
    lp = gauss.log_prob(a)
    base = (
        gauss.base.log_prob(a).detach().numpy().sum(-1)
    )  # independent dimensions: log-densities add
    np.testing.assert_allclose(lp.detach().numpy(), base, rtol=1e-6)
    np.testing.assert_allclose(gauss.stddev.detach().numpy(), 0.5, rtol=1e-6)
    ent = 2 * (0.5 + 0.5 * np.log(2 * np.pi) + np.log(0.5))
    np.testing.assert_allclose(gauss.entropy().detach().numpy(), ent, rtol=1e-5)
    assert gauss.rsample().requires_grad


def test_actor_critic_gradients_reach_log_std_and_both_networks():
    ac = ActorCritic(3, gym.spaces.Box(-1, 1, (2,)), hidden=(8,))
    obs = mt.randn(4, 3)
    action, log_prob, entropy, value = ac.get_action_and_value(obs)
    (log_prob.sum() + value.sum()).backward()
    assert ac.actor_head.log_std.grad is not None
    assert all(p.grad is not None for p in ac.critic.parameters())
    assert ac.act(obs).shape == (4, 2)
    with pytest.raises(ValueError, match="unsupported action space"):
        ActorCritic(3, gym.spaces.MultiBinary(2))
    assert QNetwork(4, 2, (16,))(mt.zeros(7, 4)).shape == (7, 2)


def test_vector_env_is_gymnasiums_own_with_same_step_autoreset_and_final_obs():
    envs = make_vec_env("CartPole-v1", 3, max_episode_steps=4)
    assert isinstance(envs, gym.vector.SyncVectorEnv)
    assert envs.metadata["autoreset_mode"] == gym.vector.AutoresetMode.SAME_STEP
    obs = seed_env(envs, 7)
    tracker = EpisodeTracker(3)
    finished = []
    for t in range(4):
        next_obs, r, term, trunc, infos = envs.step(np.zeros(3, dtype=np.int64))
        finished += tracker.step(r, term, trunc)
        real = final_observations(next_obs, infos)
        if t < 3:
            assert np.array_equal(real, next_obs)
        obs = next_obs
    assert trunc.all() or term.any()
    assert not np.array_equal(real, obs)  # the final observations, not the reset ones
    assert [length for _, length in finished] == [4, 4, 4]
    again = make_vec_env("CartPole-v1", 3)
    np.testing.assert_array_equal(seed_env(again, 7), seed_env(make_vec_env("CartPole-v1", 3), 7))


def test_async_vector_env_matches_sync():
    a = make_vec_env("CartPole-v1", 2, asynchronous=True)
    try:
        assert isinstance(a, gym.vector.AsyncVectorEnv)
        s = make_vec_env("CartPole-v1", 2)
        np.testing.assert_array_equal(seed_env(a, 3), seed_env(s, 3))
        acts = np.array([0, 1])
        np.testing.assert_array_equal(a.step(acts)[0], s.step(acts)[0])
    finally:
        a.close()


def test_seed_everything_seeds_mytorch_and_returns_a_generator():
    g = seed_everything(5)
    x = mt.randn(3).numpy()
    assert g.random() == np.random.default_rng(5).random()
    seed_everything(5)
    np.testing.assert_array_equal(mt.randn(3).numpy(), x)


def test_evaluate_runs_each_episode_with_its_seed():
    def always_left(obs):
        return np.zeros(len(obs), dtype=np.int64)

    result = evaluate(always_left, "CartPole-v1", n_episodes=3, seed=11)
    expected = []
    for k in range(3):
        env = gym.make("CartPole-v1")
        env.reset(seed=11 + k)
        total, done = 0.0, False
        while not done:
            _, r, term, trunc, _ = env.step(0)
            total += r
            done = term or trunc
        expected.append(total)
    assert result.returns == expected
    assert result.mean == pytest.approx(np.mean(expected))
    assert result.std == pytest.approx(np.std(expected))
    assert "over 3 episodes" in str(result)
    with pytest.raises(ValueError, match="n_episodes must be >= 1"):
        evaluate(always_left, "CartPole-v1", n_episodes=0)
