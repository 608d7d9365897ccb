"""Replay buffers: ring-buffer storage, uniform sampling, proportional prioritized sampling and
its importance weights, checkpoint state."""

import numpy as np
import pytest

from mytorch.rl import PrioritizedReplayBuffer, ReplayBuffer, SumTree


def fill(buf, n, start=0):
    """Transitions whose every field encodes its index i: obs = [i, i], action i % 3, reward i."""
    i = np.arange(start, start + n, dtype=np.float32)
    return buf.add(
        np.stack([i, i], 1),
        (i % 3).astype(np.int64),
        i,
        np.stack([i, i], 1) + 1,
        (i % 2 == 0).astype(np.float32),
    )


def test_ring_buffer_overwrites_the_oldest_and_keeps_fields_aligned():
    buf = ReplayBuffer(5, obs_shape=(2,))
    slots = fill(buf, 3)
    assert slots.tolist() == [0, 1, 2] and len(buf) == 3
    slots = fill(buf, 4, start=3)  # 3, 4 go to slots 3, 4; 5, 6 overwrite slots 0, 1
    assert slots.tolist() == [3, 4, 0, 1] and len(buf) == 5 and buf.pos == 2
    assert sorted(buf.rewards.tolist()) == [2, 3, 4, 5, 6]
    batch = buf.sample(50, np.random.default_rng(0))
    np.testing.assert_array_equal(batch.obs[:, 0], batch.rewards)
    np.testing.assert_array_equal(batch.next_obs[:, 0], batch.rewards + 1)
    np.testing.assert_array_equal(batch.actions, batch.rewards.astype(int) % 3)
    np.testing.assert_array_equal(batch.terminated, (batch.rewards % 2 == 0))
    np.testing.assert_array_equal(batch.weights, np.ones(50))


def test_uniform_sampling_distribution():
    buf = ReplayBuffer(10, obs_shape=(2,))
    fill(buf, 10)
    batch = buf.sample(20_000, np.random.default_rng(1))
    counts = np.bincount(batch.rewards.astype(int), minlength=10) / 20_000
    # each of the 10 transitions has probability 0.1; 5 sigma of a binomial proportion
    assert np.all(np.abs(counts - 0.1) < 5 * np.sqrt(0.1 * 0.9 / 20_000))


def test_add_rejects_bad_shapes_naming_the_field():
    buf = ReplayBuffer(4, obs_shape=(2,))
    with pytest.raises(ValueError, match=r"obs must have shape \(N, \*\(2,\)\), got \(1, 3\)"):
        buf.add(np.zeros((1, 3)), np.zeros(1), np.zeros(1), np.zeros((1, 3)), np.zeros(1))
    with pytest.raises(ValueError, match=r"rewards must have shape \(1,\), got \(2,\)"):
        buf.add(np.zeros((1, 2)), np.zeros(1), np.zeros(2), np.zeros((1, 2)), np.zeros(1))
    with pytest.raises(ValueError, match="empty"):
        buf.sample(1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="capacity must be positive"):
        ReplayBuffer(0, obs_shape=(2,))


def test_sum_tree_sums_and_prefix_search():
    tree = SumTree(5)  # 8 leaves
    tree.update(np.arange(5), np.array([1.0, 2.0, 3.0, 4.0, 0.0]))
    assert tree.total == 10.0
    # leaf i covers [sum(p[:i]), sum(p[:i+1])): [0,1) [1,3) [3,6) [6,10)
    prefixes = np.array([0.0, 0.99, 1.0, 2.9, 3.0, 5.99, 6.0, 9.99])
    assert tree.find(prefixes).tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    tree.update(np.array([1, 1]), np.array([5.0, 5.0]))  # a repeated index
    assert tree.total == 13.0 and tree[np.array([1])].tolist() == [5.0]


def test_prioritized_sampling_follows_priorities_to_the_alpha():
    alpha = 0.7
    buf = PrioritizedReplayBuffer(4, obs_shape=(2,), alpha=alpha, eps=0.0)
    fill(buf, 4)
    td = np.array([1.0, 2.0, 3.0, 4.0])
    buf.update_priorities(np.arange(4), td)
    expected = td**alpha / (td**alpha).sum()
    np.testing.assert_allclose(buf.probabilities(), expected)
    rng = np.random.default_rng(0)
    counts = np.zeros(4)
    n = 0
    for _ in range(500):
        batch = buf.sample(40, rng, beta=0.5)
        counts += np.bincount(batch.indices, minlength=4)
        n += 40
    assert np.all(np.abs(counts / n - expected) < 0.01)


def test_prioritized_importance_weights_are_normalized_by_the_largest():
    buf = PrioritizedReplayBuffer(4, obs_shape=(2,), alpha=1.0, eps=0.0)
    fill(buf, 4)
    buf.update_priorities(np.arange(4), np.array([1.0, 2.0, 3.0, 4.0]))
    beta = 0.6
    batch = buf.sample(400, np.random.default_rng(3), beta=beta)
    p = np.array([0.1, 0.2, 0.3, 0.4])
    w = (4 * p) ** -beta
    w /= w.max()  # the rarest transition has weight 1
    np.testing.assert_allclose(batch.weights, w[batch.indices], rtol=1e-6)
    assert batch.weights.max() <= 1.0
    # beta = 1 fully compensates: weights proportional to 1 / P(i)
    full = buf.sample(8, np.random.default_rng(4), beta=1.0)
    np.testing.assert_allclose(full.weights, p.min() / p[full.indices], rtol=1e-6)


def test_new_transitions_get_the_largest_priority_so_far():
    buf = PrioritizedReplayBuffer(8, obs_shape=(2,), alpha=1.0, eps=0.0)
    fill(buf, 2)
    buf.update_priorities(np.array([0, 1]), np.array([5.0, 0.5]))
    fill(buf, 1, start=2)
    np.testing.assert_allclose(buf.probabilities(), np.array([5.0, 0.5, 5.0]) / 10.5)


@pytest.mark.parametrize("cls", [ReplayBuffer, PrioritizedReplayBuffer])
def test_state_dict_round_trip(cls):
    buf = cls(6, obs_shape=(2,))
    fill(buf, 8)
    if cls is PrioritizedReplayBuffer:
        buf.update_priorities(np.arange(6), np.arange(6) + 1.0)
    copy = cls(6, obs_shape=(2,))
    copy.load_state_dict(buf.state_dict())
    a = buf.sample(16, np.random.default_rng(5))
    b = copy.sample(16, np.random.default_rng(5))
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.obs, b.obs)
    np.testing.assert_array_equal(a.weights, b.weights)
    assert copy.pos == buf.pos == 2
    with pytest.raises(ValueError, match="capacity 6 saved"):
        cls(7, obs_shape=(2,)).load_state_dict(buf.state_dict())
