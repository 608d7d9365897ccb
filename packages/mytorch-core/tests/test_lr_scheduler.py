"""Learning-rate schedulers: the lr (and momentum) sequences equal torch's, step for step."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import mytorch.core as mt
from mytorch.core import optim
from mytorch.core.optim import lr_scheduler

STEPS = 40
LRS = (0.1, 0.05)


def _half(epoch: int) -> float:
    return 0.5 ** (epoch // 4)


def _linear(epoch: int) -> float:
    return 1.0 / (1 + epoch)


def _shrink(epoch: int) -> float:
    return 0.9


# name -> (optimizer name, factory(module, optimizer)); the module is mytorch's or torch's.
SCHEDULERS = {
    "StepLR": ("SGD", lambda M, o: M.StepLR(o, step_size=3, gamma=0.5)),
    "StepLR-default-gamma": ("SGD", lambda M, o: M.StepLR(o, 7)),
    "MultiStepLR": ("SGD", lambda M, o: M.MultiStepLR(o, milestones=[3, 8, 8, 20], gamma=0.3)),
    "ExponentialLR": ("SGD", lambda M, o: M.ExponentialLR(o, gamma=0.9)),
    "CosineAnnealingLR": ("SGD", lambda M, o: M.CosineAnnealingLR(o, T_max=10)),
    "CosineAnnealingLR-eta_min": ("SGD", lambda M, o: M.CosineAnnealingLR(o, 7, eta_min=0.01)),
    "LambdaLR": ("SGD", lambda M, o: M.LambdaLR(o, _half)),
    "LambdaLR-per-group": ("SGD", lambda M, o: M.LambdaLR(o, [_half, _linear])),
    "MultiplicativeLR": ("SGD", lambda M, o: M.MultiplicativeLR(o, _shrink)),
    "LinearLR": ("SGD", lambda M, o: M.LinearLR(o)),
    "LinearLR-decay": ("SGD", lambda M, o: M.LinearLR(o, 1.0, 0.1, total_iters=15)),
    "ConstantLR": ("SGD", lambda M, o: M.ConstantLR(o, factor=0.25, total_iters=6)),
    "PolynomialLR": ("SGD", lambda M, o: M.PolynomialLR(o, total_iters=25, power=2.0)),
    "OneCycleLR-cos-sgd": ("Momentum", lambda M, o: M.OneCycleLR(o, max_lr=1.0, total_steps=40)),
    "OneCycleLR-linear-adam": (
        "Adam",
        lambda M, o: M.OneCycleLR(
            o, max_lr=[0.5, 0.2], epochs=4, steps_per_epoch=10, anneal_strategy="linear"
        ),
    ),
    "OneCycleLR-three-phase": (
        "Adam",
        lambda M, o: M.OneCycleLR(
            o, max_lr=0.3, total_steps=45, pct_start=0.25, three_phase=True, div_factor=10.0
        ),
    ),
    "OneCycleLR-no-momentum": (
        "Adagrad",
        lambda M, o: M.OneCycleLR(o, max_lr=0.3, total_steps=40, cycle_momentum=False),
    ),
    "CyclicLR-triangular": (
        "Momentum",
        lambda M, o: M.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=5, step_size_down=3),
    ),
    "CyclicLR-triangular2-adam": (
        "Adam",
        lambda M, o: M.CyclicLR(o, 0.01, [0.2, 0.1], step_size_up=4, mode="triangular2"),
    ),
    "CyclicLR-exp_range": (
        "Momentum",
        lambda M, o: M.CyclicLR(o, 0.01, 0.1, step_size_up=6, mode="exp_range", gamma=0.95),
    ),
    "CosineAnnealingWarmRestarts": (
        "SGD",
        lambda M, o: M.CosineAnnealingWarmRestarts(o, T_0=6, eta_min=0.001),
    ),
    "CosineAnnealingWarmRestarts-T_mult": (
        "SGD",
        lambda M, o: M.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2),
    ),
    "SequentialLR": (
        "SGD",
        lambda M, o: M.SequentialLR(
            o,
            [M.LinearLR(o, start_factor=0.1, total_iters=5), M.CosineAnnealingLR(o, T_max=12)],
            milestones=[5],
        ),
    ),
    "SequentialLR-three": (
        "SGD",
        lambda M, o: M.SequentialLR(
            o,
            [M.ConstantLR(o, 0.5, 4), M.ExponentialLR(o, 0.9), M.StepLR(o, 3, 0.5)],
            milestones=[6, 20],
        ),
    ),
    "ChainedScheduler": (
        "SGD",
        lambda M, o: M.ChainedScheduler(
            [M.ConstantLR(o, factor=0.5, total_iters=4), M.ExponentialLR(o, gamma=0.95)]
        ),
    ),
}


def _params(lib, shapes=((2,), (3,))):
    return [lib.zeros(s, requires_grad=True) for s in shapes]


def _optimizer(lib_optim, name: str, params):
    kind = "SGD" if name == "Momentum" else name
    extra = {"momentum": 0.9} if name == "Momentum" else {}
    groups = [{"params": [params[0]], "lr": LRS[0]}, {"params": [params[1]], "lr": LRS[1]}]
    return getattr(lib_optim, kind)(groups, **extra)


def _trace(opt, sched, steps: int) -> list[list[float]]:
    """lr, momentum and beta1 of every group, after construction and after each step."""

    def snapshot():
        row = list(sched.get_last_lr()) + [g["lr"] for g in opt.param_groups]
        for g in opt.param_groups:
            row.append(g.get("momentum", 0.0))
            row.append(g["betas"][0] if "betas" in g else 0.0)
        return [float(v) for v in row]

    rows = [snapshot()]
    for _ in range(steps):
        opt.step()
        sched.step()
        rows.append(snapshot())
    return rows


def _pair(torch, key):
    opt_name, factory = SCHEDULERS[key]
    opt = _optimizer(optim, opt_name, _params(mt))
    topt = _optimizer(torch.optim, opt_name, _params(torch))
    return (opt, factory(lr_scheduler, opt)), (topt, factory(torch.optim.lr_scheduler, topt))


@pytest.mark.parametrize("key", list(SCHEDULERS))
def test_lr_sequence_matches_torch(torch, key):
    (opt, sched), (topt, tsched) = _pair(torch, key)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # stepping in the right order warns in neither library
        ours = _trace(opt, sched, STEPS)
    theirs = _trace(topt, tsched, STEPS)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
    assert getattr(sched, "last_epoch", None) == getattr(tsched, "last_epoch", None)
    assert [g.get("initial_lr") for g in opt.param_groups] == [
        g.get("initial_lr") for g in topt.param_groups
    ]


@pytest.mark.parametrize("key", list(SCHEDULERS))
def test_state_dict_round_trip_continues_identically(torch, key):
    steps = 15
    (opt, sched), (topt, tsched) = _pair(torch, key)
    _trace(opt, sched, steps)
    _trace(topt, tsched, steps)
    opt_name, factory = SCHEDULERS[key]
    opt2 = _optimizer(optim, opt_name, _params(mt))
    sched2 = factory(lr_scheduler, opt2)
    state = sched.state_dict()
    assert "optimizer" not in state
    assert state.get("last_epoch") == tsched.state_dict().get("last_epoch")
    sched2.load_state_dict(state)
    opt2.load_state_dict(opt.state_dict())
    ours = _trace(opt2, sched2, STEPS - steps)
    theirs = _trace(topt, tsched, STEPS - steps)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


def test_cosine_annealing_past_t_max_and_closed_form(torch):
    (opt, sched), (topt, tsched) = _pair(torch, "CosineAnnealingLR")
    ours = _trace(opt, sched, 65)
    theirs = _trace(topt, tsched, 65)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
    # lr climbs back after T_max = 10 and returns to the base lr at 2 * T_max.
    assert ours[20][0] == pytest.approx(LRS[0]) and ours[10][0] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("key", ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR"])
def test_step_with_epoch_uses_closed_form_like_torch(torch, key):
    (opt, sched), (topt, tsched) = _pair(torch, key)
    opt.step()
    topt.step()
    for epoch in [3, 7, 8, 15, 2]:
        with pytest.warns(UserWarning, match="epoch parameter"):
            sched.step(epoch)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tsched.step(epoch)
        np.testing.assert_allclose(sched.get_last_lr(), tsched.get_last_lr(), rtol=1e-12)


def test_cosine_warm_restarts_fractional_epochs(torch):
    (opt, sched), (topt, tsched) = _pair(torch, "CosineAnnealingWarmRestarts-T_mult")
    for epoch in [0.5, 1.25, 4.0, 9.5, 10.0, 30.7, 2]:
        sched.step(epoch)
        tsched.step(epoch)
        np.testing.assert_allclose(sched.get_last_lr(), tsched.get_last_lr(), rtol=1e-12)
        assert sched.last_epoch == tsched.last_epoch


METRICS = [
    1.0, 0.9, 0.85, 0.85, 0.86, 0.84, 0.84, 0.84, 0.84, 0.83, 0.9, 0.9, 0.9, 0.9, 0.9,
    0.5, 0.5, 0.5, 0.5, 0.5, 0.49999, 0.5, 0.5, 0.5, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4,
    0.3, 0.31, 0.32, 0.33, 0.34, 0.35, 0.36, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2,
    0.2, 0.2, 0.2, 0.2, 0.2, 0.2,
]  # fmt: skip


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"patience": 2},
        {"patience": 1, "factor": 0.5, "cooldown": 2},
        {"patience": 0, "factor": 0.5, "min_lr": 0.01},
        {"patience": 1, "factor": 0.5, "min_lr": [0.02, 0.001]},
        {"patience": 2, "threshold": 0.05, "threshold_mode": "abs"},
        {"patience": 2, "mode": "max"},
        {"patience": 1, "mode": "max", "threshold": 0.1, "threshold_mode": "abs", "cooldown": 1},
        {"patience": 0, "factor": 0.9, "eps": 0.004},
    ],
)
def test_reduce_lr_on_plateau_matches_torch(torch, kwargs):
    opt = _optimizer(optim, "SGD", _params(mt))
    topt = _optimizer(torch.optim, "SGD", _params(torch))
    sched = lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    ours, theirs = [], []
    for i, metric in enumerate(METRICS):
        opt.step()
        topt.step()
        sched.step(mt.tensor(metric) if i % 2 else metric)
        tsched.step(metric)
        ours.append(sched.get_last_lr() + [sched.best, sched.num_bad_epochs])
        theirs.append(tsched.get_last_lr() + [tsched.best, tsched.num_bad_epochs])
    np.testing.assert_allclose(ours, theirs, rtol=1e-7)
    assert ours[-1][0] < LRS[0]  # the sequence does trigger reductions

    # state dict round trip continues identically
    sched2 = lr_scheduler.ReduceLROnPlateau(_optimizer(optim, "SGD", _params(mt)))
    sched2.load_state_dict(sched.state_dict())
    sched2.optimizer.load_state_dict(opt.state_dict())
    for metric in METRICS[::-1]:
        sched2.step(metric)
        tsched.step(metric)
        np.testing.assert_allclose(sched2.get_last_lr(), tsched.get_last_lr(), rtol=1e-7)


def test_reduce_lr_on_plateau_errors():
    opt = _optimizer(optim, "SGD", _params(mt))
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        lr_scheduler.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode sideways is unknown"):
        lr_scheduler.ReduceLROnPlateau(opt, mode="sideways")
    with pytest.raises(ValueError, match="threshold mode pct is unknown"):
        lr_scheduler.ReduceLROnPlateau(opt, threshold_mode="pct")
    with pytest.raises(ValueError, match="expected 2 min_lrs, got 1"):
        lr_scheduler.ReduceLROnPlateau(opt, min_lr=[0.1])


def test_base_behaviour_initial_lr_and_last_epoch():
    opt = _optimizer(optim, "SGD", _params(mt))
    sched = lr_scheduler.StepLR(opt, step_size=2)
    assert sched.last_epoch == 0 and sched.base_lrs == list(LRS)
    assert [g["initial_lr"] for g in opt.param_groups] == list(LRS)
    assert sched.get_last_lr() == list(LRS)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(_optimizer(optim, "SGD", _params(mt)), 2, last_epoch=3)
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        lr_scheduler.StepLR([], 2)


def test_resume_with_last_epoch_matches_torch(torch):
    opt = _optimizer(optim, "SGD", _params(mt))
    topt = _optimizer(torch.optim, "SGD", _params(torch))
    for o in (opt, topt):
        for g in o.param_groups:
            g["initial_lr"] = 1.0
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=10, last_epoch=4)
    tsched = torch.optim.lr_scheduler.CosineAnnealingLR(topt, T_max=10, last_epoch=4)
    np.testing.assert_allclose(_trace(opt, sched, 12), _trace(topt, tsched, 12), rtol=1e-12)


def test_warnings_for_wrong_order_and_get_lr():
    opt = _optimizer(optim, "SGD", _params(mt))
    sched = lr_scheduler.ExponentialLR(opt, 0.5)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched.get_lr()


def test_scheduler_argument_errors():
    opt = _optimizer(optim, "SGD", _params(mt))
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 3"):
        lr_scheduler.LambdaLR(opt, [_half] * 3)
    with pytest.raises(ValueError, match="between 0 and 1"):
        lr_scheduler.ConstantLR(opt, factor=2.0)
    with pytest.raises(ValueError, match="Starting multiplicative factor"):
        lr_scheduler.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match="total_steps OR"):
        lr_scheduler.OneCycleLR(opt, max_lr=0.1)
    with pytest.raises(ValueError, match="pct_start"):
        lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10, pct_start=1.5)
    with pytest.raises(ValueError, match="anneal_strategy"):
        lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10, anneal_strategy="step")
    with pytest.raises(ValueError, match="max_lr must have the same length"):
        lr_scheduler.OneCycleLR(opt, max_lr=[0.1], total_steps=10)
    with pytest.raises(ValueError, match="must support momentum or beta1"):
        lr_scheduler.OneCycleLR(
            optim.Adagrad([mt.zeros(1, requires_grad=True)]), max_lr=0.1, total_steps=10
        )
    with pytest.raises(ValueError, match="positive integer T_0"):
        lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=0)
    with pytest.raises(ValueError, match="number of milestones"):
        lr_scheduler.SequentialLR(opt, [lr_scheduler.StepLR(opt, 2)], milestones=[3])
    with pytest.raises(ValueError, match="does not support `ReduceLROnPlateau`"):
        lr_scheduler.ChainedScheduler([lr_scheduler.ReduceLROnPlateau(opt)])
    other = _optimizer(optim, "SGD", _params(mt))
    with pytest.raises(ValueError, match="same optimizer"):
        lr_scheduler.SequentialLR(
            opt, [lr_scheduler.StepLR(opt, 2), lr_scheduler.StepLR(other, 2)], milestones=[3]
        )


def test_one_cycle_raises_past_total_steps():
    opt = optim.SGD([mt.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=3)
    for _ in range(2):
        opt.step()
        sched.step()
    assert sched.get_last_lr()[0] == pytest.approx(1.0 / 25 / 1e4)
    sched.step()  # total_steps itself is still allowed (torch extrapolates the last phase)
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        sched.step()


def test_lambda_state_dict_keeps_callable_objects_state():
    class Warmup:
        def __init__(self, n):
            self.n = n

        def __call__(self, epoch):
            return min(1.0, (epoch + 1) / self.n)

    opt = optim.SGD([mt.zeros(1, requires_grad=True)], lr=1.0)
    sched = lr_scheduler.LambdaLR(opt, Warmup(4))
    state = sched.state_dict()
    assert state["lr_lambdas"] == [{"n": 4}]
    opt2 = optim.SGD([mt.zeros(1, requires_grad=True)], lr=1.0)
    sched2 = lr_scheduler.LambdaLR(opt2, Warmup(10))
    sched2.load_state_dict(state)
    assert sched2.lr_lambdas[0].n == 4
    assert "lr_lambdas" in state  # the caller's dict is left intact
    assert math.isclose(sched2.get_last_lr()[0], 0.25)
    opt2.step()
    sched2.step()
    assert math.isclose(sched2.get_last_lr()[0], 0.5)  # uses the restored n = 4
