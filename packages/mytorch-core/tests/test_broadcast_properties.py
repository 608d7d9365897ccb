"""Property tests: binary ops on any pair of broadcastable shapes.

Values must equal NumPy's; each input's gradient must equal the analytic local derivative,
broadcast to the output shape, multiplied by the upstream gradient and summed back to the
input's shape (the adjoint of broadcasting).
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import mytorch.core as mt

# name -> (NumPy forward, d out / d a, d out / d b); DOMAINS keeps div and pow smooth
OPS = {
    "add": (np.add, lambda a, b: np.ones_like(a * b), lambda a, b: np.ones_like(a * b)),
    "sub": (np.subtract, lambda a, b: np.ones_like(a * b), lambda a, b: -np.ones_like(a * b)),
    "mul": (np.multiply, lambda a, b: b + 0 * a, lambda a, b: a + 0 * b),
    "div": (np.divide, lambda a, b: 1 / b + 0 * a, lambda a, b: -a / b**2),
    "pow": (np.power, lambda a, b: b * a ** (b - 1), lambda a, b: a**b * np.log(a)),
    "maximum": (np.maximum, lambda a, b: (a > b) + 0.0, lambda a, b: (b > a) + 0.0),
    "minimum": (np.minimum, lambda a, b: (a < b) + 0.0, lambda a, b: (b < a) + 0.0),
}
DOMAINS = {"div": ((-2, 2), (0.5, 2)), "pow": ((0.5, 2), (-2, 2))}

SHAPE_PAIRS = mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4)
SETTINGS = settings(max_examples=50, deadline=None)
QUICK = settings(max_examples=15, deadline=None)
WITH_FIXTURE = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _sum_to(g: np.ndarray, shape: tuple) -> np.ndarray:
    """NumPy reference for the adjoint of broadcasting ``shape`` to ``g.shape``."""
    lead = g.ndim - len(shape)
    g = g.sum(axis=tuple(range(lead))) if lead else g
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and g.shape[i] != 1)
    return g.sum(axis=axes, keepdims=True) if axes else g


def _inputs(name: str, shapes, seed: int) -> tuple:
    rng = np.random.default_rng(seed)
    (la, ha), (lb, hb) = DOMAINS.get(name, ((-2, 2), (-2, 2)))
    a = rng.uniform(la, ha, shapes.input_shapes[0])
    b = rng.uniform(lb, hb, shapes.input_shapes[1])
    return np.asarray(a), np.asarray(b)


@pytest.mark.parametrize("name", sorted(OPS))
@SETTINGS
@given(shapes=SHAPE_PAIRS, seed=st.integers(0, 2**32 - 1))
def test_values_and_gradients_follow_the_broadcasting_rule(name, shapes, seed):
    forward, da_rule, db_rule = OPS[name]
    a, b = _inputs(name, shapes, seed)
    x = mt.tensor(a, dtype=mt.float64, requires_grad=True)
    y = mt.tensor(b, dtype=mt.float64, requires_grad=True)
    out = getattr(mt, name)(x, y)

    assert out.shape == shapes.result_shape == np.broadcast_shapes(a.shape, b.shape)
    assert out.dtype == mt.float64
    np.testing.assert_allclose(out.data, forward(a, b), rtol=1e-12)

    v = np.random.default_rng(seed + 1).standard_normal(out.shape)
    out.backward(mt.tensor(v, dtype=mt.float64))
    assert x.grad.shape == a.shape and y.grad.shape == b.shape
    np.testing.assert_allclose(
        x.grad.data, _sum_to(v * da_rule(a, b), a.shape), rtol=1e-9, atol=1e-12
    )
    np.testing.assert_allclose(
        y.grad.data, _sum_to(v * db_rule(a, b), b.shape), rtol=1e-9, atol=1e-12
    )


@pytest.mark.parametrize("name", sorted(OPS))
@QUICK
@given(shapes=SHAPE_PAIRS, seed=st.integers(0, 2**32 - 1))
def test_float32_stays_float32_with_python_scalars(name, shapes, seed):
    a, _ = _inputs(name, shapes, seed)
    x = mt.tensor(a)  # float32
    scalar = 1.5
    for out in (getattr(mt, name)(x, scalar), getattr(mt, name)(scalar, mt.abs(x) + 0.5)):
        assert out.dtype == mt.float32
        assert out.shape == a.shape


@pytest.mark.parametrize("name", sorted(OPS))
@WITH_FIXTURE
@given(shapes=SHAPE_PAIRS, seed=st.integers(0, 2**32 - 1))
def test_matches_torch_on_broadcast_shapes(torch, name, shapes, seed):
    a, b = _inputs(name, shapes, seed)
    a, b = a.astype(np.float32), b.astype(np.float32)
    x, y = mt.tensor(a, requires_grad=True), mt.tensor(b, requires_grad=True)
    tx = torch.tensor(a, requires_grad=True)
    ty = torch.tensor(b, requires_grad=True)
    out, want = getattr(mt, name)(x, y), getattr(torch, name)(tx, ty)
    assert out.shape == tuple(want.shape) and out.dtype == want.detach().numpy().dtype
    np.testing.assert_allclose(out.data, want.detach().numpy(), rtol=1e-5, atol=1e-6)
    v = np.random.default_rng(seed).standard_normal(out.shape).astype(np.float32)
    out.backward(mt.tensor(v))
    want.backward(torch.from_numpy(v))
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(y.grad.data, ty.grad.numpy(), rtol=1e-4, atol=1e-5)
