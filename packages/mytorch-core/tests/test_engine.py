"""The autograd engine: graph building, backward order, freeing, errors, hooks, double backward."""

import gc
import sys

import numpy as np
import pytest

import mytorch.core as mt
from mytorch.core.autograd import Function
from mytorch.core.testing import assert_matches_torch, gradcheck, gradgradcheck


def test_chain_rule_through_broadcast():
    x = mt.randn(3, 4, dtype=mt.float64, requires_grad=True)
    y = mt.randn(4, dtype=mt.float64, requires_grad=True)
    assert gradcheck(lambda a, b: (a * b + a).exp(), (x, y))


def test_matches_torch(torch):
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    y = np.random.default_rng(1).standard_normal((4,)).astype(np.float32)
    assert_matches_torch(lambda a, b: (a * b - a).exp().sum(0), x, y)


def test_shared_subexpression_accumulates():
    x = mt.tensor([2.0], requires_grad=True)
    y = x * x  # used twice below
    z = y * y + y  # dz/dx = (2y + 1) * 2x = 9 * 4 = 36
    z.sum().backward()
    assert x.grad.tolist() == [36.0]


def test_grad_accumulates_across_backward_calls():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    assert x.grad.tolist() == [6.0, 6.0]


def test_leaf_grads_do_not_alias():
    x = mt.tensor([1.0], requires_grad=True)
    y = mt.tensor([1.0], requires_grad=True)
    (x + y).sum().backward()  # add's backward hands the same gradient to both inputs
    x.grad.data *= 10
    assert y.grad.tolist() == [1.0]


def test_deep_chain_has_no_recursion_limit():
    x = mt.tensor([1.0], requires_grad=True)
    h = x
    for _ in range(10_000):
        h = h * 1.0001
    h.sum().backward()
    assert sys.getrecursionlimit() < 10_000
    assert x.grad.item() == pytest.approx(1.0001**10_000, rel=1e-3)


def test_nonscalar_backward_needs_gradient():
    x = mt.randn(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"only for scalar outputs.*\[2, 3\]"):
        (x * 2).backward()
    (x * 2).backward(mt.ones(2, 3))
    assert x.grad.tolist() == [[2.0] * 3] * 2


def test_gradient_shape_mismatch_is_named():
    x = mt.randn(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Mismatch in shape.*\[3\].*\[2, 3\]"):
        (x * 2).backward(mt.ones(3))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        mt.ones(2).sum().backward()


def test_second_backward_through_freed_graph_raises():
    x = mt.randn(3, requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = mt.randn(3, requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.data, 4 * x.data, rtol=1e-6)


def test_inplace_modification_of_saved_tensor_is_detected():
    a = mt.randn(3, requires_grad=True)
    b = a * 2  # non-leaf
    c = b * b  # saves b
    b.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        c.sum().backward()


def test_inplace_modification_of_saved_output_is_detected():
    a = mt.randn(3, requires_grad=True)
    e = a.exp()  # saves its output
    e.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        e.sum().backward()


def test_inplace_on_leaf_requiring_grad_raises():
    w = mt.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.add_(1)
    with mt.no_grad():
        w.add_(1)  # allowed, as in PyTorch optimizers


def test_inplace_on_nonleaf_takes_new_history():
    a = mt.tensor([1.0, 2.0], requires_grad=True)
    b = a * 3
    b += a  # b = 3a + a
    b.sum().backward()
    assert a.grad.tolist() == [4.0, 4.0]


def test_no_grad_context_and_decorator():
    x = mt.randn(2, requires_grad=True)
    with mt.no_grad():
        assert not (x * 2).requires_grad
        with mt.enable_grad():
            assert (x * 2).requires_grad

    @mt.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad
    assert mt.is_grad_enabled()
    mt.set_grad_enabled(False)
    assert not (x * 2).requires_grad
    mt.set_grad_enabled(True)
    with mt.set_grad_enabled(False):
        assert not mt.is_grad_enabled()
    assert mt.is_grad_enabled()


def test_no_grad_results_are_detached():
    x = mt.randn(2, requires_grad=True)
    with mt.no_grad():
        y = x * 2
    assert y.grad_fn is None and y.is_leaf


def test_detach_cuts_the_graph():
    x = mt.tensor([3.0], requires_grad=True)
    y = x * x
    z = y.detach() * x
    z.sum().backward()
    assert x.grad.tolist() == [9.0]


def test_hooks_and_retain_grad():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    seen = []
    h = y.register_hook(lambda g: seen.append(g.tolist()) or g * 10)
    y.sum().backward()
    assert seen == [[1.0, 1.0]]
    assert y.grad.tolist() == [1.0, 1.0] or y.grad.tolist() == [10.0, 10.0]
    assert x.grad.tolist() == [20.0, 20.0]
    h.remove()
    x.grad = None
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_leaf_hook_modifies_accumulated_gradient():
    x = mt.tensor([1.0], requires_grad=True)
    x.register_hook(lambda g: g * 0.5)
    (x * 4).sum().backward()
    assert x.grad.tolist() == [2.0]


class _Cube(Function):
    """out = x ** 3;  dx = 3 x^2 g"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 3 * x * x * g


def test_custom_function_and_double_backward():
    x = mt.tensor([2.0], requires_grad=True)
    y = _Cube.apply(x)
    (g,) = mt.autograd.grad(y.sum(), x, create_graph=True)
    (gg,) = mt.autograd.grad(g.sum(), x)
    assert g.tolist() == [12.0] and gg.tolist() == [12.0]
    assert x.grad is None  # autograd.grad never touches .grad
    xd = mt.randn(4, dtype=mt.float64, requires_grad=True)
    assert gradcheck(_Cube.apply, (xd,))
    assert gradgradcheck(_Cube.apply, (xd,))


def test_custom_function_wrong_number_of_grads():
    class Bad(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, g):
            return g

    a, b = mt.randn(2, requires_grad=True), mt.randn(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        Bad.apply(a, b).sum().backward()


def test_multi_output_function_zero_fills_unused_output():
    class Split2(Function):
        """out = (a[:1], a[1:]);  da = concat of the two grads"""

        @staticmethod
        def forward(ctx, a):
            return a[:1].copy(), a[1:].copy()

        @staticmethod
        def backward(ctx, g0, g1):
            return mt.tensor(np.concatenate([g0.data, g1.data]))

    x = mt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    first, _ = Split2.apply(x)
    (first * 5).sum().backward()
    assert x.grad.tolist() == [5.0, 0.0, 0.0]


def test_integer_outputs_do_not_require_grad():
    x = mt.randn(3, requires_grad=True)
    assert not (x > 0).requires_grad


def _live_graph_objects() -> int:
    gc.collect()
    return sum(issubclass(type(o), (mt.Tensor, Function)) for o in gc.get_objects())


def test_graph_is_freed_after_backward():
    w = mt.randn(8, requires_grad=True)
    x = mt.randn(4, 8)
    before = _live_graph_objects()
    for _ in range(3):
        loss = ((x * w).exp() * 0.1 + x).sum()
        loss.backward()
        del loss
    w.grad = None
    assert _live_graph_objects() == before


def test_graph_without_backward_is_freed_by_refcount():
    w = mt.randn(8, requires_grad=True)
    gc.disable()
    try:
        before = sum(issubclass(type(o), Function) for o in gc.get_objects())
        y = (w * w).exp().sum()
        del y
        after = sum(issubclass(type(o), Function) for o in gc.get_objects())
    finally:
        gc.enable()
    assert after == before  # no reference cycles: refcounting alone frees the graph


def test_deepcopy_of_leaf_copies_data_and_grad():
    import copy

    x = mt.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward()
    y = copy.deepcopy(x)
    y.data[0] = 5.0
    assert x.tolist() == [1.0, 2.0] and y.requires_grad and y.grad.tolist() == [2.0, 2.0]
    with pytest.raises(RuntimeError, match="deepcopy"):
        copy.deepcopy(x * 2)


def test_inplace_op_that_saves_its_own_input_still_differentiates(torch):
    import mytorch.core.functional as F

    x0 = np.random.default_rng(0).standard_normal(6).astype(np.float32) * 4
    for name in ("relu6", "silu", "hardswish", "elu", "sigmoid_"):
        a = mt.tensor(x0, requires_grad=True)
        ta = torch.tensor(x0, requires_grad=True)
        b, tb = a * 2, ta * 2
        if name == "sigmoid_":
            b.sigmoid_(), tb.sigmoid_()
        else:
            getattr(F, name)(b, inplace=True), getattr(torch.nn.functional, name)(tb, inplace=True)
        (b * b).sum().backward()
        (tb * tb).sum().backward()
        np.testing.assert_allclose(b.data, tb.detach().numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(a.grad.data, ta.grad.numpy(), rtol=1e-5, atol=1e-6)
