"""Find the layers an expected-FLOPs penalty prices, and which gates or BatchNorms scale them.

``flops_layers(model, *inputs)`` runs one forward pass and returns a ``FlopsLayer`` per
convolution or linear layer, in the order they ran, with its MACs on the example input. A layer's
output side is scaled by the first ``L0Gate`` or affine normalization module that runs after it
(before the next such layer) with as many channels as it has outputs; its input side by the
output source of the layer that ran before it, when the widths agree (or when the input is that
source's channels flattened with their positions, as a Linear after Flatten). This follows
chains (MLPs, plain CNNs) exactly; in branching networks (residual blocks) a layer is paired
with the layer that ran just before it, which may not be the one that fed it.

>>> import mytorch.nn as nn
>>> from mytorch.energy.gates import L0Gate
>>> model = nn.Sequential(nn.Linear(8, 4), L0Gate(4), nn.ReLU(), nn.Linear(4, 2))
>>> [(f.name, f.macs, f.in_channels, f.out_channels) for f in flops_layers(model, (1, 8))]
[('0', 32, 8, 4), ('3', 8, 4, 2)]
"""

from __future__ import annotations

import mytorch.core as mt
from mytorch.energy.count import _as_inputs
from mytorch.energy.gates import L0Gate
from mytorch.energy.regularizers import FlopsLayer
from mytorch.energy.trace import Tracer, train_mode
from mytorch.nn import (
    BatchNorm1d,
    BatchNorm2d,
    BatchNorm3d,
    InstanceNorm1d,
    InstanceNorm2d,
    Module,
)

# per-channel scales that can act as a layer's source width (MorphNet's gamma)
_CHANNEL_NORMS = (BatchNorm1d, BatchNorm2d, BatchNorm3d, InstanceNorm1d, InstanceNorm2d)


def _widths(module: Module) -> tuple[int, int] | None:
    """(input channels, output channels) of a conv or linear module, else None."""
    w = getattr(module, "weight", None)
    if w is None or w.ndim < 2:
        return None
    name = type(module).__name__
    if name.startswith("ConvTranspose"):
        return w.shape[0], w.shape[1] * module.groups
    if name.startswith("Conv"):
        return w.shape[1] * module.groups, w.shape[0]
    if name in ("Linear", "LazyLinear", "NonDynamicallyQuantizableLinear"):
        return w.shape[1], w.shape[0]
    return None


def _source_width(module: Module) -> int | None:
    if isinstance(module, L0Gate):
        return module.num_features
    if isinstance(module, _CHANNEL_NORMS) and getattr(module, "weight", None) is not None:
        return module.num_features
    return None


def flops_layers(model: Module, *inputs, **kwargs) -> list[FlopsLayer]:
    """The conv/linear layers of ``model`` on ``inputs`` with their gate or BatchNorm sources."""
    tracer = Tracer(model)
    args = _as_inputs(inputs)
    with train_mode(model, False), tracer, mt.no_grad():
        model(*args, **kwargs)
    order = [c.module for c in tracer.calls.values()]  # in the order they first ran
    macs = {id(c.module): sum(v[0] for v in c.ops.values()) for c in tracer.calls.values()}
    names = {id(c.module): c.name for c in tracer.calls.values()}
    layers: list[FlopsLayer] = []
    previous_out: Module | None = None
    current: list | None = None  # [module, in_w, out_w, in_source, out_source]
    for module in order:
        widths = _widths(module)
        if widths is not None and macs.get(id(module)):
            if current is not None:
                layers.append(_finish(current, macs, names))
                previous_out = current[4]
            in_w, out_w = widths
            in_source = None
            if previous_out is not None:
                width = _source_width(previous_out)
                if width and (in_w == width or in_w % width == 0):
                    in_source = previous_out
            current = [module, in_w, out_w, in_source, None]
            continue
        width = _source_width(module)
        if current is not None and current[4] is None and width == current[2]:
            current[4] = module
    if current is not None:
        layers.append(_finish(current, macs, names))
    return layers


def _finish(current: list, macs: dict, names: dict) -> FlopsLayer:
    module, in_w, out_w, in_source, out_source = current
    if in_source is not None:
        in_w = _source_width(in_source)  # a flattened input: cost per source channel
    return FlopsLayer(
        name=names[id(module)],
        macs=macs[id(module)],
        in_channels=in_w,
        out_channels=out_w,
        in_source=in_source,
        out_source=out_source,
    )
