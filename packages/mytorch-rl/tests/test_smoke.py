"""The installed package imports and learns: a few PPO iterations on CartPole, GAE by hand."""

import numpy as np

import mytorch.rl as rl


def test_version_and_gae():
    assert rl.__version__
    adv, ret = rl.compute_gae(
        np.array([1.0, 1.0]),
        np.array([0.5, 0.5]),
        np.array([0.5, 2.0]),
        np.array([0.0, 0.0]),
        np.array([0.0, 0.0]),
        gamma=0.9,
        gae_lambda=1.0,
    )
    # delta = [1 + 0.45 - 0.5, 1 + 1.8 - 0.5] = [0.95, 2.3]; A0 = 0.95 + 0.9 * 2.3
    np.testing.assert_allclose(adv, [0.95 + 0.9 * 2.3, 2.3], rtol=1e-6)
    np.testing.assert_allclose(ret, adv + 0.5, rtol=1e-6)


def test_ppo_runs_on_cartpole():
    envs = rl.make_vec_env("CartPole-v1", num_envs=2)
    ppo = rl.PPO(envs, rl.PPOConfig(num_steps=32), total_timesteps=128, seed=0).learn()
    assert ppo.global_step == 128 and ppo.iteration == 2
    result = rl.evaluate(ppo.predict, "CartPole-v1", n_episodes=2, seed=0)
    assert len(result.returns) == 2 and result.mean >= 8  # CartPole lasts at least 8 steps
