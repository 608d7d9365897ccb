"""Training does not leak: the graph is freed after each step and RSS stays flat."""

import gc
import os

import numpy as np

import mytorch.core as mt
import mytorch.core.functional as F
from mytorch.core.autograd import Function
from mytorch.core.optim import SGD


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _small_model(seed: int = 0):
    rng = np.random.default_rng(seed)
    w1 = mt.tensor(rng.standard_normal((32, 16)) * 0.2, requires_grad=True)
    b1 = mt.zeros(32, requires_grad=True)
    w2 = mt.tensor(rng.standard_normal((4, 32)) * 0.2, requires_grad=True)
    b2 = mt.zeros(4, requires_grad=True)
    x = mt.tensor(rng.standard_normal((64, 16)))
    y = mt.tensor(rng.integers(0, 4, 64))
    params = [w1, b1, w2, b2]
    opt = SGD(params, lr=0.05, momentum=0.9)

    def step() -> float:
        h = F.relu(F.linear(x, w1, b1))
        loss = F.cross_entropy(F.linear(h, w2, b2), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return step


def _live_graph_objects() -> int:
    gc.collect()
    return sum(issubclass(type(o), (mt.Tensor, Function)) for o in gc.get_objects())


def test_no_graph_objects_survive_a_training_step():
    step = _small_model()
    step()  # creates the optimizer state and the .grad tensors once
    before = _live_graph_objects()
    for _ in range(5):
        step()
    assert _live_graph_objects() == before


def test_ten_thousand_steps_do_not_grow_rss():
    step = _small_model()
    for _ in range(500):  # warm-up: allocator pools and caches settle
        first = step()
    gc.collect()
    start = _rss_bytes()
    for _ in range(10_000):
        last = step()
    gc.collect()
    growth = _rss_bytes() - start
    assert last < first  # it trained
    assert growth < 8 * 2**20, f"RSS grew by {growth / 2**20:.1f} MiB over 10,000 steps"
