"""energy_line: the one-line summary the training demos print."""

from __future__ import annotations

import re

import pytest

import mytorch.core as mt
import mytorch.nn as nn
from mytorch.energy import EnergyMonitor, estimate
from mytorch.energy.oneline import energy_line

LINE = re.compile(
    r"^energy: ([\d,]+) MACs/inference \(([\d,]+) effective\), est\. ([\d.]+) (\w?J)/inference "
    r"and ([\d.]+) (\w?J)/training epoch \((\S+)\)(; carbon: .*)?$"
)
SCALE = {"J": 1.0, "mJ": 1e-3, "uJ": 1e-6, "nJ": 1e-9}


def test_line_reports_macs_effective_energy_and_epoch_estimate():
    model = nn.Sequential(nn.Linear(10, 6), nn.ReLU(), nn.Linear(6, 2))
    x = mt.randn(4, 10)
    x.data[:, :5] = 0  # half of every input is zero
    line = energy_line(model, x, samples_per_epoch=1000)
    m = LINE.match(line)
    assert m, line
    assert m.group(1) == f"{10 * 6 + 6 * 2:,}"
    assert int(m.group(2).replace(",", "")) <= 5 * 6 + 6 * 2  # the zero inputs are skipped
    with EnergyMonitor(model) as monitor, mt.no_grad():
        model(x)
    per = monitor.report().energy_per_inference_j
    assert float(m.group(3)) * SCALE[m.group(4)] == pytest.approx(per, rel=5e-3)  # 3 digits
    # a training step: the forward, the weight gradients and the hidden layer's input gradient
    epoch = float(m.group(5)) * SCALE[m.group(6)]
    assert 2 * per * 1000 < epoch < 4 * per * 1000
    assert m.group(7) == "horowitz-45nm" and m.group(8) is None


def test_line_appends_the_carbon_report_and_keeps_modes():
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5))
    model.train()
    report = estimate(100.0, 3600.0)
    line = energy_line(model, mt.randn(2, 3), samples_per_epoch=10, carbon=report, table="eyeriss")
    assert line.endswith(f"; carbon: {report}") and "(eyeriss)" in line
    assert model.training and model[1].training
