"""EnergyMonitor: sparsity, effective MACs against brute-force loops, samples, energy arithmetic,
energy tables, the report's files, and what is (not) observed."""

from __future__ import annotations

import itertools
import json
import os

import numpy as np
import pytest

import mytorch.core as mt
import mytorch.nn as nn
from mytorch.core.ops.attention import scaled_dot_product_attention
from mytorch.energy import monitor as monitor_module
from mytorch.energy.monitor import ASSUMPTIONS, EnergyMonitor, EnergyReport
from mytorch.energy.tables import HOROWITZ_45NM, TABLES, EnergyTable, eyeriss, get_table

USER = {"mult_pj": 1.0, "add_pj": 2.0, "local_pj": 3.0, "dram_pj": 5.0}


@pytest.fixture(scope="module")
def seq():
    return pytest.importorskip("mytorch.seq")


def _sparse(rng, shape, zeros: float = 0.4) -> np.ndarray:
    """float32 normal values with about ``zeros`` of them set to exactly 0."""
    a = rng.standard_normal(shape).astype(np.float32)
    a[rng.random(shape) < zeros] = 0.0
    return a


def _set(param, values: np.ndarray) -> None:
    with mt.no_grad():
        param.copy_(mt.tensor(values))


def _run(model, *inputs, **kwargs) -> EnergyReport:
    with EnergyMonitor(model, **kwargs) as m:
        model(*inputs)
    return m.report()


# ----------------------------------------------------------------------------- sparsity
def test_relu_sparsity_exact():
    # 12 values: 3 zeros, 3 negatives, 6 positives
    x = mt.tensor([[0.0, -1.0, 2.0, 0.0], [-3.0, 4.0, 0.0, 5.0], [6.0, -7.0, 8.0, 9.0]])
    r = _run(nn.Sequential(nn.ReLU()), x)
    assert [row.name for row in r.layers] == ["0"]  # the container did no work of its own
    row = r.layers[0]
    assert row.input_sparsity == 3 / 12
    assert row.output_sparsity == 6 / 12
    assert (row.macs, row.other_flops, row.calls) == (0, 12, 1)


def test_sparsity_accumulates_over_calls():
    model = nn.ReLU()
    with EnergyMonitor(model) as m:
        model(mt.tensor([0.0, 1.0, -1.0, 2.0]))  # 1 zero in, 2 out
        model(mt.tensor([0.0, 0.0, -1.0, -2.0, 3.0, 4.0]))  # 2 zeros in, 4 out
    row = m.report().layers[0]
    assert row.calls == 2
    assert row.input_sparsity == 3 / 10
    assert row.output_sparsity == 6 / 10


# ----------------------------------------------------------------------------- effective MACs
def test_linear_effective_vs_brute_force():
    rng = np.random.default_rng(0)
    lin = nn.Linear(6, 4)
    x, w = _sparse(rng, (2, 5, 6)), _sparse(rng, (4, 6))
    _set(lin.weight, w)
    row = _run(lin, mt.tensor(x)).layers[0]
    xs = x.reshape(-1, 6)
    brute = sum(
        1
        for b, o, i in itertools.product(range(10), range(4), range(6))
        if xs[b, i] != 0 and w[o, i] != 0
    )
    assert 0 < brute < 10 * 4 * 6
    assert row.macs == 10 * 4 * 6
    assert row.effective_macs == brute
    assert row.skippable_macs == row.macs - brute


def _brute_conv2d(x, w, stride, padding, dilation, groups) -> int:
    n, _, h, wd = x.shape
    o, cg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    ho = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wo = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    per_group = o // groups
    total = 0
    for b, oc, oy, ox in itertools.product(range(n), range(o), range(ho), range(wo)):
        g = oc // per_group
        for ci, ky, kx in itertools.product(range(cg), range(kh), range(kw)):
            iy, ix = oy * sh - ph + ky * dh, ox * sw - pw + kx * dw
            if 0 <= iy < h and 0 <= ix < wd:  # padding is zeros: skipped
                total += bool(x[b, g * cg + ci, iy, ix] != 0 and w[oc, ci, ky, kx] != 0)
    return total


@pytest.mark.parametrize(
    "c_in, c_out, kernel, stride, padding, dilation, groups",
    [
        (2, 3, (3, 3), (1, 1), (0, 0), (1, 1), 1),
        (4, 4, (3, 3), (2, 2), (1, 1), (1, 1), 2),
        (2, 4, (3, 2), (1, 2), (2, 1), (2, 1), 1),
        (3, 3, (3, 3), (1, 1), (1, 1), (1, 1), 3),  # depthwise
    ],
)
def test_conv2d_effective_vs_brute_force(c_in, c_out, kernel, stride, padding, dilation, groups):
    rng = np.random.default_rng(1)
    conv = nn.Conv2d(c_in, c_out, kernel, stride, padding, dilation, groups)
    x, w = _sparse(rng, (2, c_in, 6, 7)), _sparse(rng, conv.weight.shape)
    _set(conv.weight, w)
    row = _run(conv, mt.tensor(x)).layers[0]
    out = conv(mt.tensor(x))
    assert row.macs == out.numel() * (c_in // groups) * kernel[0] * kernel[1]
    assert row.effective_macs == _brute_conv2d(x, w, stride, padding, dilation, groups)
    assert row.effective_macs < row.macs


def test_conv1d_effective_vs_brute_force():
    rng = np.random.default_rng(2)
    conv = nn.Conv1d(4, 2, 3, stride=2, padding=1, dilation=2, groups=2)
    x, w = _sparse(rng, (2, 4, 9)), _sparse(rng, (2, 2, 3))
    _set(conv.weight, w)
    row = _run(conv, mt.tensor(x)).layers[0]
    brute = _brute_conv2d(x[:, :, None], w[:, :, None], (1, 2), (0, 1), (1, 2), 2)
    assert row.effective_macs == brute


def test_conv_transpose2d_effective_vs_brute_force():
    rng = np.random.default_rng(3)
    conv = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, dilation=2, groups=2)
    x, w = _sparse(rng, (2, 4, 4, 5)), _sparse(rng, (4, 3, 3, 3))
    _set(conv.weight, w)
    row = _run(conv, mt.tensor(x)).layers[0]
    # every input element is multiplied by every weight of its channel (out_channels/groups x
    # 3x3 of them), each product scattered to one output position
    brute = sum(
        1
        for b, c, iy, ix in itertools.product(range(2), range(4), range(4), range(5))
        for j, ky, kx in itertools.product(range(3), range(3), range(3))
        if x[b, c, iy, ix] != 0 and w[c, j, ky, kx] != 0
    )
    assert row.macs == x.size * 3 * 9
    assert row.effective_macs == brute < row.macs


class MatMul(nn.Module):
    def forward(self, a, b):
        return a @ b


@pytest.mark.parametrize(
    "shape_a, shape_b", [((2, 1, 3, 4), (5, 4, 2)), ((4,), (4, 3)), ((3, 4), (4,))]
)
def test_matmul_effective_vs_brute_force(shape_a, shape_b):
    rng = np.random.default_rng(4)
    a, b = _sparse(rng, shape_a), _sparse(rng, shape_b)
    row = _run(MatMul(), mt.tensor(a), mt.tensor(b)).layers[0]
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    a3 = np.broadcast_to(a2, batch + a2.shape[-2:]).reshape(-1, *a2.shape[-2:])
    b3 = np.broadcast_to(b2, batch + b2.shape[-2:]).reshape(-1, *b2.shape[-2:])
    n, m, k = a3.shape[1], b3.shape[2], a3.shape[2]
    brute = sum(
        1
        for i, r, c, j in itertools.product(range(a3.shape[0]), range(n), range(m), range(k))
        if a3[i, r, j] != 0 and b3[i, j, c] != 0
    )
    assert row.macs == a3.shape[0] * n * m * k
    assert row.effective_macs == brute < row.macs


def test_lstm_effective_skips_input_zeros_only(seq):
    rng = np.random.default_rng(5)
    t, b, e, h = 4, 2, 5, 3
    lstm = seq.LSTM(e, h)
    x, w_ih = _sparse(rng, (t, b, e)), _sparse(rng, (4 * h, e))
    _set(lstm.weight_ih_l0, w_ih)
    _set(lstm.weight_hh_l0, _sparse(rng, (4 * h, h)))  # zeros here are not skipped
    row = _run(lstm, mt.tensor(x)).layers[0]
    brute_in = sum(
        1
        for s, n, g, i in itertools.product(range(t), range(b), range(4 * h), range(e))
        if x[s, n, i] != 0 and w_ih[g, i] != 0
    )
    assert row.macs == t * b * 4 * h * (e + h)
    assert row.effective_macs == brute_in + t * b * 4 * h * h


def test_lstm_cell_effective(seq):
    rng = np.random.default_rng(6)
    cell = seq.LSTMCell(4, 3)
    x, w_ih = _sparse(rng, (2, 4)), _sparse(rng, (12, 4))
    _set(cell.weight_ih, w_ih)
    row = _run(cell, mt.tensor(x)).layers[0]
    brute_in = int(((x != 0).astype(int) @ (w_ih != 0).astype(int).T).sum())
    assert row.effective_macs == brute_in + 2 * 12 * 3


class FusedAttention(nn.Module):
    def forward(self, q, k, v):
        return scaled_dot_product_attention(q, k, v)


def test_fused_attention_counted_dense():
    rng = np.random.default_rng(7)
    q, k, v = (mt.tensor(_sparse(rng, s)) for s in ((1, 3, 4), (1, 5, 4), (1, 5, 4)))
    row = _run(FusedAttention(), q, k, v).layers[0]
    assert row.macs == row.effective_macs == 3 * 5 * (4 + 4)


def test_effective_false_equals_macs():
    rng = np.random.default_rng(8)
    lin = nn.Linear(6, 4)
    _set(lin.weight, _sparse(rng, (4, 6), zeros=0.6))
    r = _run(lin, mt.tensor(_sparse(rng, (3, 6), zeros=0.6)), effective=False)
    assert r.effective_macs == r.macs == 3 * 4 * 6
    assert r.layers[0].skippable_macs == 0


# ----------------------------------------------------------------------------- samples
def test_samples_over_several_calls():
    lin = nn.Linear(3, 2)
    with EnergyMonitor(lin) as m:
        for n in (4, 4, 2):
            lin(mt.randn(n, 3))
    r = m.report()
    assert r.samples == 10
    assert r.layers[0].calls == 3
    assert r.macs == 10 * 6
    assert r.macs_per_inference == 6.0
    assert r.energy_per_inference_j == pytest.approx(r.energy_pj / 10 * 1e-12)


def test_samples_along_batch_dim(seq):
    gru = seq.GRU(3, 4)  # (T, B, E): samples along dim 1
    with EnergyMonitor(gru, batch_dim=1) as m:
        gru(mt.randn(5, 3, 3))
        gru(mt.randn(2, 2, 3))
    r = m.report()
    assert r.samples == 5
    assert r.macs == 3 * (3 * 4 + 4 * 4) * (5 * 3 + 2 * 2)


def test_monitor_entered_twice_accumulates_and_reset_forgets():
    lin = nn.Linear(3, 2)
    m = EnergyMonitor(lin)
    with m:
        lin(mt.randn(2, 3))
    lin(mt.randn(7, 3))  # outside the monitor: not recorded
    with m:
        lin(mt.randn(3, 3))
    r = m.report()
    assert (r.samples, r.layers[0].calls, r.macs) == (5, 2, 5 * 6)
    m.reset()
    empty = m.report()
    assert (empty.layers, empty.samples, empty.macs, empty.energy_pj) == ([], 0, 0, 0)
    assert np.isnan(empty.macs_per_inference)
    with m:
        lin(mt.randn(1, 3))
    assert (m.report().samples, m.report().macs) == (1, 6)


# ----------------------------------------------------------------------------- energy arithmetic
def _known_linear(dtype=mt.float32):
    lin = nn.Linear(3, 2, dtype=dtype)
    _set(lin.weight, np.array([[1.0, 0.0, 1.0], [2.0, 3.0, 0.0]]))
    _set(lin.bias, np.array([0.5, -0.5]))
    x = mt.tensor([[1.0, 0.0, 2.0], [0.0, 0.0, 3.0], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0]], dtype=dtype)
    return lin, x


def test_linear_energy_arithmetic():
    lin, x = _known_linear()
    r = _run(nn.Sequential(lin, nn.ReLU()), x, table=USER)
    fc, relu = r.layers
    # non-zeros per input column: x (2, 1, 3), weight (2, 1, 1) -> 2*2 + 1*1 + 3*1
    assert (fc.macs, fc.effective_macs) == (4 * 2 * 3, 8)
    assert fc.input_sparsity == 6 / 12
    # compute: 8 effective MACs x (mult 1 + add 2) + 8 bias adds x 2
    assert fc.compute_pj == 8 * 3 + 8 * 2 == 40
    # local: 2 operand reads per effective MAC x 3 pJ
    assert fc.local_pj == 2 * 8 * 3 == 48
    # DRAM: input 12 + weight 6 + bias 2 + output 8 words, 5 pJ each
    assert fc.dram_pj == (12 + 6 + 2 + 8) * 5 == 140
    assert fc.energy_pj == 228
    assert fc.other_flops == 0
    # relu: 8 FLOPs, one add each; reads 8 and writes 8 words locally; no DRAM
    assert (relu.other_flops, relu.compute_pj, relu.local_pj, relu.dram_pj) == (8, 16, 48, 0)
    assert r.energy_pj == 228 + 64
    assert r.samples == 4
    assert r.energy_per_inference_j == pytest.approx(292 / 4 * 1e-12, rel=1e-12)
    assert r.table == {"name": "user", **USER, "source": "user table"}


def test_float64_counts_two_words():
    lin, x = _known_linear(mt.float64)
    row = _run(lin, x, table=EnergyTable("mine", **USER)).layers[0]
    assert (row.effective_macs, row.compute_pj, row.local_pj) == (8, 40, 48)
    assert row.dram_pj == 2 * (12 + 6 + 2 + 8) * 5


def test_default_table_is_horowitz():
    lin, x = _known_linear()
    row = _run(lin, x).layers[0]
    assert row.compute_pj == pytest.approx(8 * (3.7 + 0.9) + 8 * 0.9)
    assert row.local_pj == pytest.approx(2 * 8 * 5.0)
    assert row.dram_pj == pytest.approx(28 * 640.0)


# ----------------------------------------------------------------------------- tables
def test_horowitz_and_eyeriss_tables():
    h = HOROWITZ_45NM
    assert (h.mult_pj, h.add_pj, h.local_pj, h.dram_pj, h.mac_pj) == (3.7, 0.9, 5.0, 640.0, 4.6)
    e = eyeriss()  # 1x = one Horowitz MAC, 4.6 pJ
    assert e.name == "eyeriss"
    assert e.mac_pj == pytest.approx(4.6)
    assert e.mult_pj == pytest.approx(3.7) and e.add_pj == pytest.approx(0.9)
    assert e.local_pj == pytest.approx(4.6)
    assert e.dram_pj == pytest.approx(920.0)
    unit = eyeriss(mac_pj=1.0)
    assert (unit.mac_pj, unit.local_pj, unit.dram_pj) == (1.0, 1.0, 200.0)
    assert get_table("eyeriss") == TABLES["eyeriss"] == e


def test_get_table_forms_and_errors():
    assert get_table("horowitz-45nm") is HOROWITZ_45NM
    mine = EnergyTable("mine", 1, 2, 3, 4)
    assert get_table(mine) is mine
    assert get_table(USER) == EnergyTable("user", **USER)
    assert get_table({"name": "x", **USER}).name == "x"
    with pytest.raises(ValueError, match="unknown energy table 'nope'.*eyeriss.*horowitz-45nm"):
        get_table("nope")
    with pytest.raises(TypeError):
        get_table({"mult_pj": 1.0})  # missing fields
    with pytest.raises(ValueError, match="unknown energy table"):
        EnergyMonitor(nn.ReLU(), table="nope")


@pytest.mark.parametrize("field", ["mult_pj", "add_pj", "local_pj", "dram_pj"])
def test_energy_table_rejects_negative_and_nan(field):
    with pytest.raises(ValueError, match=f"EnergyTable {field} must be >= 0 pJ, got -1"):
        EnergyTable("bad", **{**USER, field: -1.0})
    with pytest.raises(ValueError, match=f"{field} must be >= 0"):
        EnergyTable("bad", **{**USER, field: float("nan")})


# ----------------------------------------------------------------------------- what is observed
def test_backward_and_ops_outside_the_model_not_counted():
    lin, x = _known_linear()
    model = nn.Sequential(lin, nn.ReLU())
    forward_only = _run(model, x, table=USER)
    with EnergyMonitor(model, table=USER) as m:
        x2 = x * 1.0  # outside the model
        loss = (model(x2) ** 2).sum()  # outside the model
        loss.backward()  # runs MAC ops (the gradients of the linear layer)
    assert lin.weight.grad is not None
    r = m.report()
    assert [row.name for row in r.layers] == ["0", "1"]
    assert r.macs == forward_only.macs == 24
    assert r.effective_macs == forward_only.effective_macs
    assert [row.other_flops for row in r.layers] == [0, 8]
    assert r.energy_pj == forward_only.energy_pj


def test_hooks_removed_after_exit():
    lin = nn.Linear(2, 2)
    with EnergyMonitor(lin) as m:
        pass
    lin(mt.randn(3, 2))
    assert m.report().layers == [] and m.report().samples == 0
    assert not lin._forward_hooks and not lin._forward_pre_hooks


# ----------------------------------------------------------------------------- report output
def _report() -> EnergyReport:
    lin, x = _known_linear()
    return _run(nn.Sequential(lin, nn.ReLU()), x, table=USER)


def test_report_text_and_dict():
    r = _report()
    text = str(r)
    assert "Linear" in text and "ReLU" in text
    assert "Energy table: user (user table)" in text
    assert "Samples: 4" in text
    d = r.to_dict()
    assert (d["macs"], d["effective_macs"], d["samples"]) == (24, 8, 4)
    assert d["layers"][0]["energy_pj"] == 228
    assert d["layers"][0]["skippable_macs"] == 16
    assert d["energy_j"] == pytest.approx(292e-12)
    assert d["assumptions"] == list(ASSUMPTIONS)


def test_to_json_writes_atomically(tmp_path, monkeypatch):
    r = _report()
    path = tmp_path / "energy.json"
    text = r.to_json(path)
    assert path.read_text() == text
    assert json.loads(text) == json.loads(json.dumps(r.to_dict()))
    assert os.listdir(tmp_path) == ["energy.json"]  # no temporary file left behind
    r.to_json(str(path), indent=None)  # overwrites in place
    assert json.loads(path.read_text())["macs"] == 24
    assert os.listdir(tmp_path) == ["energy.json"]

    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(monitor_module.os, "replace", fail)
    before = path.read_text()
    with pytest.raises(OSError, match="disk full"):
        r.to_json(path)
    assert path.read_text() == before  # the old file is intact
    assert os.listdir(tmp_path) == ["energy.json"]


def test_plot_writes_png(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "energy.png"
    _report().plot(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert os.listdir(tmp_path) == ["energy.png"]


def test_rejects_non_module():
    with pytest.raises(TypeError, match="model must be a mytorch.nn.Module"):
        with EnergyMonitor(lambda x: x):
            pass
