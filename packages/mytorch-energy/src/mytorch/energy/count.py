"""Count a model's parameters, MACs and other FLOPs per layer by running one real forward pass.

>>> import mytorch.core as mt, mytorch.nn as nn
>>> model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10))
>>> report = count(model, mt.zeros(1, 784))
>>> report.macs, report.params
(406528, 407050)
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import mytorch.core as mt
from mytorch.core.tensor import Tensor
from mytorch.energy.formatting import format_table
from mytorch.energy.rules import MAC_KINDS
from mytorch.energy.trace import Tracer, train_mode
from mytorch.nn import Module


@dataclass
class LayerCount:
    """One module's counts. ``macs``/``flops``/``params`` include its submodules; ``self_*`` do not."""

    name: str
    type: str
    depth: int
    output_shape: tuple | None
    calls: int
    params: int
    macs: int
    other_flops: int
    bias_flops: int
    activation_bytes: int
    self_params: int
    self_macs: int
    self_other_flops: int
    by_kind: dict = field(default_factory=dict)  # kind -> MACs (MAC kinds) or FLOPs (others)

    @property
    def flops(self) -> int:
        """All FLOPs: 2 per MAC, plus bias and other ops."""
        return 2 * self.macs + self.bias_flops + self.other_flops


@dataclass
class CountReport:
    """Per-layer rows (model order) and totals of one observed forward pass."""

    layers: list[LayerCount]
    params: int
    trainable_params: int
    macs: int
    bias_flops: int
    other_flops: dict  # kind -> FLOPs
    activation_bytes: int  # outputs of the leaf modules: what a backward pass keeps
    param_bytes: int
    backward_macs: int
    input_shapes: list

    @property
    def flops(self) -> int:
        """Forward FLOPs: 2 per MAC + bias + every other op."""
        return 2 * self.macs + self.bias_flops + sum(self.other_flops.values())

    @property
    def train_macs(self) -> int:
        """MACs of one training step (forward + backward) on the counted input."""
        return self.macs + self.backward_macs

    @property
    def train_flops(self) -> int:
        """FLOPs of one training step: 2 per MAC, plus the other ops' forward and an estimated
        backward of twice their forward (a gradient and a product with the local derivative)."""
        other = self.bias_flops + sum(self.other_flops.values())
        return 2 * self.train_macs + 3 * other

    def layer(self, name: str) -> LayerCount:
        for row in self.layers:
            if row.name == name:
                return row
        raise KeyError(f"no layer named {name!r}; layers: {[r.name for r in self.layers]}")

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(flops=self.flops, train_macs=self.train_macs, train_flops=self.train_flops)
        return d

    def to_json(self, **kwargs) -> str:
        return json.dumps(self.to_dict(), default=list, **kwargs)

    def table(self, max_depth: int | None = None) -> str:
        return format_table(self, max_depth)

    def __str__(self) -> str:
        return self.table()


def _as_inputs(inputs) -> list:
    out = []
    for x in inputs:
        if isinstance(x, tuple) and all(isinstance(n, int) for n in x):
            x = mt.randn(*x)  # a shape
        out.append(x)
    return out


def _params(module: Module, recurse: bool) -> tuple[int, int, int]:
    """(parameters, trainable parameters, bytes), each shared parameter counted once."""
    total = trainable = nbytes = 0
    seen = set()
    for p in module.parameters(recurse=recurse):
        if id(p) in seen:
            continue
        seen.add(id(p))
        total += p.numel()
        trainable += p.numel() if p.requires_grad else 0
        nbytes += p.data.nbytes
    return total, trainable, nbytes


def count(model: Module, *inputs, train: bool = False, **kwargs) -> CountReport:
    """Run ``model(*inputs, **kwargs)`` once and count what every layer computed.

    ``inputs`` are tensors, or shapes (tuples of ints) to fill with random normal values. The
    model runs in eval mode unless ``train`` (each module's mode is restored afterwards).
    MACs are those of convolution, linear, matmul, attention and recurrent ops, without bias
    (torchvision's and fvcore's convention); other ops are counted apart by kind.
    """
    tracer = Tracer(model)  # checks that model is a Module
    args = _as_inputs(inputs)
    with train_mode(model, train), tracer, mt.enable_grad():
        model(*args, **kwargs)
    return _build_report(model, tracer, args)


def _build_report(model: Module, tracer: Tracer, args: list) -> CountReport:
    calls = {c.name: c for c in tracer.calls.values()}
    rows: list[LayerCount] = []
    named = list(model.named_modules())
    # modules whose submodules ran; the others keep their own outputs (a leaf, or a module such
    # as MultiheadAttention that uses its children's weights functionally)
    parents = {n.rsplit(".", 1)[0] if "." in n else "" for n in calls if n}
    for name, module in named:
        call = calls.get(name)
        self_params = _params(module, recurse=False)[0]
        by_kind: dict[str, int] = {}
        macs = other = bias = act = 0
        prefix = name + "." if name else ""
        for cname, c in calls.items():
            if cname == name or cname.startswith(prefix):
                for kind, (m_, f_, b_) in c.ops.items():
                    by_kind[kind] = by_kind.get(kind, 0) + (m_ if kind in MAC_KINDS else f_)
                    macs += m_
                    other += f_
                    bias += b_
                if cname not in parents:  # a leaf: its outputs are the activations kept
                    act += c.output_bytes
        if call is None and not macs and not other and not self_params:
            continue
        own = call.ops if call is not None else {}
        rows.append(
            LayerCount(
                name=name,
                type=type(module).__name__,
                depth=0 if not name else name.count(".") + 1,
                output_shape=call.output_shape if call is not None else None,
                calls=call.calls if call is not None else 0,
                params=_params(module, recurse=True)[0],
                macs=macs,
                other_flops=other,
                bias_flops=bias,
                activation_bytes=act,
                self_params=self_params,
                self_macs=sum(v[0] for v in own.values()),
                self_other_flops=sum(v[1] for v in own.values()),
                by_kind={k: v for k, v in by_kind.items() if v},
            )
        )
    total, trainable, param_bytes = _params(model, recurse=True)
    root = rows[0] if rows and rows[0].name == "" else None
    other_by_kind: dict[str, int] = {}
    for c in calls.values():
        for kind, (_, f_, _) in c.ops.items():
            if f_:
                other_by_kind[kind] = other_by_kind.get(kind, 0) + f_
    return CountReport(
        layers=rows,
        params=total,
        trainable_params=trainable,
        macs=root.macs if root else 0,
        bias_flops=root.bias_flops if root else 0,
        other_flops=other_by_kind,
        activation_bytes=root.activation_bytes if root else 0,
        param_bytes=param_bytes,
        backward_macs=sum(c.backward_macs for c in calls.values()),
        input_shapes=[tuple(a.shape) for a in args if isinstance(a, Tensor)],
    )
