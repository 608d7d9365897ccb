import numpy as np

import mytorch.core as mt
from mytorch.core.testing import assert_matches_torch, gradcheck


def test_chain_rule_through_broadcast():
    x = mt.randn(3, 4, dtype=mt.float64, requires_grad=True)
    y = mt.randn(4, dtype=mt.float64, requires_grad=True)
    assert gradcheck(lambda a, b: (a * b + a).exp(), (x, y))


def test_matches_torch(torch):
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    y = np.random.default_rng(1).standard_normal((4,)).astype(np.float32)
    assert_matches_torch(lambda a, b: (a * b - a).exp().sum(0), x, y)
