"""observe_ops: a callback sees every op's forward, with and without grad mode, until removed."""

from __future__ import annotations

import numpy as np

import mytorch.core as mt
from mytorch.core.autograd import _OBSERVERS, observe_ops


def test_observer_sees_class_ctx_arrays_and_outputs():
    seen = []

    def observer(cls, ctx, arrays, kwargs, outputs):
        seen.append((cls.__name__, [np.shape(a) for a in arrays], np.shape(outputs)))

    a = mt.ones(2, 3, requires_grad=True)
    with observe_ops(observer):
        y = (a @ mt.ones(3, 4)).relu()
        with mt.no_grad():
            mt.ones(5) + 1
    assert seen[0] == ("MatMul", [(2, 3), (3, 4)], (2, 4))
    assert seen[1] == ("Relu", [(2, 4)], (2, 4))
    assert seen[2][0] == "Add"  # ops under no_grad are observed too
    assert y.grad_fn is not None  # observing changes nothing about the graph


def test_multi_output_ops_pass_the_tuple_and_removal_stops_observing():
    seen = []
    handle = observe_ops(lambda cls, ctx, arrays, kwargs, out: seen.append((cls.__name__, out)))
    mt.ones(4, 2).split(2)
    handle.remove()
    handle.remove()  # a second remove is harmless
    mt.ones(3) * 2
    assert [name for name, _ in seen] == ["Split"]
    assert isinstance(seen[0][1], tuple) and len(seen[0][1]) == 2
    assert not _OBSERVERS


def test_ctx_carries_what_forward_stored():
    geoms = []
    with observe_ops(
        lambda cls, ctx, arrays, kwargs, out: geoms.append(getattr(ctx, "geom", None))
    ):
        mt.conv2d(mt.ones(1, 2, 5, 5), mt.ones(4, 1, 3, 3), stride=2, padding=1, groups=2)
    assert geoms[-1] == (2, 2, 1, 1, 1, 1, 2)
