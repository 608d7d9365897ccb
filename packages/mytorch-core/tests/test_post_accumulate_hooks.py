"""``Tensor.register_post_accumulate_grad_hook``: once per backward, after ``.grad`` is complete."""

from __future__ import annotations

import numpy as np
import pytest

import mytorch.core as mt
from mytorch.core import autograd


def test_hook_sees_the_accumulated_grad_once_for_a_leaf_used_many_times():
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    w.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.numpy().copy()))
    (w * w + w.exp() * 3 + w).sum().backward()  # three paths into w
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], 2 * w.data + 3 * np.exp(w.data) + 1, rtol=1e-6)


def test_hook_sees_grad_accumulated_over_backward_calls():
    w = mt.tensor([1.0, -1.0], requires_grad=True)
    seen = []
    w.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.tolist()))
    (w * 2).sum().backward()
    (w * 3).sum().backward()
    assert seen == [[2.0, 2.0], [5.0, 5.0]]


def test_hooks_fire_in_backward_order_before_it_ends():
    """The last layer's weight is ready first, while earlier layers' grads are still pending."""
    a = mt.randn(3, 3, requires_grad=True)
    b = mt.randn(3, 3, requires_grad=True)
    x = mt.randn(2, 3)
    order = []
    a.register_post_accumulate_grad_hook(lambda p: order.append(("a", b.grad is not None)))
    b.register_post_accumulate_grad_hook(lambda p: order.append(("b", a.grad is not None)))
    ((x @ a).tanh() @ b).sum().backward()
    assert order == [("b", False), ("a", True)]


def test_hook_on_root_leaf_and_on_unused_leaf():
    w = mt.tensor(3.0, requires_grad=True)
    unused = mt.tensor(1.0, requires_grad=True)
    seen = []
    w.register_post_accumulate_grad_hook(lambda p: seen.append("w"))
    unused.register_post_accumulate_grad_hook(lambda p: seen.append("unused"))
    w.backward()
    assert seen == ["w"] and w.grad.item() == 1.0


def test_hook_runs_when_a_branch_gets_no_gradient():
    """A backward that returns None for one input: the leaf's hook still runs, once."""

    class FirstOnly(mt.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, g):
            return g, None

    w = mt.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    w.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.tolist()))
    FirstOnly.apply(w * 2, (w * 5).exp()).sum().backward()
    assert seen == [[2.0, 2.0]]


def test_remove_and_autograd_grad_do_not_fire():
    w = mt.tensor([1.0], requires_grad=True)
    seen = []
    handle = w.register_post_accumulate_grad_hook(lambda p: seen.append(1))
    autograd.grad((w * w).sum(), w)
    assert seen == [] and w.grad is None
    before = autograd._POST_HOOKS[0]
    handle.remove()
    assert autograd._POST_HOOKS[0] == before - 1
    (w * w).sum().backward()
    assert seen == []


def test_registering_on_non_leaf_or_no_grad_tensor_fails():
    w = mt.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="non-leaf"):
        (w * 2).register_post_accumulate_grad_hook(lambda p: None)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        mt.tensor([1.0]).register_post_accumulate_grad_hook(lambda p: None)


def test_matches_torch(torch):
    seen, seen_t = [], []
    w = mt.tensor([0.5, -1.5], requires_grad=True)
    wt = torch.tensor([0.5, -1.5], requires_grad=True)
    w.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.tolist()))
    wt.register_post_accumulate_grad_hook(lambda p: seen_t.append(p.grad.tolist()))
    for _ in range(2):
        (w * w.sigmoid() + w).sum().backward()
        (wt * wt.sigmoid() + wt).sum().backward()
    np.testing.assert_allclose(seen, seen_t, rtol=1e-6)


def test_works_on_tensor_subclasses_that_skip_tensor_init():
    class Sub(mt.Tensor):
        def __init__(self, data):  # like a Parameter class that sets its fields itself
            self.data = np.asarray(data, np.float32)
            self.requires_grad = True
            self.grad = None
            self.grad_fn = None
            self._output_nr = 0
            self._version = 0
            self._hooks = None

    w = Sub([1.0, 2.0])
    seen = []
    w.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.tolist()))
    (w * 3).sum().backward()
    assert seen == [[3.0, 3.0]]
