"""Module: registration by assignment, naming, iteration, modes, hooks, dtype conversion."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import mytorch.core as mt
import mytorch.nn as nn
from mytorch.nn import Module, Parameter


class Block(Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.bn = nn.BatchNorm1d(3)
        self.scale = Parameter(mt.ones(1))
        self.register_buffer("steps", mt.zeros(1))
        self.register_buffer("cache", mt.zeros(2), persistent=False)
        self.note = "plain attribute"

    def forward(self, x):
        return self.bn(self.fc(x)) * self.scale


class Net(Module):
    def __init__(self) -> None:
        super().__init__()
        self.block = Block()
        self.head = nn.Linear(3, 2, bias=False)

    def forward(self, x):
        return self.head(self.block(x))


# ---------------------------------------------------------------------------------- registration


def test_assignment_registers_parameters_buffers_and_modules():
    b = Block()
    assert list(b._parameters) == ["scale"]
    assert list(b._buffers) == ["steps", "cache"]
    assert list(b._modules) == ["fc", "bn"]
    assert "note" in b.__dict__ and "scale" not in b.__dict__
    assert b.scale is b._parameters["scale"]
    assert b.steps is b._buffers["steps"]
    assert b.fc is b._modules["fc"]


def test_named_parameters_buffers_modules_children():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "block.scale",
        "block.fc.weight",
        "block.fc.bias",
        "block.bn.weight",
        "block.bn.bias",
        "head.weight",
    ]
    assert [n for n, _ in net.named_buffers()] == [
        "block.steps",
        "block.cache",
        "block.bn.running_mean",
        "block.bn.running_var",
        "block.bn.num_batches_tracked",
    ]
    assert [n for n, _ in net.named_modules()] == ["", "block", "block.fc", "block.bn", "head"]
    assert [n for n, _ in net.named_children()] == ["block", "head"]
    assert list(net.children()) == [net.block, net.head]
    assert len(list(net.modules())) == 5
    assert [n for n, _ in net.named_parameters(prefix="model")][0] == "model.block.scale"
    assert [n for n, _ in net.block.named_parameters(recurse=False)] == ["scale"]
    assert len(list(net.parameters())) == 6
    assert len(list(net.parameters(recurse=False))) == 0
    assert len(list(net.buffers())) == 5


def test_shared_parameters_and_modules_are_listed_once():
    shared = nn.Linear(2, 2)
    seq = nn.Sequential(shared, nn.ReLU(), shared)
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias"]
    names = [n for n, _ in seq.named_parameters(remove_duplicate=False)]
    assert names == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert [n for n, _ in seq.named_modules()] == ["", "0", "1"]
    assert len(list(seq.named_modules(remove_duplicate=False))) == 4
    # state_dict keeps both names, like PyTorch
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_reassignment_moves_between_stores():
    m = Module()
    m.x = Parameter(mt.zeros(2))
    assert "x" in m._parameters
    m.x = None  # a parameter slot set to None stays a (None) parameter
    assert m._parameters["x"] is None and m.x is None
    assert list(m.parameters()) == []
    m.x = Parameter(mt.ones(1))
    m.y = nn.ReLU()
    m.y = Parameter(mt.ones(3))  # module -> parameter
    assert "y" not in m._modules and "y" in m._parameters
    m.register_buffer("z", mt.zeros(1))
    m.z = mt.ones(1)  # a buffer name takes a new tensor
    assert m._buffers["z"].tolist() == [1.0]
    m.z = None
    assert m._buffers["z"] is None
    m.z = nn.Linear(1, 1)  # buffer -> module
    assert "z" not in m._buffers and "z" in m._modules
    m.plain = 3
    m.plain = nn.Identity()  # plain attribute -> module
    assert "plain" not in m.__dict__ and "plain" in m._modules


def test_wrong_type_assignments_raise():
    m = Module()
    m.w = Parameter(mt.zeros(2))
    with pytest.raises(TypeError, match="cannot assign 'mytorch.Tensor' as parameter 'w'"):
        m.w = mt.zeros(2)
    m.sub = nn.ReLU()
    with pytest.raises(TypeError, match="cannot assign 'int' as child module 'sub'"):
        m.sub = 3
    m.sub = None
    assert m._modules["sub"] is None and list(m.children()) == []
    m.register_buffer("b", mt.zeros(1))
    with pytest.raises(TypeError, match="cannot assign 'list' as buffer 'b'"):
        m.b = [1.0]


def test_register_errors():
    m = Module()
    with pytest.raises(KeyError, match="buffer name can.+t contain"):
        m.register_buffer("a.b", mt.zeros(1))
    with pytest.raises(KeyError, match="empty string"):
        m.register_parameter("", None)
    with pytest.raises(TypeError, match="parameter 'w'"):
        m.register_parameter("w", mt.zeros(1))
    m.attr = 1
    with pytest.raises(KeyError, match="attribute 'attr' already exists"):
        m.register_buffer("attr", mt.zeros(1))
    with pytest.raises(TypeError, match="is not a Module subclass"):
        m.add_module("x", 3)
    with pytest.raises(KeyError, match="module name can.+t contain"):
        m.add_module("x.y", nn.ReLU())
    with pytest.raises(ValueError, match="non-leaf"):
        m.register_parameter("nl", _non_leaf_param())


def _non_leaf_param() -> Parameter:
    p = Parameter(mt.ones(1))
    p.grad_fn = object()  # as if produced by an op
    return p


def test_assignment_before_init_raises():
    class Bad(Module):
        def __init__(self):
            self.w = Parameter(mt.zeros(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()


def test_getattr_and_delattr():
    b = Block()
    with pytest.raises(AttributeError, match="'Block' object has no attribute 'nope'"):
        b.nope
    del b.scale
    del b.steps
    del b.fc
    del b.note
    assert "scale" not in b._parameters and "steps" not in b._buffers
    assert "fc" not in b._modules and not hasattr(b, "note")
    assert "cache" in dir(b) and "bn" in dir(b)


def test_register_module_add_module_and_get_submodule():
    net = Net()
    net.register_module("extra", nn.Tanh())
    net.add_module("more", nn.Sigmoid())
    assert net.get_submodule("block.bn") is net.block.bn
    assert net.get_submodule("") is net
    assert net.get_parameter("block.fc.weight") is net.block.fc.weight
    assert net.get_buffer("block.bn.running_mean") is net.block.bn.running_mean
    with pytest.raises(AttributeError, match="Block has no attribute `nope`"):
        net.get_submodule("block.nope")
    with pytest.raises(AttributeError, match="`scale` is not an nn.Module"):
        net.get_submodule("block.scale")
    with pytest.raises(AttributeError, match="`bn` is not an nn.Parameter"):
        net.get_parameter("block.bn")


def test_module_without_forward():
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        Module()(1)


def test_init_rejects_arguments():
    with pytest.raises(TypeError, match="unexpected argument"):
        Module(3)


# ---------------------------------------------------------------------------------- modes, grads


def test_train_eval_recursive():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.block.train(False)
    assert net.training and not net.block.bn.training
    with pytest.raises(ValueError, match="boolean"):
        net.train("yes")


def test_zero_grad_and_requires_grad_():
    net = Net()
    out = net(mt.randn(5, 4)).sum()
    out.backward()
    assert all(p.grad is not None for p in net.parameters())
    grad = net.head.weight.grad
    net.zero_grad(set_to_none=False)
    assert net.head.weight.grad is grad and not np.any(grad.data)
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    assert net.requires_grad_(False) is net
    assert not any(p.requires_grad for p in net.parameters())


def test_apply_visits_children_first():
    net = Net()
    order = []
    assert net.apply(lambda m: order.append(type(m).__name__)) is net
    assert order == ["Linear", "BatchNorm1d", "Block", "Linear", "Net"]


def test_to_double_and_float_keep_parameter_identity():
    net = Net()
    w = net.block.fc.weight
    net.block.fc.weight.grad = mt.ones(3, 4)
    net.double()
    assert net.block.fc.weight is w and w.dtype == mt.float64
    assert w.grad.dtype == mt.float64
    assert net.block.bn.running_mean.dtype == mt.float64
    assert net.block.bn.num_batches_tracked.dtype == mt.int64  # integers untouched
    assert net(mt.randn(2, 4, dtype=mt.float64)).dtype == mt.float64
    net.to(mt.float32)
    assert w.dtype == mt.float32
    assert net.to("cpu") is net and net.float() is net
    with pytest.raises(RuntimeError, match="CPU only"):
        net.to("cuda")
    with pytest.raises(TypeError, match="floating point"):
        net.to(mt.int64)


def test_deepcopy_copies_tensors():
    net = Net()
    net(mt.randn(4, 4)).sum().backward()
    twin = copy.deepcopy(net)
    assert twin.block.fc.weight is not net.block.fc.weight
    assert isinstance(twin.block.fc.weight, Parameter)
    np.testing.assert_array_equal(twin.block.fc.weight.data, net.block.fc.weight.data)
    np.testing.assert_array_equal(twin.head.weight.grad.data, net.head.weight.grad.data)
    twin.block.fc.weight.data[...] = 0
    assert np.any(net.block.fc.weight.data)
    assert twin.block.bn.running_var is not net.block.bn.running_var


# ---------------------------------------------------------------------------------- hooks


def test_forward_hooks_fire_modify_and_remove():
    lin = nn.Linear(3, 2)
    calls = []

    def pre(module, args):
        calls.append(("pre", module))
        return args[0] * 0  # a single value is wrapped into a tuple

    def post(module, args, output):
        calls.append(("post", output.shape))
        return output + 1

    h1 = lin.register_forward_pre_hook(pre)
    h2 = lin.register_forward_hook(post)
    out = lin(mt.randn(4, 3))
    assert [c[0] for c in calls] == ["pre", "post"] and calls[0][1] is lin
    np.testing.assert_allclose(out.data, np.broadcast_to(lin.bias.data + 1, (4, 2)), rtol=1e-6)
    h1.remove()
    h2.remove()
    h2.remove()  # removing twice is harmless
    x = mt.randn(4, 3)
    np.testing.assert_allclose(lin(x).data, (x.data @ lin.weight.data.T) + lin.bias.data,
                               rtol=1e-5, atol=1e-6)  # fmt: skip
    assert len(calls) == 2


def test_hooks_with_kwargs_prepend_and_context_handle():
    class Scale(Module):
        def forward(self, x, factor=1.0):
            return x * factor

    m = Scale()
    order = []
    m.register_forward_hook(lambda mod, a, o: order.append("second"))
    with m.register_forward_hook(lambda mod, a, o: order.append("first"), prepend=True):
        m.register_forward_pre_hook(
            lambda mod, args, kwargs: (args, {"factor": 3.0}), with_kwargs=True
        )
        seen = []
        m.register_forward_hook(
            lambda mod, args, kwargs, out: seen.append(kwargs["factor"]), with_kwargs=True
        )
        assert m(mt.ones(2)).tolist() == [3.0, 3.0]
        assert seen == [3.0]
    assert order == ["first", "second"]
    m(mt.ones(2))
    assert order == ["first", "second", "second"]


def test_bad_kwargs_pre_hook_result():
    m = nn.Identity()
    m.register_forward_pre_hook(lambda mod, a, k: 5, with_kwargs=True)
    with pytest.raises(RuntimeError, match="tuple of \\(new_args, new_kwargs\\)"):
        m(1)


def test_always_call_hook_runs_on_error():
    class Boom(Module):
        def forward(self, x):
            raise ValueError("boom")

    m = Boom()
    seen = []
    m.register_forward_hook(lambda mod, a, o: seen.append(o), always_call=True)
    with pytest.raises(ValueError, match="boom"):
        m(1)
    assert seen == [None]


def test_parameter_basics():
    data = mt.ones(2, 3)
    p = Parameter(data)
    assert p.data is data.data  # shares memory
    assert p.requires_grad and p.is_leaf and isinstance(p, mt.Tensor)
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert "requires_grad=True" in repr(p)
    assert not Parameter(data, requires_grad=False).requires_grad
    assert Parameter().shape == (0,)
    with pytest.raises(RuntimeError, match="floating point"):
        Parameter(mt.tensor([1, 2]))
    q = copy.deepcopy(p)
    assert isinstance(q, Parameter) and q.data is not p.data


def test_parameter_repr_matches_torch(torch):
    ours = repr(Parameter(mt.tensor([1.0, 2.0])))
    theirs = repr(torch.nn.Parameter(torch.tensor([1.0, 2.0])))
    assert ours.split("\n")[0] == theirs.split("\n")[0]
    assert ours.endswith("requires_grad=True)") and theirs.endswith("requires_grad=True)")
