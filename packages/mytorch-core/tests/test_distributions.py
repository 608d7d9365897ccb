"""Categorical and Normal: closed forms, sampling moments, shapes, validation errors, gradients,
and parity with torch.distributions."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mytorch.core as mt
from mytorch.core.distributions import Categorical, Normal, kl_divergence
from mytorch.core.testing import assert_matches_torch, gradcheck, gradgradcheck

LOGITS = np.array([[0.5, -1.0, 2.0], [0.0, 0.0, 0.0]], dtype=np.float32)


# ---------------------------------------------------------------- Categorical
def test_categorical_from_logits_closed_forms():
    d = Categorical(logits=mt.tensor(LOGITS))
    p = np.exp(LOGITS) / np.exp(LOGITS).sum(-1, keepdims=True)
    assert d.batch_shape == (2,) and d.event_shape == () and d.param_shape == (2, 3)
    np.testing.assert_allclose(d.probs.numpy(), p, rtol=1e-6)
    np.testing.assert_allclose(d.logits.numpy(), np.log(p), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        d.log_prob(mt.tensor([2, 1])).numpy(), np.log([p[0, 2], p[1, 1]]), rtol=1e-5
    )
    np.testing.assert_allclose(d.entropy().numpy(), -(p * np.log(p)).sum(-1), rtol=1e-5)
    assert d.entropy().numpy()[1] == pytest.approx(math.log(3))
    assert d.mode.tolist() == [2, 0]
    assert np.isnan(d.mean.numpy()).all() and d.mean.shape == (2,)


def test_categorical_from_probs_normalizes():
    d = Categorical(probs=mt.tensor([2.0, 6.0]))
    np.testing.assert_allclose(d.probs.numpy(), [0.25, 0.75])
    assert d.log_prob(mt.tensor(1)).item() == pytest.approx(math.log(0.75))
    assert d.entropy().item() == pytest.approx(-(0.25 * math.log(0.25) + 0.75 * math.log(0.75)))


def test_categorical_zero_probability_has_finite_entropy():
    d = Categorical(probs=mt.tensor([0.0, 1.0]))
    assert d.entropy().item() == pytest.approx(0.0, abs=1e-6)


def test_categorical_sampling_frequencies_and_shapes():
    mt.manual_seed(0)
    p = np.array([0.1, 0.2, 0.7])
    d = Categorical(probs=mt.tensor(p.astype(np.float32)))
    s = d.sample((20_000,))
    assert s.shape == (20_000,) and s.dtype == mt.int64
    freq = np.bincount(s.numpy(), minlength=3) / 20_000
    assert np.all(np.abs(freq - p) < 5 * np.sqrt(p * (1 - p) / 20_000))
    batched = Categorical(logits=mt.tensor(LOGITS))
    assert batched.sample().shape == (2,) and batched.sample((4, 5)).shape == (4, 5, 2)
    # degenerate rows are sampled exactly
    sure = Categorical(probs=mt.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]))
    assert sure.sample((50,)).numpy().tolist() == [[1, 2]] * 50


def test_categorical_log_prob_broadcasts_values_over_the_batch():
    d = Categorical(logits=mt.tensor(LOGITS))
    values = mt.tensor([[0, 1], [2, 2], [1, 0]])  # (3, 2): sample_shape (3,) + batch (2,)
    lp = d.log_prob(values)
    assert lp.shape == (3, 2)
    full = np.log(d.probs.numpy())
    np.testing.assert_allclose(lp.numpy(), full[[0, 1], values.numpy()], rtol=1e-5)
    assert d.log_prob(mt.tensor(1)).shape == (2,)


def test_categorical_validation_errors():
    with pytest.raises(ValueError, match="Either `probs` or `logits` must be specified"):
        Categorical()
    with pytest.raises(ValueError, match="Either `probs` or `logits`"):
        Categorical(probs=mt.tensor([0.5, 0.5]), logits=mt.tensor([0.0, 0.0]))
    with pytest.raises(ValueError, match="`probs` parameter must be at least one-dimensional"):
        Categorical(probs=mt.tensor(1.0))
    with pytest.raises(ValueError, match=r"Expected parameter probs .* Simplex\(\)"):
        Categorical(probs=mt.tensor([-0.5, 1.5]))
    with pytest.raises(ValueError, match=r"parameter logits .* invalid values"):
        Categorical(logits=mt.tensor([float("nan"), 0.0]))
    d = Categorical(logits=mt.tensor(LOGITS))
    with pytest.raises(ValueError, match=r"IntegerInterval\(lower_bound=0, upper_bound=2\)"):
        d.log_prob(mt.tensor([3, 0]))
    with pytest.raises(ValueError, match="not broadcastable with batch_shape"):
        d.log_prob(mt.tensor([0, 1, 2]))
    # validation off: no error at construction
    Categorical(probs=mt.tensor([-0.5, 1.5]), validate_args=False)


def test_categorical_gradients():
    logits = mt.tensor(LOGITS.tolist(), dtype=mt.float64, requires_grad=True)
    idx = mt.tensor([2, 0])
    assert gradcheck(lambda x: Categorical(logits=x).log_prob(idx), [logits])
    assert gradcheck(lambda x: Categorical(logits=x).entropy(), [logits])
    assert gradgradcheck(lambda x: Categorical(logits=x).entropy(), [logits])
    probs = mt.tensor([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]], dtype=mt.float64, requires_grad=True)
    assert gradcheck(lambda x: Categorical(probs=x).log_prob(idx), [probs])


def test_categorical_matches_torch(torch):
    idx = np.array([[2, 0], [1, 1]])

    def fn(logits, index):
        lib = torch if isinstance(logits, torch.Tensor) else None
        d = lib.distributions.Categorical(logits=logits) if lib else Categorical(logits=logits)
        return d.log_prob(index), d.entropy(), d.probs, d.logits

    assert_matches_torch(fn, LOGITS, idx)

    def fn_probs(probs, index):
        if isinstance(probs, torch.Tensor):
            d = torch.distributions.Categorical(probs=probs)
        else:
            d = Categorical(probs=probs)
        return d.log_prob(index), d.entropy()

    p = np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]], dtype=np.float32)
    assert_matches_torch(fn_probs, p, idx)


# ---------------------------------------------------------------- Normal
def test_normal_closed_forms():
    loc = mt.tensor([0.0, 1.0, -2.0])
    scale = mt.tensor([1.0, 0.5, 3.0])
    d = Normal(loc, scale)
    x = np.array([0.3, 1.5, 0.0], dtype=np.float32)
    l, s = loc.numpy(), scale.numpy()
    expected = -((x - l) ** 2) / (2 * s**2) - np.log(s) - 0.5 * np.log(2 * np.pi)
    np.testing.assert_allclose(d.log_prob(mt.tensor(x)).numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(
        d.entropy().numpy(), 0.5 + 0.5 * np.log(2 * np.pi) + np.log(s), rtol=1e-6
    )
    np.testing.assert_allclose(d.variance.numpy(), s**2)
    assert d.mean is loc and d.stddev is scale and d.mode is loc
    assert d.entropy().dtype == mt.float32


def test_normal_numbers_and_broadcasting():
    d = Normal(0.0, 1.0)
    assert d.batch_shape == () and d.loc.dtype == mt.float32
    assert d.entropy().item() == pytest.approx(0.5 * math.log(2 * math.pi * math.e))
    d2 = Normal(mt.zeros(2, 1), mt.ones(3))
    assert d2.batch_shape == (2, 3) and d2.sample((4,)).shape == (4, 2, 3)
    assert repr(d) == "Normal(loc: 0.0, scale: 1.0)"


def test_normal_sampling_moments():
    mt.manual_seed(1)
    d = Normal(mt.tensor([1.0, -3.0]), mt.tensor([2.0, 0.5]))
    s = d.sample((40_000,)).numpy()
    assert s.shape == (40_000, 2) and s.dtype == np.float32
    # 5 standard errors of the mean: 5 * sigma / sqrt(40,000)
    assert np.all(np.abs(s.mean(0) - [1.0, -3.0]) < 5 * np.array([2.0, 0.5]) / 200)
    np.testing.assert_allclose(s.std(0), [2.0, 0.5], rtol=0.02)
    assert not d.sample().requires_grad


def test_normal_rsample_carries_gradients_to_loc_and_scale():
    mt.manual_seed(2)
    loc = mt.tensor([0.5], requires_grad=True)
    scale = mt.tensor([2.0], requires_grad=True)
    x = Normal(loc, scale).rsample((1000,))
    x.mean().backward()
    assert loc.grad.item() == pytest.approx(1.0)
    eps = (x.detach().numpy() - 0.5) / 2.0
    assert scale.grad.item() == pytest.approx(eps.mean(), rel=1e-4)


def test_normal_validation_errors():
    with pytest.raises(ValueError, match=r"parameter scale .* GreaterThan\(lower_bound=0.0\)"):
        Normal(mt.zeros(2), mt.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match=r"parameter loc .* Real\(\)"):
        Normal(mt.tensor([float("nan")]), mt.ones(1))
    with pytest.raises(ValueError, match="numbers or Tensor"):
        Normal("a", 1.0)
    d = Normal(mt.zeros(3), mt.ones(3))
    with pytest.raises(ValueError, match="not broadcastable with batch_shape"):
        d.log_prob(mt.zeros(2))
    with pytest.raises(ValueError, match=r"within the support \(Real\(\)\)"):
        d.log_prob(mt.tensor([0.0, float("nan"), 0.0]))
    Normal(mt.zeros(1), -mt.ones(1), validate_args=False)


def test_normal_gradients():
    loc = mt.tensor([0.1, -0.4], dtype=mt.float64, requires_grad=True)
    scale = mt.tensor([0.7, 1.3], dtype=mt.float64, requires_grad=True)
    x = mt.tensor([0.5, 0.2], dtype=mt.float64, requires_grad=True)
    assert gradcheck(lambda a, b, v: Normal(a, b).log_prob(v), [loc, scale, x])
    assert gradgradcheck(lambda a, b, v: Normal(a, b).log_prob(v), [loc, scale, x])
    assert gradcheck(lambda a, b: Normal(a, b).entropy(), [loc, scale])


def test_normal_matches_torch(torch):
    loc = np.array([[0.0, 1.0], [2.0, -1.0]], dtype=np.float32)
    scale = np.array([[1.0, 0.5], [2.0, 0.3]], dtype=np.float32)
    x = np.array([[0.3, 0.9], [1.0, -1.2]], dtype=np.float32)

    def fn(a, b, v):
        if isinstance(a, torch.Tensor):
            d = torch.distributions.Normal(a, b)
        else:
            d = Normal(a, b)
        return d.log_prob(v), d.entropy(), d.variance, d.stddev

    assert_matches_torch(fn, loc, scale, x)


# ---------------------------------------------------------------- KL
def test_kl_divergence_closed_forms_and_torch(torch):
    p = Categorical(probs=mt.tensor([0.2, 0.8]))
    q = Categorical(probs=mt.tensor([0.5, 0.5]))
    expected = 0.2 * math.log(0.4) + 0.8 * math.log(1.6)
    assert kl_divergence(p, q).item() == pytest.approx(expected, rel=1e-5)
    assert kl_divergence(q, Categorical(probs=mt.tensor([0.0, 1.0]))).item() == math.inf
    a, b = Normal(mt.tensor([0.0]), mt.tensor([1.0])), Normal(mt.tensor([1.0]), mt.tensor([2.0]))
    kl = kl_divergence(a, b).item()
    assert kl == pytest.approx(math.log(2) + (1 + 1) / 8 - 0.5, rel=1e-5)
    tn = torch.distributions
    ref = tn.kl_divergence(
        tn.Normal(torch.tensor([0.0]), torch.tensor([1.0])),
        tn.Normal(torch.tensor([1.0]), torch.tensor([2.0])),
    )
    assert kl == pytest.approx(ref.item(), rel=1e-6)
    with pytest.raises(NotImplementedError, match="p type Categorical and q type Normal"):
        kl_divergence(p, a)
