"""GAE(lambda), n-step and Monte Carlo returns against hand-computed examples, including
episode ends: terminated (no bootstrap) and truncated (bootstrap from the final observation)."""

import numpy as np
import pytest

from mytorch.rl import RolloutBuffer, compute_gae, discounted_returns, n_step_returns

GAMMA, LAM = 0.9, 0.5


def by_hand_gae(r, v, nv, term, trunc, gamma, lam):
    """The textbook recursion, one scalar at a time."""
    T = len(r)
    adv = [0.0] * T
    nxt = 0.0
    for t in reversed(range(T)):
        delta = r[t] + gamma * (0.0 if term[t] else nv[t]) - v[t]
        carry = 0.0 if (term[t] or trunc[t]) else nxt
        adv[t] = delta + gamma * lam * carry
        nxt = adv[t]
    return adv


def test_gae_without_episode_ends_matches_the_sum_of_discounted_deltas():
    r = np.array([1.0, 2.0, 3.0])
    v = np.array([0.5, 1.0, 1.5])
    nv = np.array([1.0, 1.5, 4.0])  # V(s1), V(s2), V(s3) = bootstrap of the rollout's end
    zeros = np.zeros(3)
    adv, ret = compute_gae(r, v, nv, zeros, zeros, GAMMA, LAM)
    d = r + GAMMA * nv - v  # [1.4, 2.35, 5.1]
    np.testing.assert_allclose(d, [1.4, 2.35, 5.1])
    gl = GAMMA * LAM
    expected = [d[0] + gl * d[1] + gl**2 * d[2], d[1] + gl * d[2], d[2]]
    np.testing.assert_allclose(adv, expected, rtol=1e-6)
    np.testing.assert_allclose(ret, np.array(expected) + v, rtol=1e-6)
    assert adv.dtype == np.float32


def test_gae_termination_zeroes_the_bootstrap_and_cuts_the_recursion():
    r = np.array([1.0, 1.0, 1.0])
    v = np.array([2.0, 3.0, 4.0])
    nv = np.array([3.0, 100.0, 5.0])  # 100: whatever follows a terminal state must not count
    term = np.array([0.0, 1.0, 0.0])
    trunc = np.zeros(3)
    adv, _ = compute_gae(r, v, nv, term, trunc, GAMMA, LAM)
    d2 = 1 + 0.9 * 5 - 4  # 1.5
    d1 = 1 - 3  # terminal: no bootstrap -> -2
    d0 = 1 + 0.9 * 3 - 2  # 1.7
    np.testing.assert_allclose(adv, [d0 + 0.45 * d1, d1, d2], rtol=1e-6)
    np.testing.assert_allclose(adv, by_hand_gae(r, v, nv, term, trunc, GAMMA, LAM), rtol=1e-6)


def test_gae_truncation_bootstraps_from_the_final_observation_but_cuts_the_recursion():
    r = np.array([1.0, 1.0, 1.0])
    v = np.array([2.0, 3.0, 4.0])
    nv = np.array([3.0, 10.0, 5.0])  # 10 = V(final observation) of the truncated episode
    term = np.zeros(3)
    trunc = np.array([0.0, 1.0, 0.0])
    adv, _ = compute_gae(r, v, nv, term, trunc, GAMMA, LAM)
    d1 = 1 + 0.9 * 10 - 3  # 7: bootstrapped
    d0 = 1 + 0.9 * 3 - 2
    d2 = 1 + 0.9 * 5 - 4
    np.testing.assert_allclose(adv, [d0 + 0.45 * d1, d1, d2], rtol=1e-6)
    # the same step marked terminated instead would not bootstrap
    adv_term, _ = compute_gae(r, v, nv, trunc, term, GAMMA, LAM)
    assert adv_term[1] == pytest.approx(1 - 3)


def test_gae_random_batches_match_the_scalar_recursion():
    rng = np.random.default_rng(0)
    T, N = 7, 3
    r, v, nv = rng.normal(size=(3, T, N))
    term = (rng.random((T, N)) < 0.2).astype(float)
    trunc = ((rng.random((T, N)) < 0.2) & (term == 0)).astype(float)
    adv, _ = compute_gae(r, v, nv, term, trunc, 0.97, 0.8)
    for n in range(N):
        col = by_hand_gae(r[:, n], v[:, n], nv[:, n], term[:, n], trunc[:, n], 0.97, 0.8)
        np.testing.assert_allclose(adv[:, n], col, rtol=1e-5, atol=1e-6)


def test_lambda_zero_is_one_step_td_and_lambda_one_is_n_step():
    r = np.array([1.0, 0.0, 2.0])
    v = np.array([0.3, 0.2, 0.1])
    nv = np.array([0.2, 0.1, 1.0])
    z = np.zeros(3)
    td, _ = compute_gae(r, v, nv, z, z, GAMMA, 0.0)
    np.testing.assert_allclose(td, r + GAMMA * nv - v, rtol=1e-6)
    _, ret = compute_gae(r, v, nv, z, z, GAMMA, 1.0)
    R2 = 2 + 0.9 * 1.0
    R1 = 0 + 0.9 * R2
    R0 = 1 + 0.9 * R1
    np.testing.assert_allclose(ret, [R0, R1, R2], rtol=1e-6)
    np.testing.assert_allclose(n_step_returns(r, nv, z, z, GAMMA), [R0, R1, R2], rtol=1e-6)


def test_n_step_returns_across_episode_ends():
    # steps 0-1: an episode that terminates at step 1; step 2: truncated with V(final) = 4;
    # step 3: the rollout ends mid-episode, bootstrapping from V = 2
    r = np.array([1.0, 1.0, 1.0, 1.0])
    nv = np.array([9.0, 9.0, 4.0, 2.0])  # 9s: the next step's value / after a terminal
    term = np.array([0.0, 1.0, 0.0, 0.0])
    trunc = np.array([0.0, 0.0, 1.0, 0.0])
    ret = n_step_returns(r, nv, term, trunc, 0.5)
    np.testing.assert_allclose(ret, [1 + 0.5 * 1, 1, 1 + 0.5 * 4, 1 + 0.5 * 2])


def test_discounted_returns_with_and_without_bootstrap():
    np.testing.assert_allclose(discounted_returns(np.array([1.0, 2.0, 3.0]), 0.5), [2.75, 3.5, 3])
    np.testing.assert_allclose(
        discounted_returns(np.array([1.0, 1.0]), 0.5, bootstrap=4.0), [2.5, 3.0]
    )


def test_shape_mismatch_names_the_argument():
    with pytest.raises(ValueError, match="values has shape \\(2,\\), expected \\(3,\\)"):
        compute_gae(np.zeros(3), np.zeros(2), np.zeros(3), np.zeros(3), np.zeros(3))


def test_rollout_buffer_uses_final_values_at_truncation_and_next_values_inside():
    """Two environments, three steps; env 0 truncates at step 1, env 1 terminates at step 0."""
    buf = RolloutBuffer(3, 2, obs_shape=(1,))
    values = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    rewards = np.ones((3, 2))
    term = np.array([[0, 1], [0, 0], [0, 0]], dtype=float)
    trunc = np.array([[0, 0], [1, 0], [0, 0]], dtype=float)
    final = np.array([[0, 0], [8.0, 0], [0, 0]])  # V(final obs) of env 0's truncated episode
    for t in range(3):
        buf.add(
            np.zeros((2, 1)),
            np.zeros(2),
            np.zeros(2),
            rewards[t],
            term[t],
            trunc[t],
            values[t],
            final[t],
        )
    with pytest.raises(RuntimeError, match="already holds 3 steps"):
        buf.add(
            np.zeros((2, 1)), np.zeros(2), np.zeros(2), rewards[0], term[0], trunc[0], values[0]
        )
    last = np.array([7.0, 9.0])
    nxt = buf.next_values(last)
    np.testing.assert_allclose(nxt, [[3.0, 0.0], [8.0, 6.0], [7.0, 9.0]])
    buf.compute_returns_and_advantages(last, GAMMA, LAM)
    expected, _ = compute_gae(rewards, values, nxt, term, trunc, GAMMA, LAM)
    np.testing.assert_allclose(buf.advantages, expected)
    np.testing.assert_allclose(buf.returns, expected + values, rtol=1e-6)
    # env 0, step 1: truncated -> r + gamma * V(final) - V, no carry from step 2
    assert buf.advantages[1, 0] == pytest.approx(1 + 0.9 * 8 - 3)
    data = buf.data()
    assert data["obs"].shape == (6, 1) and data["returns"].shape == (6,)
    batches = list(buf.minibatches(4, np.random.default_rng(0)))
    assert [len(b["returns"]) for b in batches] == [4, 2]
    assert sorted(np.concatenate([b["values"] for b in batches])) == sorted(values.ravel())
