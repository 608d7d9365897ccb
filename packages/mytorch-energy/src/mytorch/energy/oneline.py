"""One line for the end of a training run: compute per inference, estimated energy, carbon.

>>> import mytorch.core as mt, mytorch.nn as nn
>>> line = energy_line(nn.Linear(4, 2), mt.ones(8, 4), samples_per_epoch=100)
>>> line.startswith("energy: 8 MACs/inference (8 effective)")
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mytorch.core as mt
from mytorch.energy.count import count
from mytorch.energy.monitor import EnergyMonitor, _joules
from mytorch.energy.tables import HOROWITZ_45NM, EnergyTable
from mytorch.energy.trace import train_mode

if TYPE_CHECKING:
    from mytorch.nn import Module


def energy_line(
    model: Module,
    *example_inputs,
    samples_per_epoch: int,
    carbon=None,
    table: str | EnergyTable | dict = HOROWITZ_45NM,
    batch_dim: int = 0,
    **kwargs,
) -> str:
    """Summarize ``model`` on a real example batch in one line.

    MACs per inference come from one counted forward; the energy per inference from an
    ``EnergyMonitor`` pass in eval mode (zeros in the batch skipped); the energy per training
    epoch scales it by the training step's MACs over the forward's and by
    ``samples_per_epoch``. ``carbon`` (a ``CarbonReport`` of the run) is appended as is.
    """
    report = count(model, *example_inputs, **kwargs)
    batch = next((x for x in example_inputs if hasattr(x, "shape")), None)
    n = int(batch.shape[batch_dim]) if batch is not None and len(batch.shape) > batch_dim else 1
    monitor = EnergyMonitor(model, table, batch_dim=batch_dim)
    with train_mode(model, False), monitor, mt.no_grad():
        model(*example_inputs, **kwargs)
    audit = monitor.report()
    per_inference = audit.energy_per_inference_j
    step_factor = report.train_macs / report.macs if report.macs else 3.0
    epoch = per_inference * step_factor * samples_per_epoch
    macs = report.macs / max(n, 1)
    effective = audit.effective_macs_per_inference
    parts = [
        f"energy: {macs:,.0f} MACs/inference ({effective:,.0f} effective)",
        f"est. {_joules(per_inference)}/inference and {_joules(epoch)}/training epoch "
        f"({audit.table['name']})",
    ]
    line = ", ".join(parts)
    if carbon is not None:
        line += f"; carbon: {carbon}"
    return line
