"""Forward energy audit: per layer MACs, effective MACs, wall time, sparsity and estimated energy.

>>> import mytorch.core as mt, mytorch.nn as nn
>>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
>>> with EnergyMonitor(model) as monitor:
...     _ = model(mt.randn(16, 4))
>>> report = monitor.report()
>>> report.samples, report.macs_per_inference
(16, 48.0)

Energy model (per op, with the selected ``EnergyTable``):

- MAC ops (conv, linear, matmul, attention, recurrent): effective MACs x (mult + add), two
  operand reads from local memory per effective MAC, and DRAM traffic of the op's weights,
  inputs and outputs once each (dense: no compressed formats; float64 counts 2 words).
- The bias of MAC ops: one add per output (compute only, fused with the product).
- Other ops: one add per FLOP, their inputs and outputs read/written once in local memory.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field

import numpy as np

from mytorch.core.files import atomic_write
from mytorch.energy.effective import effective_macs
from mytorch.energy.rules import MAC_KINDS
from mytorch.energy.tables import HOROWITZ_45NM, EnergyTable, get_table
from mytorch.energy.trace import Tracer
from mytorch.nn import Module

ASSUMPTIONS = (
    "effective MACs skip every product with a zero operand (zero padding included); attention "
    "and recurrent hidden-state products are counted dense",
    "compute: effective MACs x (mult + add); bias and other ops: one add per FLOP",
    "local memory: 2 operand reads per effective MAC; other ops read and write their arrays once",
    "DRAM: each MAC op reads its weights and inputs and writes its outputs once, dense, "
    "32-bit words (float64 counts 2)",
)


@dataclass
class LayerEnergy:
    """What one module's own ops did over the observed forward passes."""

    name: str
    type: str
    calls: int
    macs: int
    effective_macs: int
    other_flops: int
    seconds: float  # wall time in forward, excluding submodules
    input_sparsity: float | None  # fraction of exact zeros over the module's inputs
    output_sparsity: float | None
    compute_pj: float
    local_pj: float
    dram_pj: float

    @property
    def energy_pj(self) -> float:
        return self.compute_pj + self.local_pj + self.dram_pj

    @property
    def skippable_macs(self) -> int:
        return self.macs - self.effective_macs


@dataclass
class _Acc:
    macs: int = 0
    effective: int = 0
    other: int = 0
    compute: float = 0.0
    local: float = 0.0
    dram: float = 0.0
    in_zeros: int = 0
    in_total: int = 0
    out_zeros: int = 0
    out_total: int = 0
    calls: int = 0
    seconds: float = 0.0  # in forward, submodules included
    child_seconds: float = 0.0


def _words(a) -> float:
    return a.nbytes / 4 if isinstance(a, np.ndarray) else 0.0


def _zeros(obj) -> tuple[int, int]:
    """(exact zeros, elements) over the floating tensors in ``obj`` (nested tuples/lists)."""
    if isinstance(obj, (tuple, list)):
        z = n = 0
        for o in obj:
            a, b = _zeros(o)
            z, n = z + a, n + b
        return z, n
    data = getattr(obj, "data", None)
    if isinstance(data, np.ndarray) and data.dtype.kind == "f":
        return int(data.size - np.count_nonzero(data)), int(data.size)
    return 0, 0


@dataclass
class EnergyReport:
    """Per-layer measurements and totals; per-inference figures divide by ``samples``."""

    layers: list[LayerEnergy]
    samples: int
    table: dict
    assumptions: list[str] = field(default_factory=lambda: list(ASSUMPTIONS))

    def _sum(self, attr: str) -> float:
        return sum(getattr(r, attr) for r in self.layers)

    @property
    def macs(self) -> int:
        return int(self._sum("macs"))

    @property
    def effective_macs(self) -> int:
        return int(self._sum("effective_macs"))

    @property
    def energy_pj(self) -> float:
        return self._sum("energy_pj")

    @property
    def seconds(self) -> float:
        return self._sum("seconds")

    def _per(self, value: float) -> float:
        return value / self.samples if self.samples else float("nan")

    @property
    def macs_per_inference(self) -> float:
        return self._per(self.macs)

    @property
    def effective_macs_per_inference(self) -> float:
        return self._per(self.effective_macs)

    @property
    def energy_per_inference_j(self) -> float:
        return self._per(self.energy_pj) * 1e-12

    def to_dict(self) -> dict:
        layers = []
        for r in self.layers:
            d = asdict(r)
            d.update(energy_pj=r.energy_pj, skippable_macs=r.skippable_macs)
            layers.append(d)
        return {
            "layers": layers,
            "samples": self.samples,
            "macs": self.macs,
            "effective_macs": self.effective_macs,
            "macs_per_inference": self.macs_per_inference,
            "effective_macs_per_inference": self.effective_macs_per_inference,
            "energy_j": self.energy_pj * 1e-12,
            "energy_per_inference_j": self.energy_per_inference_j,
            "seconds": self.seconds,
            "table": self.table,
            "assumptions": self.assumptions,
        }

    def to_json(self, path: str | os.PathLike | None = None, **kwargs) -> str:
        """The report as JSON; written atomically to ``path`` when given."""
        text = json.dumps(self.to_dict(), **{"indent": 2, **kwargs})
        if path is not None:
            atomic_write(path, lambda f: f.write(text.encode()))
        return text

    def table_text(self) -> str:
        head = ("Layer", "Type", "MACs", "Eff. MACs", "In zeros", "Out zeros", "ms", "Energy")
        rows = [head]
        for r in self.layers:
            rows.append(
                (
                    r.name or "(model)",
                    r.type,
                    f"{r.macs:,}",
                    f"{r.effective_macs:,}",
                    "--" if r.input_sparsity is None else f"{100 * r.input_sparsity:.1f}%",
                    "--" if r.output_sparsity is None else f"{100 * r.output_sparsity:.1f}%",
                    f"{1e3 * r.seconds:.2f}",
                    _joules(r.energy_pj * 1e-12),
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
        lines = [
            "  ".join(
                c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))
            )
            for row in rows
        ]
        rule = "=" * len(lines[0])
        lines = [rule, lines[0], rule, *lines[1:], rule]
        saved = 1 - self.effective_macs / self.macs if self.macs else 0.0
        lines += [
            f"Samples: {self.samples}; per inference: {self.macs_per_inference:,.0f} MACs, "
            f"{self.effective_macs_per_inference:,.0f} effective ({100 * saved:.1f}% skippable), "
            f"{_joules(self.energy_per_inference_j)}",
            f"Energy table: {self.table['name']} ({self.table['source']})",
            *[f"Assumption: {a}" for a in self.assumptions],
        ]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table_text()

    def plot(self, path: str | os.PathLike) -> None:
        """Save a PNG: per-layer energy (stacked by component) and input/output sparsity."""
        from mytorch.energy.plots import plot_energy_report

        plot_energy_report(self, path)


def _joules(j: float) -> str:
    for scale, unit in ((1, "J"), (1e-3, "mJ"), (1e-6, "uJ"), (1e-9, "nJ")):
        if abs(j) >= scale:
            return f"{j / scale:.3g} {unit}"
    return f"{j * 1e12:.3g} pJ"


class EnergyMonitor:
    """Records per-layer compute, sparsity, time and energy over the forward passes run inside it.

    ``table``: 'horowitz-45nm' (default), 'eyeriss', an ``EnergyTable`` or a dict of its
    fields. ``batch_dim``: the dimension of the model's first input that counts samples.
    ``effective=False`` skips the zero counting (cheaper; effective MACs then equal MACs).
    The monitor can be entered many times; ``report()`` covers everything seen; ``reset()``
    forgets it.
    """

    def __init__(
        self,
        model: Module,
        table: str | EnergyTable | dict = HOROWITZ_45NM,
        *,
        batch_dim: int = 0,
        effective: bool = True,
    ) -> None:
        self.model = model
        self.table = get_table(table)
        self.batch_dim = batch_dim
        self.effective = effective
        self._tracer: Tracer | None = None
        self.reset()

    def reset(self) -> None:
        self._acc: dict[str, _Acc] = {}
        self._types: dict[str, str] = {}
        self.samples = 0

    # ----- callbacks from the tracer -----
    def _on_start(self, call, args) -> None:
        if call.depth == 0:
            first = next((a for a in args if hasattr(a, "shape")), None)
            if first is not None and len(first.shape) > self.batch_dim:
                self.samples += int(first.shape[self.batch_dim])

    def _on_op(self, call, cls, ctx, arrays, kwargs, outputs, cost) -> None:
        acc = self._acc.setdefault(call.name, _Acc())
        t = self.table
        outs = outputs if isinstance(outputs, tuple) else (outputs,)
        out_words = sum(_words(o) for o in outs)
        in_words = sum(_words(a) for a in arrays)
        if cost.kind in MAC_KINDS and cost.macs:
            eff = (
                effective_macs(cls, ctx, arrays, kwargs, outputs, cost.macs)
                if self.effective
                else cost.macs
            )
            acc.macs += cost.macs
            acc.effective += eff
            acc.compute += eff * (t.mult_pj + t.add_pj) + cost.bias_flops * t.add_pj
            acc.local += 2 * eff * t.local_pj
            acc.dram += (in_words + out_words) * t.dram_pj
        else:
            flops = cost.flops + cost.bias_flops
            acc.other += flops
            acc.compute += flops * t.add_pj
            if flops:
                acc.local += (in_words + out_words) * t.local_pj

    def _on_module(self, call, args, output, seconds) -> None:
        acc = self._acc.setdefault(call.name, _Acc())
        self._types[call.name] = type(call.module).__name__
        acc.calls += 1  # kept here: each entry of the monitor starts a fresh tracer
        acc.seconds += seconds
        z, n = _zeros(args)
        acc.in_zeros += z
        acc.in_total += n
        z, n = _zeros(output)
        acc.out_zeros += z
        acc.out_total += n
        if call.name:
            parent = call.name.rsplit(".", 1)[0] if "." in call.name else ""
            self._acc.setdefault(parent, _Acc()).child_seconds += seconds

    # ----- context -----
    def __enter__(self) -> EnergyMonitor:
        self._tracer = Tracer(
            self.model, on_op=self._on_op, on_module=self._on_module, on_module_start=self._on_start
        )
        self._tracer.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._tracer is not None:
            self._tracer.__exit__(*exc)
            self._tracer = None

    def report(self) -> EnergyReport:
        """Per-layer rows for every module that ran ops of its own or has no submodules."""
        names = [n for n, _ in self.model.named_modules()]
        parents = {n.rsplit(".", 1)[0] if "." in n else "" for n in names if n}
        rows = []
        for name in names:
            acc = self._acc.get(name)
            if acc is None or not acc.calls:
                continue
            own_work = acc.macs or acc.other
            if name in parents and not own_work:
                continue
            calls, seconds = acc.calls, acc.seconds
            rows.append(
                LayerEnergy(
                    name=name,
                    type=self._types[name],
                    calls=calls,
                    macs=acc.macs,
                    effective_macs=acc.effective,
                    other_flops=acc.other,
                    seconds=max(seconds - acc.child_seconds, 0.0),
                    input_sparsity=acc.in_zeros / acc.in_total if acc.in_total else None,
                    output_sparsity=acc.out_zeros / acc.out_total if acc.out_total else None,
                    compute_pj=acc.compute,
                    local_pj=acc.local,
                    dram_pj=acc.dram,
                )
            )
        return EnergyReport(rows, self.samples, self.table.to_dict())
