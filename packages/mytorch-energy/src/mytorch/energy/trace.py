"""Observe a model's real forward passes: every op that runs, attributed to the module running it.

Module hooks keep a stack of the modules whose ``forward`` is running; an op observer
(``mytorch.core.autograd.observe_ops``) sees every op with the arrays it ran on. Each op is
charged to the innermost module on the stack, so attention written as matmuls, fused
LSTM/GRU layers and functional calls inside ``forward`` are all counted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from mytorch.core.autograd import observe_ops
from mytorch.energy.rules import Cost, backward_macs, op_cost
from mytorch.nn import Module


@dataclass
class ModuleCall:
    """What one module did over the observed passes (its own ops, not its children's)."""

    name: str  # qualified name in the model ('' for the model itself)
    module: Module
    depth: int
    calls: int = 0
    seconds: float = 0.0  # wall time inside forward, children included
    output_shape: tuple | None = None
    output_bytes: int = 0  # bytes of the outputs of all calls
    ops: dict = field(default_factory=dict)  # kind -> [macs, flops, bias_flops]
    backward_macs: int = 0  # MACs a backward pass would spend on this module's MAC ops


@contextmanager
def train_mode(model: Module, train: bool) -> Iterator[None]:
    """Put every module of ``model`` in training (or eval) mode; restore each one's mode after."""
    modes = [(m, m.training) for m in model.modules()]
    model.train(train)
    try:
        yield
    finally:
        for m, mode in modes:
            m.training = mode


def _first_array(out):
    if isinstance(out, (tuple, list)):
        for o in out:
            a = _first_array(o)
            if a is not None:
                return a
        return None
    data = getattr(out, "data", None)
    return data if isinstance(data, np.ndarray) else None


def _output_bytes(out) -> int:
    if isinstance(out, (tuple, list)):
        return sum(_output_bytes(o) for o in out)
    data = getattr(out, "data", None)
    return int(data.nbytes) if isinstance(data, np.ndarray) else 0


class Tracer:
    """Context manager recording per-module op costs while a model runs forward.

    ``on_op(call, cls, ctx, arrays, kwargs, outputs, cost)`` and
    ``on_module(call, args, output, seconds)`` let monitors add their own measurements.
    Ops run outside every module of the model (the backward pass) are ignored.
    """

    def __init__(
        self,
        model: Module,
        on_op: Callable | None = None,
        on_module: Callable | None = None,
        on_module_start: Callable | None = None,
    ) -> None:
        if not isinstance(model, Module):
            raise TypeError(f"model must be a mytorch.nn.Module, got {type(model).__name__}")
        self.model = model
        self.calls: dict[int, ModuleCall] = {}  # id(module) -> its record, in first-call order
        self._names = {}
        for name, m in model.named_modules():
            self._names.setdefault(id(m), name)
        self._stack: list[tuple[ModuleCall, float]] = []
        self._on_op, self._on_module, self._on_start = on_op, on_module, on_module_start
        self._handles: list = []

    # ----- hooks -----
    def _pre(self, module, args):
        key = id(module)
        call = self.calls.get(key)
        if call is None:
            name = self._names[key]
            depth = 0 if name == "" else name.count(".") + 1
            call = self.calls[key] = ModuleCall(name, module, depth)
        if self._on_start is not None:
            self._on_start(call, args)
        self._stack.append((call, time.perf_counter()))

    def _post(self, module, args, output):
        call, start = self._stack.pop()
        seconds = time.perf_counter() - start
        call.calls += 1
        call.seconds += seconds
        first = _first_array(output)
        if call.output_shape is None and first is not None:
            call.output_shape = tuple(first.shape)
        call.output_bytes += _output_bytes(output)
        if self._on_module is not None:
            self._on_module(call, args, output, seconds)

    def _op(self, cls, ctx, arrays, kwargs, outputs):
        if not self._stack:
            return
        call = self._stack[-1][0]
        cost: Cost = op_cost(cls, ctx, arrays, kwargs, outputs)
        entry = call.ops.setdefault(cost.kind, [0, 0, 0])
        entry[0] += cost.macs
        entry[1] += cost.flops
        entry[2] += cost.bias_flops
        needs = getattr(ctx, "needs_input_grad", None)
        if cost.macs and needs and True in needs:
            call.backward_macs += backward_macs(cls.__name__, cost, needs, arrays)
        if self._on_op is not None:
            self._on_op(call, cls, ctx, arrays, kwargs, outputs, cost)

    # ----- context -----
    def __enter__(self) -> Tracer:
        for m in self.model.modules():
            self._handles.append(m.register_forward_pre_hook(self._pre))
            self._handles.append(m.register_forward_hook(self._post))
        self._handles.append(observe_ops(self._op))
        return self

    def __exit__(self, *exc) -> None:
        for h in self._handles:
            h.remove()
        self._handles.clear()
        self._stack.clear()
