"""count() and summary(): exact MACs, FLOPs and parameters per layer against hand-computed values.

Conventions under test (``mytorch.energy.rules``): a MAC is one multiply-add of a conv, linear,
matmul, attention or recurrent product, without the bias; the bias is one FLOP per output
element (``bias_flops``); every other op is counted apart by kind.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import mytorch.core as mt
import mytorch.nn as nn
from mytorch.energy.count import CountReport, count
from mytorch.energy.summary import summary


@pytest.fixture(scope="module")
def seq():
    return pytest.importorskip("mytorch.seq")


def _conv_out(n: int, k: int, s: int, p: int, d: int) -> int:
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


# ----------------------------------------------------------------------------- linear
def test_linear_on_3d_input():
    r = count(nn.Linear(5, 7), (2, 3, 5))
    # every one of the 2*3*7 outputs sums 5 products; the bias adds one FLOP per output
    assert r.macs == 2 * 3 * 7 * 5 == 210
    assert r.bias_flops == 2 * 3 * 7 == 42
    assert r.params == r.trainable_params == 7 * 5 + 7
    assert r.param_bytes == 42 * 4
    assert r.other_flops == {}
    assert r.flops == 2 * 210 + 42
    row = r.layer("")
    assert (row.type, row.output_shape, row.calls) == ("Linear", (2, 3, 7), 1)
    assert row.by_kind == {"linear": 210}
    assert row.flops == 462


def test_linear_without_bias_has_no_bias_flops():
    r = count(nn.Linear(5, 7, bias=False), (4, 5))
    assert (r.macs, r.bias_flops, r.params) == (4 * 7 * 5, 0, 35)


def test_mlp_rows_own_and_inclusive():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    r = count(model, (2, 4))
    assert [row.name for row in r.layers] == ["", "0", "1", "2"]
    assert [row.macs for row in r.layers] == [64 + 48, 2 * 8 * 4, 0, 2 * 3 * 8]
    assert [row.params for row in r.layers] == [40 + 27, 40, 0, 27]
    assert [row.self_params for row in r.layers] == [0, 40, 0, 27]
    assert [row.self_macs for row in r.layers] == [0, 64, 0, 48]
    assert r.layer("1").other_flops == 16  # ReLU: one FLOP per output element
    assert r.other_flops == {"activation": 16}
    assert r.bias_flops == 16 + 6
    # leaf outputs kept for backward: (2, 8) + (2, 8) + (2, 3) float32
    assert r.activation_bytes == (16 + 16 + 6) * 4


# ----------------------------------------------------------------------------- convolution
def test_conv2d_stride_padding_dilation_groups_literal():
    r = count(nn.Conv2d(4, 6, 3, stride=2, padding=1, dilation=2, groups=2), (2, 4, 9, 9))
    # out side (9 + 2 - 2*2 - 1) // 2 + 1 = 4; each output sums 4/2 channels x 3x3 taps
    assert r.layer("").output_shape == (2, 6, 4, 4)
    assert r.macs == (2 * 6 * 4 * 4) * (2 * 9) == 3456
    assert r.bias_flops == 2 * 6 * 4 * 4
    assert r.params == 6 * 2 * 9 + 6


@pytest.mark.parametrize(
    "c_in, c_out, kernel, stride, padding, dilation, groups",
    [
        (3, 5, 3, 1, 0, 1, 1),
        (4, 8, 3, 2, 1, 1, 2),
        (6, 6, 3, 1, 2, 2, 3),
        (4, 4, 3, 1, 1, 1, 4),  # depthwise
        (2, 6, (3, 2), (2, 1), (1, 0), (1, 2), 2),
    ],
)
def test_conv2d_formula(c_in, c_out, kernel, stride, padding, dilation, groups):
    def pair(v):
        return v if isinstance(v, tuple) else (v, v)

    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = map(pair, (kernel, stride, padding, dilation))
    conv = nn.Conv2d(c_in, c_out, kernel, stride, padding, dilation, groups)
    r = count(conv, (2, c_in, 9, 8))
    ho, wo = _conv_out(9, kh, sh, ph, dh), _conv_out(8, kw, sw, pw, dw)
    outputs = 2 * c_out * ho * wo
    assert r.layer("").output_shape == (2, c_out, ho, wo)
    assert r.macs == outputs * (c_in // groups) * kh * kw
    assert r.bias_flops == outputs
    assert r.params == c_out * (c_in // groups) * kh * kw + c_out


def test_depthwise_conv2d():
    r = count(nn.Conv2d(4, 4, 3, padding=1, groups=4, bias=False), (1, 4, 5, 5))
    assert (r.macs, r.bias_flops, r.params) == (4 * 5 * 5 * 9, 0, 4 * 9)


def test_conv1d_stride_padding_dilation_groups():
    r = count(nn.Conv1d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2), (2, 4, 11))
    # L_out = (11 + 4 - 4 - 1) // 2 + 1 = 6; each output sums 2 channels x 3 taps
    assert r.layer("").output_shape == (2, 6, 6)
    assert r.macs == 2 * 6 * 6 * (2 * 3) == 432
    assert r.bias_flops == 72


def test_conv_transpose2d():
    conv = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, groups=2)
    r = count(conv, (2, 4, 5, 5))
    # every input element meets out_channels/groups x 3x3 weights; side (5-1)*2 - 2 + 3 = 9
    assert r.layer("").output_shape == (2, 6, 9, 9)
    assert r.macs == (2 * 4 * 5 * 5) * (6 // 2) * 9 == 5400
    assert r.bias_flops == 2 * 6 * 9 * 9
    assert r.params == 4 * 3 * 9 + 6


def test_conv_transpose1d():
    r = count(nn.ConvTranspose1d(3, 4, 2, stride=3), (1, 3, 5))
    assert r.layer("").output_shape == (1, 4, (5 - 1) * 3 + 2)
    assert r.macs == 15 * 4 * 2
    assert r.bias_flops == 4 * 14


# ----------------------------------------------------------------------------- attention
class HandAttention(nn.Module):
    """softmax(q k^T * 0.5) v written as plain tensor operations."""

    def forward(self, q, k, v):
        return (q @ k.transpose(-2, -1) * 0.5).softmax(-1) @ v


def test_attention_written_as_matmuls():
    r = count(HandAttention(), (2, 3, 4), (2, 5, 4), (2, 5, 6))
    qk, pv = 2 * 3 * 5 * 4, 2 * 3 * 5 * 6  # B L S E, B L S Ev
    row = r.layer("")
    assert r.macs == qk + pv == 300
    assert row.by_kind == {"matmul": 300, "elementwise": 30, "activation": 90}
    assert r.other_flops == {"elementwise": 2 * 3 * 5, "activation": 3 * 2 * 3 * 5}


@pytest.mark.parametrize("need_weights", [True, False])
def test_multihead_self_attention(seq, need_weights):
    mha = seq.MultiheadAttention(8, 2)
    x = mt.randn(3, 1, 8)  # (L, B, E)
    r = count(mha, x, x, x, need_weights=need_weights)
    proj = 3 * 8 * (3 * 8)  # L x E x 3E input projections
    att = 2 * 3 * 3 * (4 + 4)  # heads x L x S x (E_head + E_head)
    out = 3 * 8 * 8  # out_proj
    assert r.macs == proj + att + out == 912
    assert r.bias_flops == 3 * 24 + 3 * 8
    row = r.layer("")
    assert (row.params, row.self_params) == (4 * 8 * 8 + 4 * 8, 3 * 8 * 8 + 3 * 8)
    assert row.by_kind["linear"] == proj + out
    assert row.by_kind["matmul" if need_weights else "attention"] == att
    # out_proj's weights are used functionally, so the attention module's outputs are kept:
    # y (3, 1, 8) and, when asked for, the averaged weights (1, 3, 3)
    assert r.activation_bytes == 4 * (24 + 9 * need_weights)


def test_multihead_cross_attention(seq):
    mha = seq.MultiheadAttention(8, 2, batch_first=True)
    q, kv = mt.randn(2, 4, 8), mt.randn(2, 6, 8)
    r = count(mha, q, kv, kv, need_weights=False)
    # q: B L E E; k, v: 2 x B S E E; attention: B H L S 2hd; out_proj: B L E E
    expected = 2 * 4 * 8 * 8 + 2 * (2 * 6 * 8 * 8) + 2 * 2 * 4 * 6 * 8 + 2 * 4 * 8 * 8
    assert r.macs == expected == 3328


def test_transformer_encoder_layer(seq):
    layer = seq.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16)
    r = count(layer, (3, 2, 8))  # (S, N, E), eval: dropout is the identity
    n = 3 * 2  # tokens
    attn = n * 8 * 24 + 2 * 2 * 3 * 3 * (4 + 4) + n * 8 * 8
    assert r.layer("self_attn").macs == attn == 1824
    assert r.layer("linear1").macs == n * 8 * 16
    assert r.layer("linear2").macs == n * 16 * 8
    assert r.macs == attn + 2 * n * 8 * 16 == 3360
    # LayerNorm with affine: 2 (normalize) + 2 (affine) + 3 (statistics) per element
    assert r.layer("norm1").other_flops == r.layer("norm2").other_flops == 7 * n * 8
    assert r.other_flops["activation"] == n * 16  # relu
    assert r.other_flops["elementwise"] == 2 * n * 8  # the two residual additions
    # scores: scale + softmax (exp, sum, divide) per score, no mask
    assert r.other_flops["attention"] == 4 * 2 * 2 * 3 * 3
    assert r.params == (4 * 64 + 32) + (8 * 16 + 16) + (16 * 8 + 8) + 2 * 16
    # outputs kept: attention, dropout1, linear2, dropout2, norm1, norm2 (n x 8 each) and
    # linear1, dropout (n x 16 each), float32
    assert r.activation_bytes == 4 * (6 * n * 8 + 2 * n * 16)


# ----------------------------------------------------------------------------- recurrent
@pytest.mark.parametrize("name, gates", [("LSTM", 4), ("GRU", 3), ("RNN", 1)])
def test_recurrent_layer(seq, name, gates):
    e, h, t = 5, 7, 3
    r = count(getattr(seq, name)(e, h), (t, 1, e))
    assert r.macs == gates * (e * h + h * h) * t
    assert r.bias_flops == 2 * t * gates * h  # b_ih and b_hh at every step
    assert r.params == gates * h * (e + h) + 2 * gates * h
    assert r.layer("").by_kind == {"recurrent": r.macs}


def test_recurrent_layer_batch(seq):
    r = count(seq.GRU(5, 7), (3, 2, 5))
    assert r.macs == 3 * (5 * 7 + 7 * 7) * 3 * 2


def test_lstm_two_layers_bidirectional(seq):
    e, h, t = 5, 7, 3
    r = count(seq.LSTM(e, h, num_layers=2, bidirectional=True), (t, 1, e))
    first = 2 * 4 * (e * h + h * h) * t
    second = 2 * 4 * (2 * h * h + h * h) * t  # its input is both directions: 2H
    assert r.macs == first + second == 5544
    assert r.layer("").output_shape == (t, 1, 2 * h)


@pytest.mark.parametrize("name, gates", [("LSTMCell", 4), ("GRUCell", 3), ("RNNCell", 1)])
def test_recurrent_cells(seq, name, gates):
    e, h, b = 5, 7, 2
    r = count(getattr(seq, name)(e, h), (b, e))
    assert r.macs == gates * (e * h + h * h) * b
    assert r.bias_flops == 2 * gates * h * b
    cell_flops = {"LSTMCell": 9, "GRUCell": 9, "RNNCell": 1}[name]  # per hidden unit and step
    assert r.other_flops == {"recurrent": cell_flops * h * b}


def test_recurrent_cell_without_bias(seq):
    r = count(seq.RNNCell(5, 7, bias=False), (2, 5))
    assert (r.macs, r.bias_flops, r.params) == (2 * (35 + 49), 0, 84)


# ----------------------------------------------------------------------------- other ops
def test_pooling_counts_input_elements():
    model = nn.Sequential(nn.MaxPool2d(2), nn.AvgPool2d(2), nn.AdaptiveAvgPool2d(1))
    r = count(model, (2, 3, 8, 8))
    assert r.layer("0").other_flops == 2 * 3 * 8 * 8  # every input compared once
    assert r.layer("1").other_flops == 2 * 3 * 4 * 4  # every input added once
    assert r.layer("2").other_flops == 2 * 3 * 2 * 2
    assert r.other_flops == {"pooling": 384 + 96 + 24}
    assert r.macs == 0


def test_batchnorm_eval_and_train():
    n = 2 * 3 * 4 * 4
    bn = nn.BatchNorm2d(3)
    # eval (running statistics): normalize 2 + affine 2; train adds the batch statistics 3
    assert count(bn, (2, 3, 4, 4)).other_flops == {"normalization": 4 * n}
    assert count(bn, (2, 3, 4, 4), train=True).other_flops == {"normalization": 7 * n}
    plain = nn.BatchNorm2d(3, affine=False)
    assert count(plain, (2, 3, 4, 4)).other_flops == {"normalization": 2 * n}


def test_layer_group_rms_norms():
    model = nn.Sequential(
        nn.LayerNorm(6),
        nn.GroupNorm(2, 4),
        nn.RMSNorm(6),
        nn.LayerNorm(6, elementwise_affine=False),
    )
    r = count(model, (2, 4, 6))
    n = 48
    assert [r.layer(str(i)).other_flops for i in range(4)] == [7 * n, 7 * n, 6 * n, 5 * n]


def test_activations_by_kind():
    model = nn.Sequential(
        nn.ReLU(), nn.Softmax(dim=-1), nn.Sigmoid(), nn.Tanh(), nn.GELU(), nn.Flatten()
    )
    r = count(model, (2, 5))
    # one FLOP per output element; softmax 3 (exp, sum, divide); flatten moves data only
    assert [r.layer(str(i)).other_flops for i in range(6)] == [10, 30, 10, 10, 10, 0]
    assert r.other_flops == {"activation": 70}


class Residual(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4, bias=False)

    def forward(self, x):
        return (x + self.fc(x)).sum()


def test_elementwise_and_reduction():
    r = count(Residual(), (3, 4))
    row = r.layer("")
    assert row.self_macs == 0 and row.macs == 3 * 4 * 4
    assert row.self_other_flops == 12 + 12  # the addition per output, the sum per input
    assert r.other_flops == {"elementwise": 12, "reduction": 12}


class Losses(nn.Module):
    def forward(self, a, b):
        return nn.MSELoss()(a, b) + nn.CrossEntropyLoss()(a, mt.tensor([0, 1]))


def test_losses():
    r = count(Losses(), (2, 5), (2, 5))
    assert r.other_flops == {"loss": 3 * 10 + 3 * 10, "elementwise": 1}


# ----------------------------------------------------------------------------- parameters
class Scaled(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(mt.ones(3))
        self.fc = nn.Linear(3, 3)

    def forward(self, x):
        return self.fc(x) * self.scale


def test_params_own_vs_inclusive():
    r = count(Scaled(), (2, 3))
    assert (r.layer("").params, r.layer("").self_params) == (15, 3)
    assert (r.layer("fc").params, r.layer("fc").self_params) == (12, 12)
    nested = nn.Sequential(nn.Linear(4, 8), nn.Sequential(nn.Linear(8, 8), nn.ReLU()))
    r = count(nested, (1, 4))
    assert (r.layer("1").params, r.layer("1").self_params) == (72, 0)
    assert (r.layer("1.0").params, r.layer("1.0").depth) == (72, 2)
    assert r.params == 40 + 72


def test_shared_parameters_counted_once():
    a, b = nn.Linear(4, 4, bias=False), nn.Linear(4, 4, bias=False)
    b.weight = a.weight
    r = count(nn.Sequential(a, b), (2, 4))
    assert r.params == r.trainable_params == 16
    assert r.param_bytes == 16 * 4
    assert r.layer("0").params == r.layer("1").params == 16
    assert r.macs == 2 * (2 * 4 * 4)


class Twice(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return self.fc(self.fc(x))


def test_module_called_twice():
    r = count(Twice(), (2, 4))
    assert r.layer("fc").calls == 2
    assert r.layer("fc").macs == 2 * 2 * 16
    assert r.params == 20


def test_frozen_parameters_not_trainable():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    for p in model[0].parameters():
        p.requires_grad = False
    r = count(model, (2, 4))
    assert (r.params, r.trainable_params) == (67, 27)
    # layer 0 needs no gradient at all; layer 2's input carries none: its weight gradient only
    assert r.backward_macs == 48


# ----------------------------------------------------------------------------- modes, backward
class Raises(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.bn = nn.BatchNorm1d(3)

    def forward(self, x):
        self.bn(x)
        raise RuntimeError("boom")


def test_train_restores_modes():
    model = nn.Sequential(nn.BatchNorm1d(3), nn.Dropout(0.5), nn.Linear(3, 3))
    model.eval()
    model[1].train()  # a mixed state must come back as it was
    r = count(model, (4, 3), train=True)
    assert r.layer("0").other_flops == 7 * 12  # batch statistics were computed
    assert [m.training for m in model.modules()] == [False, False, True, False]
    model.train()
    r = count(model, (4, 3))
    assert r.layer("0").other_flops == 4 * 12  # running statistics
    assert all(m.training for m in model.modules())
    failing = Raises()
    with pytest.raises(RuntimeError, match="boom"):
        count(failing, (4, 3))
    assert failing.training and failing.bn.training


def test_backward_macs():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    r = count(model, (2, 4))
    # first layer: its input needs no gradient, only dW (64); second: dW and dx (2 x 48)
    assert r.macs == 64 + 48
    assert r.backward_macs == 64 + 2 * 48
    assert r.train_macs == 112 + 160
    # 2 per MAC; bias (16 + 6) and relu (16) forward plus twice that backward
    assert r.train_flops == 2 * 272 + 3 * (22 + 16)
    x = mt.randn(2, 4, requires_grad=True)
    assert count(model, x).backward_macs == 2 * 64 + 2 * 48


def test_backward_macs_conv_and_recurrent(seq):
    r = count(nn.Conv2d(2, 3, 3), (1, 2, 5, 5))
    assert r.backward_macs == r.macs == 9 * 3 * 18  # weight gradient only
    lstm = count(seq.LSTM(5, 7), (3, 1, 5))
    # the input part (T 4H E = 420) for dW_ih; the hidden part (T 4H H = 588) for dW_hh and
    # the gradient through time
    assert lstm.backward_macs == 420 + 2 * 588


def test_backward_macs_attention(seq):
    r = count(seq.TransformerEncoderLayer(8, 2, 16), (3, 2, 8))
    # in-projection: weight gradient only (1152); attention: q, k, v all need gradients:
    # twice each product (2 x 288); out_proj, linear1, linear2: dW and dx
    assert r.backward_macs == 1152 + 2 * 288 + 2 * 384 + 2 * 768 + 2 * 768


# ----------------------------------------------------------------------------- report API
def test_input_given_as_shape_or_tensor():
    model = nn.Sequential(nn.Linear(4, 2))
    r = count(model, (3, 4))
    assert r.input_shapes == [(3, 4)]
    assert r.macs == 3 * 2 * 4
    r = count(HandAttention(), mt.randn(1, 2, 4), (1, 3, 4), mt.randn(1, 3, 5))
    assert r.input_shapes == [(1, 2, 4), (1, 3, 4), (1, 3, 5)]


def test_layer_lookup():
    r = count(nn.Sequential(nn.Linear(4, 2), nn.ReLU()), (1, 4))
    assert r.layer("0").type == "Linear"
    with pytest.raises(KeyError, match="no layer named 'head'"):
        r.layer("head")


def _plain(obj):
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


def test_to_dict_and_json_round_trip():
    r = count(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)), (2, 4))
    d = r.to_dict()
    assert (d["macs"], d["flops"], d["train_macs"], d["train_flops"]) == (
        r.macs,
        r.flops,
        r.train_macs,
        r.train_flops,
    )
    assert [row["name"] for row in d["layers"]] == ["", "0", "1", "2"]
    assert d["layers"][1]["output_shape"] == (2, 8)
    parsed = json.loads(r.to_json())
    assert parsed == _plain(d)
    assert parsed["layers"][3]["macs"] == 2 * 2 * 8
    assert parsed["input_shapes"] == [[2, 4]]
    assert json.loads(r.to_json(indent=2)) == parsed


def test_summary_prints_table(capsys):
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
    r = summary(model, (2, 4))
    out = capsys.readouterr().out
    assert isinstance(r, CountReport)
    assert (r.macs, r.params) == (24, 15)
    assert "(Sequential)" in out
    assert "0 (Linear)" in out and "1 (ReLU)" in out
    assert "[2, 3]" in out
    assert "Total params: 15" in out
    assert "Forward MACs: 24" in out
    assert out.strip() == r.table().strip()
    summary(model, (2, 4), print_table=False)
    assert capsys.readouterr().out == ""


def test_max_depth_hides_deeper_rows():
    model = nn.Sequential(nn.Linear(4, 8), nn.Sequential(nn.Linear(8, 8), nn.Tanh()))
    full = count(model, (1, 4)).table()
    assert "(Tanh)" in full
    shallow = count(model, (1, 4)).table(max_depth=1)
    assert "(Tanh)" not in shallow and "1 (Sequential)" in shallow
    top = count(model, (1, 4)).table(max_depth=0)
    assert "(Linear)" not in top and "(Sequential)" in top
    assert "Forward MACs: 96" in top  # totals keep every layer


def test_rejects_non_module():
    with pytest.raises(TypeError, match="model must be a mytorch.nn.Module"):
        count(lambda x: x, (1, 2))


# ----------------------------------------------------------------------------- model zoo
# torchvision's GFLOPS column (MACs) and parameter counts for a 1x3x224x224 input.
ZOO = [
    ("resnet18", 1.814, 11_689_512),
    ("resnet50", 4.089, 25_557_032),
    ("mobilenet_v2", 0.301, 3_504_872),
    ("shufflenet_v2_x1_0", 0.145, 2_278_604),
    ("squeezenet1_0", 0.819, 1_248_424),
    ("squeezenet1_1", 0.349, 1_235_496),
    ("efficientnet_b0", 0.386, 5_288_548),
]


@pytest.mark.parametrize("name, gmacs, params", ZOO, ids=[z[0] for z in ZOO])
def test_model_zoo(name, gmacs, params):
    models = pytest.importorskip("mytorch.vision.models")
    r = count(models.get_model(name), (1, 3, 224, 224))
    assert round(r.macs / 1e9, 3) == gmacs
    assert r.params == params
    assert np.isclose(r.flops, 2 * r.macs + r.bias_flops + sum(r.other_flops.values()))
