"""Regularizers and L0 gates: values against hand computation, gradients by gradcheck (float64)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mytorch.core as mt
import mytorch.nn as nn
from mytorch.core.testing import gradcheck
from mytorch.energy.gates import L0Gate
from mytorch.energy.regularizers import (
    ActivationL1,
    FlopsLayer,
    activation_l1,
    expected_macs,
    group_lasso,
    l0_penalty,
    l1_penalty,
    l2_penalty,
    morphnet_flops_penalty,
)

F64 = mt.float64
BETA = 2.0 / 3.0
LOW, HIGH = -0.1, 1.1


def t64(values, requires_grad: bool = False) -> mt.Tensor:
    return mt.tensor(values, dtype=F64, requires_grad=requires_grad)


def set_param(param, values) -> None:
    param.data[...] = np.asarray(values, dtype=param.data.dtype)


def np_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


def np_prob_nonzero(log_alpha):
    return np_sigmoid(np.asarray(log_alpha) - BETA * math.log(-LOW / HIGH))


def small_linear() -> nn.Linear:
    lin = nn.Linear(2, 2, dtype=F64)
    set_param(lin.weight, [[1.0, -2.0], [3.0, 0.0]])
    set_param(lin.bias, [5.0, 0.0])
    return lin


def gate_with(log_alpha, **kwargs) -> L0Gate:
    gate = L0Gate(len(log_alpha), dtype=F64, **kwargs)
    set_param(gate.log_alpha, log_alpha)
    return gate


# ---------------------------------------------------------------------------------------------
# L2 / L1
# ---------------------------------------------------------------------------------------------


def test_l2_l1_module_counts_only_weights_with_ndim_above_one():
    lin = small_linear()
    assert l2_penalty(lin).item() == pytest.approx(1 + 4 + 9 + 0)
    assert l1_penalty(lin).item() == pytest.approx(1 + 2 + 3 + 0)
    net = nn.Sequential(lin, nn.BatchNorm1d(2, dtype=F64))
    set_param(net[1].weight, [7.0, 7.0])  # a gamma: excluded
    assert l2_penalty(net).item() == pytest.approx(14.0)


def test_l2_l1_iterables_include_every_tensor_given():
    lin = small_linear()
    assert l2_penalty([lin.weight, lin.bias]).item() == pytest.approx(14 + 25)
    assert l1_penalty(lin.parameters()).item() == pytest.approx(6 + 5)
    assert l2_penalty(lin.named_parameters()).item() == pytest.approx(39.0)
    assert l2_penalty(t64([3.0, 4.0])).item() == pytest.approx(25.0)
    assert l2_penalty([]).item() == 0.0


def test_l2_l1_gradients_hand_and_gradcheck():
    w = t64([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
    l2_penalty([w]).backward()
    np.testing.assert_allclose(w.grad.data, 2 * w.data)
    w.grad = None
    l1_penalty([w]).backward()
    np.testing.assert_allclose(w.grad.data, np.sign(w.data))
    b = t64([0.7, -1.3], requires_grad=True)
    assert gradcheck(lambda a, c: l2_penalty([a, c]), (w, b))
    assert gradcheck(lambda a, c: l1_penalty([a, c]), (w, b))


def test_l2_penalty_errors_name_the_bad_item():
    with pytest.raises(TypeError, match="item 1 is a float"):
        l2_penalty([t64([1.0]), 2.0])
    with pytest.raises(TypeError, match="l1_penalty: expected a Module"):
        l1_penalty(3.0)


# ---------------------------------------------------------------------------------------------
# Group lasso
# ---------------------------------------------------------------------------------------------


def test_group_lasso_values_by_dim_and_eps():
    w = t64([[3.0, 4.0], [0.0, 0.0], [1.0, 0.0]])
    assert group_lasso(w).item() == pytest.approx(5 + 0 + 1)
    assert group_lasso(w, dim=1).item() == pytest.approx(math.sqrt(10) + 4)
    assert group_lasso(w, dim=-1).item() == pytest.approx(math.sqrt(10) + 4)
    want = math.sqrt(25.25) + math.sqrt(0.25) + math.sqrt(1.25)
    assert group_lasso(w, eps=0.25).item() == pytest.approx(want)


def test_group_lasso_conv_filters_and_module():
    conv = nn.Conv2d(1, 2, 2, dtype=F64)
    set_param(conv.weight, np.stack([np.ones((1, 2, 2)), np.zeros((1, 2, 2))]))
    assert group_lasso(conv.weight).item() == pytest.approx(2.0)  # ||ones(4)|| = 2
    lin = nn.Linear(8, 2, dtype=F64)
    set_param(lin.weight, [[0.0] * 7 + [2.0], [1.0] * 8])
    net = nn.Sequential(conv, nn.Flatten(), lin)
    assert group_lasso(net).item() == pytest.approx(2.0 + 2.0 + math.sqrt(8))


def test_group_lasso_gradient_is_unit_direction_and_zero_for_zero_group():
    w = t64([[3.0, 4.0], [0.0, 0.0], [1.0, 0.0]], requires_grad=True)
    group_lasso(w).backward()
    assert np.isfinite(w.grad.data).all()
    np.testing.assert_allclose(w.grad.data, [[0.6, 0.8], [0.0, 0.0], [1.0, 0.0]])
    assert gradcheck(group_lasso, (w,))
    assert gradcheck(lambda a: group_lasso(a, dim=1, eps=1e-3), (w,))
    conv_w = mt.randn(3, 2, 2, 2, dtype=F64)
    conv_w.data[1] = 0.0
    conv_w.requires_grad_()
    assert gradcheck(group_lasso, (conv_w,))


def test_group_lasso_errors():
    w = t64([[1.0, 2.0]])
    with pytest.raises(ValueError, match="dim must be in"):
        group_lasso(w, dim=2)
    with pytest.raises(ValueError, match="eps must be >= 0"):
        group_lasso(w, eps=-1.0)
    with pytest.raises(TypeError, match="expected a Tensor or a Module"):
        group_lasso([w])


# ---------------------------------------------------------------------------------------------
# Activation L1
# ---------------------------------------------------------------------------------------------


def test_activation_l1_reductions():
    a = t64([[1.0, -1.0], [2.0, 0.0]])
    b = t64([[1.0, -3.0]])
    assert activation_l1([b]).item() == pytest.approx(2.0)
    assert activation_l1(b, reduction="sum").item() == pytest.approx(4.0)
    assert activation_l1([a, b], reduction="batchmean").item() == pytest.approx(4 / 2 + 4 / 1)
    assert activation_l1([a, b]).item() == pytest.approx(1.0 + 2.0)
    with pytest.raises(ValueError, match="reduction must be one of"):
        activation_l1([a], reduction="max")


def tiny_net() -> nn.Sequential:
    net = nn.Sequential(nn.Linear(2, 2, dtype=F64), nn.ReLU())
    set_param(net[0].weight, [[1.0, 0.0], [0.0, -1.0]])
    set_param(net[0].bias, [0.0, 0.0])
    return net


def test_activation_hooks_record_and_penalty_clears():
    net = tiny_net()
    act = ActivationL1(net, predicate=nn.ReLU)
    assert act.modules == [net[1]]
    net(t64([[1.0, 2.0]]))  # pre-activations [1, -2] -> relu [1, 0]
    assert act.num_recorded == 1
    net(t64([[3.0, -1.0]]))  # [3, 1]
    assert act.penalty().item() == pytest.approx(0.5 + 2.0)
    assert act.num_recorded == 0
    with pytest.raises(RuntimeError, match="no activations recorded"):
        act.penalty()
    act.remove()
    net(t64([[1.0, 2.0]]))
    assert act.num_recorded == 0


def test_activation_hooks_on_module_list_sum_reduction_and_context_manager():
    net = tiny_net()
    with ActivationL1([net[0], net[1]], reduction="sum") as act:
        net(t64([[1.0, 2.0]]))
        # Linear output [1, -2] (|.| sum 3) and ReLU output [1, 0] (sum 1)
        assert act.penalty().item() == pytest.approx(4.0)
    net(t64([[1.0, 2.0]]))
    assert act.num_recorded == 0
    callable_pred = ActivationL1(net, predicate=lambda m: isinstance(m, nn.Linear))
    assert callable_pred.modules == [net[0]]
    callable_pred.remove()


def test_activation_hooks_gradcheck_through_network():
    mt.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4, dtype=F64), nn.ReLU(), nn.Linear(4, 2, dtype=F64))
    act = ActivationL1(net, predicate=nn.ReLU)
    x = mt.randn(5, 3, dtype=F64, requires_grad=True)

    def fn(inp, weight):
        net(inp)
        return act.penalty()

    assert gradcheck(fn, (x, net[0].weight))
    act.remove()


def test_activation_l1_argument_errors():
    net = tiny_net()
    with pytest.raises(ValueError, match="reduction must be one of"):
        ActivationL1(net, reduction="median")
    with pytest.raises(ValueError, match="no submodule"):
        ActivationL1(net, predicate=nn.Sigmoid)
    with pytest.raises(TypeError, match="single root Module"):
        ActivationL1([net], predicate=nn.ReLU)
    with pytest.raises(TypeError, match="item 0 is a int"):
        ActivationL1([3])


# ---------------------------------------------------------------------------------------------
# MorphNet FLOPs penalty
# ---------------------------------------------------------------------------------------------


def morphnet_layers():
    bn_in = nn.BatchNorm2d(2, dtype=F64)
    bn_out = nn.BatchNorm2d(3, dtype=F64)
    bn_last = nn.BatchNorm2d(2, dtype=F64)
    set_param(bn_in.weight, [0.5, 0.001])  # 1 alive at threshold 1e-2
    set_param(bn_out.weight, [1.0, -2.0, 0.005])  # 2 alive
    set_param(bn_last.weight, [0.5, 0.25])
    layers = [
        FlopsLayer(
            "conv1", macs=120.0, in_channels=2, out_channels=3, in_source=bn_in, out_source=bn_out
        ),
        FlopsLayer("fc", macs=80.0, in_channels=4, out_channels=2, out_source=bn_last),
        FlopsLayer("stem", macs=1000.0, in_channels=3, out_channels=2),
    ]
    return layers, bn_in, bn_out, bn_last


def test_morphnet_value_by_hand():
    layers, *_ = morphnet_layers()
    conv1 = 20.0 * (1 * (1 + 2 + 0.005) + 2 * (0.5 + 0.001))  # coeff 120 / (2 * 3)
    fc = 10.0 * (4 * (0.5 + 0.25))  # coeff 80 / (4 * 2), fixed 4 inputs
    assert layers[0].coeff == pytest.approx(20.0)
    assert morphnet_flops_penalty(layers).item() == pytest.approx(conv1 + fc)
    assert morphnet_flops_penalty(layers[2]).item() == 0.0  # no gammas: nothing to penalise
    # a lower threshold counts the small gammas as alive
    conv1_all = 20.0 * (2 * 3.005 + 3 * 0.501)
    assert morphnet_flops_penalty(layers[0], threshold=1e-4).item() == pytest.approx(conv1_all)


def test_morphnet_gradient_by_hand_and_gradcheck():
    layers, bn_in, bn_out, bn_last = morphnet_layers()
    morphnet_flops_penalty(layers).backward()
    np.testing.assert_allclose(bn_out.weight.grad.data, [20.0, -20.0, 20.0])  # coeff*alive_in*sign
    np.testing.assert_allclose(bn_in.weight.grad.data, [40.0, 40.0])  # coeff*alive_out*sign
    np.testing.assert_allclose(bn_last.weight.grad.data, [40.0, 40.0])
    gammas = (bn_in.weight, bn_out.weight, bn_last.weight)
    assert gradcheck(lambda *g: morphnet_flops_penalty(layers), gammas)


def test_morphnet_accepts_gamma_tensors_and_reports_bad_sources():
    gamma = t64([1.0, -1.0], requires_grad=True)
    layer = FlopsLayer("l", macs=8.0, in_channels=2, out_channels=2, out_source=gamma)
    assert morphnet_flops_penalty([layer]).item() == pytest.approx(2.0 * 2 * 2)
    bad = FlopsLayer("g", macs=8.0, in_channels=2, out_channels=2, in_source=L0Gate(2))
    with pytest.raises(TypeError, match="'g' in_source is an L0Gate"):
        morphnet_flops_penalty([bad])
    wrong = FlopsLayer("w", macs=8.0, in_channels=2, out_channels=3, out_source=gamma)
    with pytest.raises(ValueError, match="'w' out_source has 2 channels, but out_channels is 3"):
        morphnet_flops_penalty([wrong])
    noaffine = FlopsLayer("n", 8.0, 2, 2, out_source=nn.BatchNorm2d(2, affine=False))
    with pytest.raises(TypeError, match="no .weight gamma"):
        morphnet_flops_penalty([noaffine])
    with pytest.raises(ValueError, match="threshold must be >= 0"):
        morphnet_flops_penalty([layer], threshold=-1.0)
    with pytest.raises(ValueError, match="in_channels must be an int >= 1"):
        FlopsLayer("z", 8.0, 0, 2)
    with pytest.raises(TypeError, match="expected a FlopsLayer"):
        morphnet_flops_penalty(["conv"])


# ---------------------------------------------------------------------------------------------
# Expected MACs and L0 penalty
# ---------------------------------------------------------------------------------------------


def gated_layers():
    g1 = gate_with([0.0, 1.0])
    g2 = gate_with([-1.0, 2.0, 0.5])
    bn = nn.BatchNorm1d(3, dtype=F64)
    layers = [
        FlopsLayer("fc1", macs=60.0, in_channels=4, out_channels=2, out_source=g1),
        FlopsLayer("fc2", macs=120.0, in_channels=2, out_channels=3, in_source=g1, out_source=g2),
        FlopsLayer("fc3", macs=30.0, in_channels=3, out_channels=5, in_source=bn),
    ]
    return layers, g1, g2


def test_expected_macs_value_by_hand():
    layers, g1, g2 = gated_layers()
    p1, p2 = np_prob_nonzero([0.0, 1.0]), np_prob_nonzero([-1.0, 2.0, 0.5])
    e1, e2 = p1.sum(), p2.sum()
    want = 7.5 * 4 * e1 + 20.0 * e1 * e2 + 30.0  # fc3: a BatchNorm source is a fixed width
    assert expected_macs(layers).item() == pytest.approx(want, rel=1e-12)
    assert expected_macs(layers[2]).item() == pytest.approx(30.0)
    assert l0_penalty([g1, g2]).item() == pytest.approx(e1 + e2, rel=1e-12)
    assert l0_penalty(nn.Sequential(nn.Linear(2, 2), g1, g2)).item() == pytest.approx(e1 + e2)
    assert l0_penalty(g2).item() == pytest.approx(e2, rel=1e-12)


def test_expected_macs_gradient_by_hand_and_gradcheck():
    layers, g1, g2 = gated_layers()
    expected_macs(layers).backward()
    p1, p2 = np_prob_nonzero([0.0, 1.0]), np_prob_nonzero([-1.0, 2.0, 0.5])
    np.testing.assert_allclose(g1.log_alpha.grad.data, (30.0 + 20.0 * p2.sum()) * p1 * (1 - p1))
    np.testing.assert_allclose(g2.log_alpha.grad.data, 20.0 * p1.sum() * p2 * (1 - p2))
    assert gradcheck(lambda a, b: expected_macs(layers), (g1.log_alpha, g2.log_alpha))
    assert gradcheck(lambda a, b: l0_penalty([g1, g2]), (g1.log_alpha, g2.log_alpha))


def test_l0_penalty_errors():
    with pytest.raises(ValueError, match="contains no L0Gate"):
        l0_penalty(nn.Linear(2, 2))
    with pytest.raises(TypeError, match="expected an L0Gate"):
        l0_penalty([nn.Linear(2, 2)])


# ---------------------------------------------------------------------------------------------
# L0Gate
# ---------------------------------------------------------------------------------------------


def test_l0gate_init_and_repr():
    gate = L0Gate(4)
    np.testing.assert_allclose(gate.log_alpha.data, math.log(0.9 / 0.1), rtol=1e-6)
    assert gate.log_alpha.shape == (4,)
    np.testing.assert_allclose(gate.deterministic_gate().data, 0.98, rtol=1e-6)
    assert repr(gate) == "L0Gate(4, init_keep=0.9, temperature=0.6667, limits=(-0.1, 1.1))"
    assert [name for name, _ in gate.named_parameters()] == ["log_alpha"]


def test_l0gate_eval_exact_zeros_identity_and_middle():
    gate = gate_with([-20.0, 20.0, 0.0]).eval()
    x = mt.randn(2, 3, 4, 4, dtype=F64)
    out = gate(x).data
    assert (out[:, 0] == 0.0).all()  # exactly zero, not merely small
    np.testing.assert_array_equal(out[:, 1], x.data[:, 1])
    np.testing.assert_allclose(out[:, 2], 0.5 * x.data[:, 2])  # 0.5 * 1.2 - 0.1
    np.testing.assert_array_equal(gate.mask(), [False, True, True])
    flat = gate(t64([[1.0, 2.0, 3.0]])).data
    np.testing.assert_allclose(flat, [[0.0, 2.0, 1.5]])


def test_l0gate_prob_nonzero_closed_form():
    log_alpha = [-3.0, -0.5, 0.0, 1.5]
    gate = gate_with(log_alpha, temperature=0.5, limits=(-0.2, 1.3))
    want = np_sigmoid(np.array(log_alpha) - 0.5 * math.log(0.2 / 1.3))
    np.testing.assert_allclose(gate.prob_nonzero().data, want, rtol=1e-12)
    assert gate.expected_active().item() == pytest.approx(want.sum(), rel=1e-12)


def test_l0gate_training_statistics_match_the_hard_concrete_distribution():
    log_alpha = np.array([-1.0, 0.0, 2.0])
    gate = gate_with(log_alpha).train()
    mt.manual_seed(1)
    n = 20000
    z = gate(mt.ones(n, 3, dtype=F64)).data
    # E[z] by quadrature over u: z(u) = clamp(sigmoid((logit u + log_alpha)/beta) * 1.2 - 0.1, 0, 1)
    u = (np.arange(200000) + 0.5) / 200000
    logit = np.log(u) - np.log1p(-u)
    zu = np.clip(np_sigmoid((logit[:, None] + log_alpha) / BETA) * 1.2 - 0.1, 0.0, 1.0)
    np.testing.assert_allclose(z.mean(0), zu.mean(0), atol=0.015)
    np.testing.assert_allclose((z > 0).mean(0), np_prob_nonzero(log_alpha), atol=0.015)
    p_one = np_sigmoid(log_alpha - BETA * math.log((1 - LOW) / (HIGH - 1)))
    np.testing.assert_allclose((z == 1).mean(0), p_one, atol=0.015)
    assert ((z > 0) & (z < 1)).mean() > 0.1  # continuous part present too


def test_l0gate_noise_per_example_and_channel_shared_over_space():
    gate = gate_with([0.0, 0.0]).train()
    mt.manual_seed(2)
    out = gate(mt.ones(4, 2, 3, 3, dtype=F64)).data
    assert np.ptp(out, axis=(2, 3)).max() == 0.0  # one gate per (example, channel)
    assert np.unique(out[:, :, 0, 0]).size > 1


def test_l0gate_training_forward_gradcheck():
    gate = gate_with([0.3, -0.2, 1.0]).train()
    x = mt.randn(4, 3, 2, 2, dtype=F64, requires_grad=True)

    def fn(inp, log_alpha):
        mt.manual_seed(7)  # the same noise at every evaluation
        return gate(inp)

    assert gradcheck(fn, (x, gate.log_alpha))
    gate.eval()
    assert gradcheck(lambda inp, la: gate(inp), (x, gate.log_alpha))


def test_l0gate_seeding_reproducible():
    gate = L0Gate(5, init_keep=0.5).train()
    x = mt.ones(3, 5)
    mt.manual_seed(11)
    a = gate(x).data
    mt.manual_seed(11)
    b = gate(x).data
    c = gate(x).data
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(b, c)


def test_l0_penalty_training_reduces_expected_active():
    gate = L0Gate(6, init_keep=0.7)
    opt = mt.optim.Adam(gate.parameters(), lr=0.3)
    history = []
    for _ in range(15):
        opt.zero_grad()
        loss = l0_penalty(gate)
        history.append(loss.item())
        loss.backward()
        opt.step()
    assert all(b < a for a, b in zip(history, history[1:]))
    assert gate.expected_active().item() < 0.5 * history[0]
    assert not gate.mask().any()  # every channel is pruned in eval mode


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"num_features": 0}, "num_features must be >= 1"),
        ({"num_features": 2, "temperature": 0.0}, "temperature must be a finite number > 0"),
        ({"num_features": 2, "temperature": -1.0}, "temperature must be"),
        ({"num_features": 2, "limits": (0.0, 1.1)}, r"l < 0 and r > 1"),
        ({"num_features": 2, "limits": (-0.1, 1.0)}, r"l < 0 and r > 1"),
        ({"num_features": 2, "limits": (-0.1,)}, "limits must be a pair"),
        ({"num_features": 2, "init_keep": 1.0}, r"init_keep must lie in \(0, 1\)"),
    ],
)
def test_l0gate_constructor_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        L0Gate(**kwargs)


def test_l0gate_input_errors():
    gate = L0Gate(3)
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 3, \.\.\.\).*\(2, 4\)"):
        gate(mt.ones(2, 4))
    with pytest.raises(ValueError, match="got shape"):
        gate(mt.ones(3))
    with pytest.raises(TypeError, match="num_features must be an int"):
        L0Gate(2.5)
