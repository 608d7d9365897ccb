"""Optimizers: torch parity of every update rule and option, state dicts, groups, clipping, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mytorch.core as mt
from mytorch.core import optim

SHAPES = [(3, 4), (5,), ()]

# (mytorch class name, torch class name, kwargs) for every option combination.
CASES = [
    ("SGD", "SGD", {"lr": 0.1}),
    ("SGD", "SGD", {}),
    ("SGD", "SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", "SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3}),
    ("SGD", "SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True}),
    ("SGD", "SGD", {"lr": 0.05, "weight_decay": 0.1}),
    ("SGD", "SGD", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.05, "nesterov": True}),
    ("SGD", "SGD", {"lr": 0.05, "momentum": 0.5, "dampening": 0.5, "weight_decay": 0.01}),
    ("SGD", "SGD", {"lr": 0.05, "momentum": 0.9, "maximize": True}),
    ("Momentum", "SGD", {"lr": 0.05, "momentum": 0.9}),
    ("Adagrad", "Adagrad", {}),
    ("Adagrad", "Adagrad", {"lr": 0.1, "lr_decay": 0.05}),
    ("Adagrad", "Adagrad", {"lr": 0.1, "weight_decay": 0.1}),
    ("Adagrad", "Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5, "eps": 1e-6}),
    ("Adagrad", "Adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.05, "maximize": True}),
    ("RMSprop", "RMSprop", {}),
    ("RMSprop", "RMSprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-6}),
    ("RMSprop", "RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", "RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", "RMSprop", {"lr": 0.01, "momentum": 0.9, "centered": True, "weight_decay": 0.1}),
    ("RMSprop", "RMSprop", {"lr": 0.01, "weight_decay": 0.1, "maximize": True}),
    ("Adam", "Adam", {}),
    ("Adam", "Adam", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6}),
    ("Adam", "Adam", {"lr": 0.01, "betas": (0.3, 0.9)}),
    ("Adam", "Adam", {"lr": 0.01, "weight_decay": 0.1}),
    ("Adam", "Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", "Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.05, "maximize": True}),
    ("Adam", "Adam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("AdamW", "AdamW", {}),
    ("AdamW", "AdamW", {"lr": 0.01, "weight_decay": 0.1}),
    ("AdamW", "AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("AdamW", "AdamW", {"lr": 0.01, "betas": (0.5, 0.9), "eps": 1e-4, "maximize": True}),
]
IDS = [f"{name}-{kw}" for name, _, kw in CASES]


def _initial(seed: int = 0) -> list[np.ndarray]:
    rs = np.random.default_rng(seed)
    return [rs.standard_normal(s).astype(np.float32) for s in SHAPES]


def _grads(steps: int, seed: int = 1) -> list[list[np.ndarray]]:
    rs = np.random.default_rng(seed)
    return [[rs.standard_normal(s).astype(np.float32) for s in SHAPES] for _ in range(steps)]


def _mt_params(arrays):
    return [mt.tensor(a.copy(), requires_grad=True) for a in arrays]


def _torch_params(torch, arrays):
    return [torch.tensor(a.copy(), requires_grad=True) for a in arrays]


def _run(opt, params, grads, make_grad):
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = make_grad(g.copy())
        opt.step()


def _assert_params_equal(mt_params, torch_params):
    for p, tp in zip(mt_params, torch_params):
        assert p.dtype == np.float32
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-5, atol=1e-6)


def _assert_state_equal(mt_opt, torch_opt):
    """Every state entry (buffers and step counters) matches torch's state dict."""
    ours, theirs = mt_opt.state_dict(), torch_opt.state_dict()
    assert set(ours["state"]) == set(theirs["state"])
    for idx, tstate in theirs["state"].items():
        assert set(ours["state"][idx]) == set(tstate)
        for key, tval in tstate.items():
            val = ours["state"][idx][key]
            assert isinstance(val, mt.Tensor)
            np.testing.assert_allclose(val.data, tval.numpy(), rtol=1e-5, atol=1e-6)
            assert val.dtype == tval.numpy().dtype


@pytest.mark.parametrize("name,torch_name,kwargs", CASES, ids=IDS)
def test_matches_torch_for_20_steps(torch, name, torch_name, kwargs):
    init, grads = _initial(), _grads(20)
    params, tparams = _mt_params(init), _torch_params(torch, init)
    opt = getattr(optim, name)(params, **kwargs)
    topt = getattr(torch.optim, torch_name)(tparams, **kwargs, foreach=False)
    _run(opt, params, grads, mt.tensor)
    _run(topt, tparams, grads, torch.from_numpy)
    _assert_params_equal(params, tparams)
    _assert_state_equal(opt, topt)


@pytest.mark.parametrize("name,torch_name,kwargs", CASES, ids=IDS)
def test_state_dict_round_trip_continues_identically(torch, name, torch_name, kwargs):
    init, grads = _initial(2), _grads(20, seed=3)
    params, tparams = _mt_params(init), _torch_params(torch, init)
    opt = getattr(optim, name)(params, **kwargs)
    topt = getattr(torch.optim, torch_name)(tparams, **kwargs, foreach=False)
    _run(opt, params, grads[:10], mt.tensor)
    _run(topt, tparams, grads[:10], torch.from_numpy)

    # A fresh optimizer on copies of the parameters, restored from the state dict.
    params2 = _mt_params([p.data for p in params])
    opt2 = getattr(optim, name)(params2, lr=123.0)
    sd = opt.state_dict()
    assert sorted(sd) == ["param_groups", "state"]
    assert sd["param_groups"][0]["params"] == [0, 1, 2]
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    assert opt2.param_groups[0]["params"][0] is params2[0]

    _run(opt2, params2, grads[10:], mt.tensor)
    _run(topt, tparams, grads[10:], torch.from_numpy)
    _assert_params_equal(params2, tparams)
    _assert_state_equal(opt2, topt)
    # The original optimizer's state was copied, not shared, by load_state_dict.
    _run(opt, params, grads[10:], mt.tensor)
    _assert_params_equal(params, tparams)


@pytest.mark.parametrize("name", ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW"])
def test_param_groups_with_different_options_and_lr_changes(torch, name):
    init, grads = _initial(4), _grads(12, seed=5)
    params, tparams = _mt_params(init), _torch_params(torch, init)
    extra = {"momentum": 0.9} if name in ("SGD", "RMSprop") else {}

    def groups(ps):
        return [
            {"params": ps[:2]},
            {"params": ps[2:], "lr": 0.003, "weight_decay": 0.2, **extra},
        ]

    opt = getattr(optim, name)(groups(params), lr=0.02)
    topt = getattr(torch.optim, name)(groups(tparams), lr=0.02, foreach=False)
    assert opt.param_groups[1]["lr"] == 0.003 and opt.param_groups[0]["lr"] == 0.02
    for i, step_grads in enumerate(grads):
        if i == 6:  # lr may be changed through param_groups between steps
            for o in (opt, topt):
                o.param_groups[0]["lr"] = 0.1
        for p, tp, g in zip(params, tparams, step_grads):
            if i % 4 == 3 and p is params[1]:
                p.grad = tp.grad = None  # parameters without a gradient are skipped
            else:
                p.grad, tp.grad = mt.tensor(g), torch.from_numpy(g.copy())
        opt.step()
        topt.step()
    _assert_params_equal(params, tparams)
    _assert_state_equal(opt, topt)


def test_add_param_group_matches_torch(torch):
    init, grads = _initial(6), _grads(8, seed=7)
    params, tparams = _mt_params(init), _torch_params(torch, init)
    opt = optim.Adagrad(params[:1], lr=0.1, initial_accumulator_value=0.3)
    topt = torch.optim.Adagrad(tparams[:1], lr=0.1, initial_accumulator_value=0.3, foreach=False)
    opt.add_param_group({"params": params[1:], "lr": 0.05})
    topt.add_param_group({"params": tparams[1:], "lr": 0.05})
    assert opt.param_groups[1]["lr_decay"] == 0
    _run(opt, params, grads, mt.tensor)
    _run(topt, tparams, grads, torch.from_numpy)
    _assert_params_equal(params, tparams)
    _assert_state_equal(opt, topt)


def test_step_returns_closure_loss_with_grad_enabled():
    w = mt.tensor([1.0, -2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with mt.no_grad():
        loss = opt.step(closure)
    assert loss.item() == pytest.approx(5.0)
    np.testing.assert_allclose(w.data, [0.8, -1.6], rtol=1e-6)


def test_update_is_in_place_float32_and_outside_the_graph():
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    arr = w.data
    w.grad = mt.tensor([0.5, 0.5])
    version = w._version
    optim.Adam([w], lr=0.1).step()
    assert w.data is arr and w.dtype == np.float32
    assert w.grad_fn is None and w.is_leaf
    assert w._version > version


def test_float64_parameters_stay_float64():
    w = mt.tensor([1.0, 2.0], dtype=mt.float64, requires_grad=True)
    for cls in (optim.SGD, optim.Adam, optim.RMSprop, optim.Adagrad):
        w.grad = mt.tensor([0.5, 0.5], dtype=mt.float64)
        cls([w], lr=0.1).step()
        assert w.dtype == np.float64


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    a = mt.ones(3, requires_grad=True)
    b = mt.ones(2, requires_grad=True)
    (a.sum() * 2 + b.sum()).backward()
    grad_a = a.grad
    opt = optim.SGD([a, b], lr=0.1)
    opt.zero_grad(set_to_none=set_to_none)
    if set_to_none:
        assert a.grad is None and b.grad is None
    else:
        assert a.grad is grad_a
        assert a.grad.tolist() == [0.0, 0.0, 0.0] and b.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert a.grad is None


def test_tensor_not_requiring_grad_is_accepted_and_skipped_without_grad(torch):
    frozen = mt.ones(2)
    tfrozen = torch.ones(2)
    opt = optim.SGD([frozen], lr=0.1)
    torch.optim.SGD([tfrozen], lr=0.1).step()
    opt.step()
    assert frozen.tolist() == tfrozen.tolist() == [1.0, 1.0]
    frozen.grad = mt.tensor([1.0, 1.0])  # a gradient set by hand is still applied, as in torch
    opt.step()
    np.testing.assert_allclose(frozen.data, [0.9, 0.9])


def test_non_leaf_raises():
    w = mt.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([w * 2], lr=0.1)


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda p: optim.SGD(p, lr=-1), "Invalid learning rate: -1"),
        (lambda p: optim.SGD(p, momentum=-0.5), "Invalid momentum value: -0.5"),
        (lambda p: optim.SGD(p, weight_decay=-1e-3), "Invalid weight_decay value"),
        (lambda p: optim.SGD(p, nesterov=True), "Nesterov momentum requires a momentum"),
        (lambda p: optim.SGD(p, momentum=0.9, dampening=0.1, nesterov=True), "zero dampening"),
        (lambda p: optim.Momentum(p, lr=-0.1), "Invalid learning rate: -0.1"),
        (lambda p: optim.Adam(p, lr=-1), "Invalid learning rate: -1"),
        (lambda p: optim.Adam(p, eps=-1), "Invalid epsilon value: -1"),
        (lambda p: optim.Adam(p, betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1.0"),
        (lambda p: optim.Adam(p, betas=(0.9, -0.1)), "Invalid beta parameter at index 1"),
        (lambda p: optim.AdamW(p, weight_decay=-1), "Invalid weight_decay value: -1"),
        (lambda p: optim.Adagrad(p, lr_decay=-1), "Invalid lr_decay value: -1"),
        (lambda p: optim.Adagrad(p, initial_accumulator_value=-1), "initial_accumulator_value"),
        (lambda p: optim.Adagrad(p, eps=-1), "Invalid epsilon value"),
        (lambda p: optim.RMSprop(p, alpha=-1), "Invalid alpha value: -1"),
        (lambda p: optim.RMSprop(p, momentum=-1), "Invalid momentum value: -1"),
    ],
)
def test_invalid_hyperparameters_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make([mt.ones(2, requires_grad=True)])


def test_invalid_params_arguments():
    w = mt.ones(2, requires_grad=True)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        optim.SGD(w, lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors.*numpy.ndarray"):
        optim.SGD([np.ones(2)], lr=0.1)
    opt = optim.SGD([w], lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        opt.add_param_group({"params": {mt.ones(1, requires_grad=True)}})
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [w]})
    with pytest.raises(TypeError, match="param_group must be a dict"):
        opt.add_param_group([w])
    with pytest.raises(ValueError, match="required optimization parameter lr"):
        optim.Optimizer([w], {"lr": optim.required})


def test_load_state_dict_mismatch_errors():
    a, b = mt.ones(2, requires_grad=True), mt.ones(3, requires_grad=True)
    sd = optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="doesn't match the size"):
        optim.SGD([a], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(sd)


def test_load_state_dict_accepts_numpy_state_and_casts_to_param_dtype():
    w = mt.zeros(2, requires_grad=True)
    opt = optim.SGD([w], lr=1.0, momentum=0.5)
    sd = {
        "state": {0: {"momentum_buffer": np.array([2.0, 4.0])}},
        "param_groups": [dict(opt.state_dict()["param_groups"][0])],
    }
    opt.load_state_dict(sd)
    buf = opt.state[w]["momentum_buffer"]
    assert isinstance(buf, mt.Tensor) and buf.dtype == np.float32
    w.grad = mt.tensor([1.0, 1.0])
    opt.step()  # buf = 0.5 * buf + g
    np.testing.assert_allclose(w.data, [-2.0, -3.0])


def test_named_params_and_repr():
    w = mt.ones(2, requires_grad=True)
    opt = optim.Adam([("weight", w)], lr=0.5)
    assert opt.param_groups[0]["param_names"] == ["weight"]
    assert opt.param_groups[0]["params"] == [w] or opt.param_groups[0]["params"][0] is w
    text = repr(opt)
    assert text.startswith("Adam (") and "lr: 0.5" in text and "amsgrad: False" in text


def test_step_hooks_run_once_per_step():
    w = mt.ones(2, requires_grad=True)
    w.grad = mt.ones(2)
    opt = optim.Momentum([w], lr=0.1)
    calls = []
    handle = opt.register_step_pre_hook(lambda o, a, k: calls.append("pre"))
    opt.register_step_post_hook(lambda o, a, k: calls.append("post"))
    opt.step()
    assert calls == ["pre", "post"]
    handle.remove()
    opt.step()
    assert calls == ["pre", "post", "post"]


def test_momentum_defaults():
    w = mt.ones(2, requires_grad=True)
    opt = optim.Momentum([w])
    assert isinstance(opt, optim.SGD)
    assert opt.defaults["momentum"] == 0.9 and opt.defaults["lr"] == 1e-3


# ---------------------------------------------------------------------- gradient clipping
def _grad_pairs(torch, seed=0, scale=1.0):
    rs = np.random.default_rng(seed)
    grads = [rs.standard_normal(s).astype(np.float32) * scale for s in [(4, 3), (7,), (2, 2)]]
    ps = [mt.zeros(g.shape, requires_grad=True) for g in grads]
    tps = [torch.zeros(g.shape, requires_grad=True) for g in grads]
    for p, tp, g in zip(ps, tps, grads):
        p.grad, tp.grad = mt.tensor(g), torch.from_numpy(g.copy())
    return ps, tps


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.0, math.inf, 0.5])
@pytest.mark.parametrize("max_norm", [0.5, 1e4])
def test_clip_grad_norm_matches_torch(torch, norm_type, max_norm):
    ps, tps = _grad_pairs(torch)
    total = optim.clip_grad_norm_(ps, max_norm, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tps, max_norm, norm_type=norm_type)
    assert isinstance(total, mt.Tensor) and total.shape == () and total.dtype == np.float32
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-5)
    for p, tp in zip(ps, tps):
        np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_clip_grad_norm_single_tensor_missing_grads_and_nonfinite(torch):
    w = mt.zeros(2, requires_grad=True)
    w.grad = mt.tensor([3.0, 4.0])
    none = mt.zeros(3, requires_grad=True)
    assert optim.clip_grad_norm_(w, 1.0).item() == pytest.approx(5.0)
    np.testing.assert_allclose(w.grad.data, [0.6, 0.8], rtol=1e-5)
    assert optim.clip_grad_norm_([none], 1.0).item() == 0.0
    w.grad = mt.tensor([np.inf, 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        optim.clip_grad_norm_([w, none], 1.0, error_if_nonfinite=True)
    total = optim.clip_grad_norm_([w], 1.0)
    tw = torch.zeros(2, requires_grad=True)
    tw.grad = torch.tensor([float("inf"), 1.0])
    ttotal = torch.nn.utils.clip_grad_norm_([tw], 1.0)
    assert total.item() == ttotal.item() == math.inf
    np.testing.assert_array_equal(np.isnan(w.grad.data), np.isnan(tw.grad.numpy()))


@pytest.mark.parametrize("clip_value", [0.1, 0.7, 5.0])
def test_clip_grad_value_matches_torch(torch, clip_value):
    ps, tps = _grad_pairs(torch, seed=1)
    arrays = [p.grad.data for p in ps]
    assert optim.clip_grad_value_(ps, clip_value) is None
    torch.nn.utils.clip_grad_value_(tps, clip_value)
    for p, tp, arr in zip(ps, tps, arrays):
        assert p.grad.data is arr  # modified in place
        np.testing.assert_array_equal(p.grad.data, tp.grad.numpy())


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
def test_get_total_norm_and_clip_grads_with_norm_match_torch(torch, norm_type):
    rs = np.random.default_rng(3)
    big = rs.standard_normal(300_001).astype(np.float32)  # several accumulation chunks
    small = rs.standard_normal((3, 5)).astype(np.float32)
    ps = [mt.zeros(a.shape, requires_grad=True) for a in (big, small)]
    tps = [torch.zeros(a.shape, requires_grad=True) for a in (big, small)]
    for p, tp, a in zip(ps, tps, (big, small)):
        p.grad, tp.grad = mt.tensor(a), torch.from_numpy(a.copy())
    total = optim.get_total_norm([p.grad for p in ps], norm_type)
    ttotal = torch.nn.utils.get_total_norm([tp.grad for tp in tps], norm_type)
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-5)
    flat = np.concatenate([big, small.ravel()]).astype(np.float64)
    exact = np.linalg.norm(flat, norm_type)
    np.testing.assert_allclose(total.item(), exact, rtol=1e-6)  # accumulated accurately
    optim.clip_grads_with_norm_(ps, 2.0, total)
    torch.nn.utils.clip_grads_with_norm_(tps, 2.0, ttotal)
    for p, tp in zip(ps, tps):
        np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), rtol=1e-5, atol=1e-8)
