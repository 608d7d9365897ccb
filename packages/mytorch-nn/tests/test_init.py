"""nn.init: distributions, gains, fans, in-place and no-grad behaviour; layers' default init."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mytorch.core as mt
import mytorch.nn as nn
from mytorch.nn import init

NONLINEARITIES = [
    ("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None),
    ("conv_transpose1d", None), ("conv_transpose2d", None), ("conv_transpose3d", None),
    ("sigmoid", None), ("tanh", None), ("relu", None), ("leaky_relu", None),
    ("leaky_relu", 0.2), ("leaky_relu", 3), ("leaky_relu", math.sqrt(5)), ("selu", None),
]  # fmt: skip


@pytest.mark.parametrize("nonlinearity, param", NONLINEARITIES)
def test_calculate_gain_matches_torch(torch, nonlinearity, param):
    expected = torch.nn.init.calculate_gain(nonlinearity, param)
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(expected, rel=1e-12)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity softsign"):
        init.calculate_gain("softsign")
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        init.calculate_gain("leaky_relu", True)


@pytest.mark.parametrize("shape", [(5, 3), (8, 4, 3), (6, 2, 3, 3), (4, 3, 2, 2, 2), (7, 1)])
def test_fans_match_torch(torch, shape):
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init._calculate_fan_in_and_fan_out(mt.empty(*shape)) == expected
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(mt.empty(3))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(mt.empty(*shape), mode="fan_avg")


def _sample(fn, shape=(400, 500), **kwargs) -> tuple[mt.Tensor, np.ndarray]:
    mt.manual_seed(1234)  # deterministic samples: the statistical bounds below never flake
    t = mt.empty(*shape)
    out = fn(t, **kwargs)
    assert out is t  # in place, returns its argument
    return t, t.data.astype(np.float64)


def _check_uniform(a: np.ndarray, lo: float, hi: float) -> None:
    assert a.min() >= lo and a.max() <= hi
    assert a.min() < lo + (hi - lo) * 1e-3 and a.max() > hi - (hi - lo) * 1e-3
    n = a.size  # tolerances: 5 standard errors of the sample mean and sample std
    assert a.mean() == pytest.approx((lo + hi) / 2, abs=5 * (hi - lo) / math.sqrt(12 * n))
    assert a.std() == pytest.approx((hi - lo) / math.sqrt(12), rel=5 * math.sqrt(0.2 / n))


def _check_normal(a: np.ndarray, mean: float, std: float) -> None:
    n = a.size  # tolerances: 5 standard errors of the sample mean and sample std
    assert a.mean() == pytest.approx(mean, abs=5 * std / math.sqrt(n))
    assert a.std() == pytest.approx(std, rel=5 / math.sqrt(2 * n))


def test_uniform_and_normal():
    _check_uniform(_sample(init.uniform_)[1], 0, 1)
    _check_uniform(_sample(init.uniform_, a=-3, b=2)[1], -3, 2)
    _check_normal(_sample(init.normal_)[1], 0, 1)
    _check_normal(_sample(init.normal_, mean=2.0, std=0.5)[1], 2.0, 0.5)


def _trunc_moments(mean, std, a, b) -> tuple[float, float]:
    alpha, beta = (a - mean) / std, (b - mean) / std
    pdf = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda z: (1 + math.erf(z / math.sqrt(2))) / 2  # noqa: E731
    z = cdf(beta) - cdf(alpha)
    m = mean + std * (pdf(alpha) - pdf(beta)) / z
    var = std**2 * (
        1 + (alpha * pdf(alpha) - beta * pdf(beta)) / z - ((pdf(alpha) - pdf(beta)) / z) ** 2
    )
    return m, math.sqrt(var)


@pytest.mark.parametrize("mean, std, a, b", [(0, 1, -2, 2), (0.5, 0.02, 0.46, 0.6), (0, 1, 0, 3)])
def test_trunc_normal(mean, std, a, b):
    _, values = _sample(init.trunc_normal_, mean=mean, std=std, a=a, b=b)
    assert values.min() >= a and values.max() <= b
    exp_mean, exp_std = _trunc_moments(mean, std, a, b)
    assert values.mean() == pytest.approx(exp_mean, abs=exp_std * 0.01)
    assert values.std() == pytest.approx(exp_std, rel=0.01)


def test_constant_ones_zeros_eye_dirac(torch):
    t = mt.empty(3, 4)
    assert init.constant_(t, 0.3).tolist() == [[pytest.approx(0.3)] * 4] * 3
    assert init.ones_(t).tolist() == [[1.0] * 4] * 3
    assert init.zeros_(t).tolist() == [[0.0] * 4] * 3
    np.testing.assert_array_equal(init.eye_(t).data, np.eye(3, 4))
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        init.eye_(mt.empty(2, 2, 2))
    for shape, groups in [((4, 2, 3), 1), ((6, 3, 3, 3), 2), ((2, 2, 3, 3, 3), 1)]:
        ours = init.dirac_(mt.empty(*shape), groups)
        theirs = torch.nn.init.dirac_(torch.empty(shape), groups)
        np.testing.assert_array_equal(ours.data, theirs.numpy())
    with pytest.raises(ValueError, match="3, 4, or 5 dimensions"):
        init.dirac_(mt.empty(2, 2))


@pytest.mark.parametrize("shape", [(300, 200), (64, 32, 3, 3)])
@pytest.mark.parametrize("gain", [1.0, 2.0])
def test_xavier(shape, gain):
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(mt.empty(*shape))
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    _check_uniform(_sample(init.xavier_uniform_, shape, gain=gain)[1], -std * 3**0.5, std * 3**0.5)
    _check_normal(_sample(init.xavier_normal_, shape, gain=gain)[1], 0, std)


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("nonlinearity, a", [("leaky_relu", 0), ("relu", 0), ("leaky_relu", 0.2)])
def test_kaiming(mode, nonlinearity, a):
    shape = (128, 64, 3, 3)
    fan = 64 * 9 if mode == "fan_in" else 128 * 9
    std = init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    kw = dict(a=a, mode=mode, nonlinearity=nonlinearity)
    _check_uniform(_sample(init.kaiming_uniform_, shape, **kw)[1], -std * 3**0.5, std * 3**0.5)
    _check_normal(_sample(init.kaiming_normal_, shape, **kw)[1], 0, std)
    with pytest.warns(UserWarning, match="zero-element"):
        init.kaiming_uniform_(mt.empty(0, 3))


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 2, 3)])
def test_orthogonal(shape):
    t = init.orthogonal_(mt.empty(*shape), gain=2.0)
    flat = t.data.reshape(shape[0], -1).astype(np.float64) / 2.0
    rows, cols = flat.shape
    gram = flat @ flat.T if rows <= cols else flat.T @ flat
    np.testing.assert_allclose(gram, np.eye(min(rows, cols)), atol=1e-5)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(mt.empty(3))


def test_sparse():
    t = init.sparse_(mt.empty(10, 200), sparsity=0.3, std=0.05)
    zeros_per_column = (t.data == 0).sum(0)
    assert np.all(zeros_per_column == 3)
    nonzero = t.data[t.data != 0].astype(np.float64)
    assert nonzero.std() == pytest.approx(0.05, rel=0.05)


def test_init_runs_without_grad_on_parameters():
    p = nn.Parameter(mt.empty(20, 30))
    v = p._version
    init.kaiming_uniform_(p, a=math.sqrt(5))
    init.normal_(p)
    init.trunc_normal_(p, std=0.02)
    init.orthogonal_(p)
    assert p.requires_grad and p.grad_fn is None and p._version == v + 4


def test_generator_and_manual_seed_reproduce():
    g = mt.Generator(3)
    a = init.normal_(mt.empty(5), generator=g).tolist()
    g.manual_seed(3)
    assert init.normal_(mt.empty(5), generator=g).tolist() == a
    mt.manual_seed(42)
    m1 = nn.Sequential(nn.Linear(4, 3), nn.Embedding(5, 2), nn.Bilinear(2, 3, 4))
    mt.manual_seed(42)
    m2 = nn.Sequential(nn.Linear(4, 3), nn.Embedding(5, 2), nn.Bilinear(2, 3, 4))
    for (k, v1), v2 in zip(m1.state_dict().items(), m2.state_dict().values()):
        np.testing.assert_array_equal(v1.data, v2.data, err_msg=k)


def _torch_stats(torch, make, name):
    torch.manual_seed(0)
    return getattr(make(torch.nn), name).detach().numpy().astype(np.float64)


@pytest.mark.parametrize(
    "make, name, kind",
    [
        (lambda m: m.Linear(256, 300), "weight", "uniform"),
        (lambda m: m.Linear(256, 3000), "bias", "uniform"),
        (lambda m: m.Bilinear(64, 8, 100), "weight", "uniform"),
        (lambda m: m.Bilinear(64, 8, 3000), "bias", "uniform"),
        (lambda m: m.Embedding(300, 200), "weight", "normal"),
        (lambda m: m.PReLU(3, init=0.3), "weight", "constant"),
    ],
)
def test_default_init_matches_torch_distribution(torch, make, name, kind):
    mt.manual_seed(0)
    ours = getattr(make(nn), name).data.astype(np.float64)
    theirs = _torch_stats(torch, make, name)
    assert ours.shape == theirs.shape
    if kind == "constant":
        np.testing.assert_array_equal(ours, theirs)
        return
    if kind == "uniform":  # the same bounds: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
        assert abs(ours).max() <= abs(theirs).max() * 1.001 + 1e-7
        assert abs(ours).max() >= abs(theirs).max() * 0.99
    assert ours.mean() == pytest.approx(theirs.mean(), abs=theirs.std() * 0.05)
    assert ours.std() == pytest.approx(theirs.std(), rel=0.03)
