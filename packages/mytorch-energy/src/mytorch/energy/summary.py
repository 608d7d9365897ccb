"""A torchinfo-like summary: layer, output shape, parameters, MACs and share of the total.

>>> import mytorch.nn as nn
>>> report = summary(nn.Sequential(nn.Linear(4, 3), nn.ReLU()), (2, 4), print_table=False)
>>> [(row.name, row.output_shape, row.params, row.macs) for row in report.layers]
[('', (2, 3), 15, 24), ('0', (2, 3), 15, 24), ('1', (2, 3), 0, 0)]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mytorch.energy.count import count

if TYPE_CHECKING:
    from mytorch.energy.count import CountReport
    from mytorch.nn import Module


def summary(
    model: Module, *inputs, max_depth: int | None = None, print_table: bool = True, **kwargs
) -> CountReport:
    """Count ``model`` on ``inputs`` (tensors or shapes), print the table, return the report."""
    report = count(model, *inputs, **kwargs)
    if print_table:
        print(report.table(max_depth))
    return report
