"""flops_layers: which layers an expected-FLOPs penalty prices, and what scales each side."""

from __future__ import annotations

import pytest

import mytorch.core as mt
import mytorch.nn as nn
from mytorch.energy import L0Gate, count, expected_macs, flops_layers, morphnet_flops_penalty


def _cnn() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 4, 3),  # (N, 4, 8, 8)
        L0Gate(4),
        nn.ReLU(),
        nn.MaxPool2d(2),  # (N, 4, 4, 4)
        nn.Conv2d(4, 8, 3),  # (N, 8, 2, 2)
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.Flatten(),  # (N, 32)
        nn.Linear(32, 5),
        L0Gate(5),
        nn.Linear(5, 2),
    )


def test_layers_sources_and_macs_of_a_chain():
    model = _cnn()
    layers = flops_layers(model, (1, 1, 10, 10))
    assert [f.name for f in layers] == ["0", "4", "8", "10"]
    assert [f.macs for f in layers] == [8 * 8 * 4 * 9, 2 * 2 * 8 * 4 * 9, 32 * 5, 5 * 2]
    # the Linear after Flatten is priced per source channel: 32 inputs = 8 channels x 4 positions
    assert [(f.in_channels, f.out_channels) for f in layers] == [(1, 4), (4, 8), (8, 5), (5, 2)]
    assert [f.in_source for f in layers] == [None, model[1], model[5], model[9]]
    assert [f.out_source for f in layers] == [model[1], model[5], model[9], None]
    assert sum(f.macs for f in layers) == count(model, (1, 1, 10, 10)).macs


def test_expected_macs_of_open_gates_equal_the_dense_count():
    model = _cnn()
    for gate in (m for m in model.modules() if isinstance(m, L0Gate)):
        gate.log_alpha.data[:] = 30.0  # every gate surely open: E[n] = width
    layers = flops_layers(model, (1, 1, 10, 10))
    dense = count(model, (1, 1, 10, 10)).macs
    assert expected_macs(layers).item() == pytest.approx(dense, rel=1e-6)


def test_closing_half_the_gates_prices_the_products_of_the_open_ones():
    model = nn.Sequential(nn.Linear(6, 4), L0Gate(4), nn.ReLU(), nn.Linear(4, 3))
    model[1].log_alpha.data[:] = mt.tensor([30.0, 30.0, -30.0, -30.0]).data
    layers = flops_layers(model, (1, 6))
    # 6 inputs x 2 open units + 2 open units x 3 outputs
    assert expected_macs(layers).item() == pytest.approx(6 * 2 + 2 * 3, abs=1e-6)


def test_morphnet_penalty_uses_the_batchnorm_found_for_each_side():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    model[1].weight.data[:] = mt.tensor([1.0, -2.0, 0.0, 0.5]).data
    layers = flops_layers(model, (2, 3))
    assert layers[0].out_source is model[1] and layers[1].in_source is model[1]
    # per layer coeff * (alive_in * sum|g_out| + alive_out * sum|g_in|), coeff = MACs per pair
    # of channels on the example batch of 2; a None side is fixed: all alive, no gamma term
    first = (2 * 3 * 4) / (3 * 4) * (3 * 3.5)  # 3 inputs alive x sum|gamma| of the outputs
    second = (2 * 4 * 2) / (4 * 2) * (2 * 3.5)  # 2 outputs alive x sum|gamma| of the inputs
    assert morphnet_flops_penalty(layers).item() == pytest.approx(first + second, rel=1e-6)


def test_counts_per_example_input_and_restores_modes():
    model = _cnn()
    model.train()
    layers = flops_layers(model, (3, 1, 10, 10))
    assert layers[0].macs == 3 * 8 * 8 * 4 * 9  # MACs of the example batch
    assert all(m.training for m in model.modules())
