"""PPO, A2C, REINFORCE and DQN loss pieces on fixed batches against hand-computed values."""

import math

import numpy as np
import pytest

import mytorch.core as mt
from mytorch.rl import (
    a2c_loss,
    normalize_advantages,
    ppo_policy_loss,
    ppo_value_loss,
    reinforce_loss,
    td_targets,
)


def t(values):
    return mt.tensor(values, dtype=mt.float32)


def test_ppo_policy_loss_by_hand():
    # ratios exp(new - old) = [1.5, 0.5, 1.1, 0.7]; clip range 0.2
    old = np.zeros(4)
    new = np.log([1.5, 0.5, 1.1, 0.7])
    adv = [2.0, 1.0, -1.0, -3.0]
    new_lp = mt.tensor(new.tolist(), requires_grad=True)
    loss, kl, clipfrac = ppo_policy_loss(new_lp, t(old.tolist()), t(adv), 0.2)
    # per sample max(-A r, -A clip(r)):
    #  A=2,  r=1.5: max(-3, -2.4) = -2.4 (clipped: no gradient)
    #  A=1,  r=0.5: max(-0.5, -0.8) = -0.5 (unclipped)
    #  A=-1, r=1.1: max(1.1, 1.1) = 1.1 (inside the range)
    #  A=-3, r=0.7: max(2.1, 2.4) = 2.4 (clipped)
    assert loss.item() == pytest.approx((-2.4 - 0.5 + 1.1 + 2.4) / 4, rel=1e-6)
    r = np.array([1.5, 0.5, 1.1, 0.7])
    assert kl == pytest.approx(np.mean((r - 1) - np.log(r)), rel=1e-5)
    assert clipfrac == pytest.approx(3 / 4)  # |r - 1| > 0.2 for 1.5, 0.5, 0.7
    loss.backward()
    # d/d(new_lp) of -A r / 4 = -A r / 4 where unclipped, 0 where the clipped term wins
    np.testing.assert_allclose(new_lp.grad.numpy(), [0, -0.5 / 4, 1.1 / 4, 0], rtol=1e-5, atol=1e-7)


def test_ppo_value_loss_by_hand_with_and_without_clipping():
    new = t([1.0, 3.0, 0.0])
    old = t([0.0, 2.9, 1.0])
    ret = t([2.0, 2.0, 0.5])
    plain = ppo_value_loss(new, old, ret)
    assert plain.item() == pytest.approx(0.5 * (1 + 1 + 0.25) / 3)
    clipped = ppo_value_loss(new, old, ret, clip_coef=0.5)
    # clipped values old + clip(new - old, -0.5, 0.5) = [0.5, 3.0, 0.5]
    # max of squared errors: max(1, 2.25)=2.25, max(1, 1)=1, max(0.25, 0)=0.25
    assert clipped.item() == pytest.approx(0.5 * (2.25 + 1 + 0.25) / 3)


def test_normalize_advantages_uses_the_unbiased_std():
    a = np.array([1.0, 2.0, 3.0, 6.0], dtype=np.float32)
    out = normalize_advantages(a)
    np.testing.assert_allclose(out, (a - 3) / (np.std(a, ddof=1) + 1e-8), rtol=1e-6)
    assert normalize_advantages(np.array([5.0])).tolist() == [0.0]


def test_a2c_and_reinforce_losses_by_hand():
    log_prob = t([math.log(0.5), math.log(0.25)])
    entropy = t([0.6, 0.4])
    values = t([1.0, 2.0])
    adv = t([2.0, -1.0])
    returns = t([3.0, 1.0])
    total, pg, v = a2c_loss(log_prob, entropy, values, adv, returns, ent_coef=0.1, vf_coef=0.5)
    expected_pg = -(2 * math.log(0.5) - math.log(0.25)) / 2
    assert pg.item() == pytest.approx(expected_pg, rel=1e-6)
    assert v.item() == pytest.approx((4 + 1) / 2)
    assert total.item() == pytest.approx(expected_pg - 0.1 * 0.5 + 0.5 * 2.5, rel=1e-6)
    pg2, v2 = reinforce_loss(log_prob, adv, values, returns)
    assert pg2.item() == pytest.approx(expected_pg, rel=1e-6) and v2.item() == pytest.approx(2.5)
    assert reinforce_loss(log_prob, adv, None, returns)[1].item() == 0.0


def test_td_targets_dqn_and_double_dqn():
    q_target = t([[1.0, 5.0], [2.0, 0.0], [3.0, 4.0]])
    q_online = t([[9.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    rewards = t([1.0, 1.0, 1.0])
    terminated = t([0.0, 0.0, 1.0])
    dqn = td_targets(q_target, rewards, terminated, 0.9)
    np.testing.assert_allclose(dqn.numpy(), [1 + 0.9 * 5, 1 + 0.9 * 2, 1], rtol=1e-6)
    double = td_targets(q_target, rewards, terminated, 0.9, q_online)
    # the online argmax picks actions [0, 1, 1]; the target network values them
    np.testing.assert_allclose(double.numpy(), [1 + 0.9 * 1, 1 + 0.9 * 0, 1], rtol=1e-6)
