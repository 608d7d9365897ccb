"""Transformer encoder/decoder layers, stacks and the full model against PyTorch (torch's
state_dict loaded into ours): outputs and gradients of inputs and every parameter, for pre- and
post-norm, relu/gelu/callable activations, masks and layouts; plus state_dict keys,
initialization, dropout, deep copies, errors and the positional encodings."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mytorch.core as mt
import mytorch.nn as nn
import mytorch.seq as seq

pytestmark = pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")

TOL = dict(rtol=1e-4, atol=1e-5)
DEEP = dict(rtol=1e-4, atol=5e-5)  # stacks of several layers accumulate more rounding
D, NHEAD, FF = 8, 2, 16  # d_model, nhead, dim_feedforward
N, S, T = 3, 5, 4  # batch, source length, target length


def randn(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def seq_shape(n: int, batch_first: bool) -> tuple:
    return (N, n, D) if batch_first else (n, N, D)


def padding_mask(n: int, seed: int = 3) -> np.ndarray:
    """(N, n) bool, True = padding; the first position of every sequence is real."""
    m = np.random.default_rng(seed).random((N, n)) < 0.3
    m[:, 0] = False
    return m


def causal(n: int) -> np.ndarray:
    return np.triu(np.full((n, n), -np.inf, dtype=np.float32), 1)


def parity(torch, make, call, *inputs, train=False, rtol=1e-4, atol=1e-5, seed=0):
    """``make(ns)`` builds the module from ``torch.nn`` or ``mytorch.seq``; torch's state_dict
    is loaded into ours. ``call(module, *tensors)`` returns one tensor. ``inputs`` are arrays;
    float ones require grad unless wrapped as ``(array, False)``. Compares the output, input
    gradients and all parameter gradients."""
    theirs = make(torch.nn)
    ours = make(seq)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(theirs.state_dict())
    theirs.train(train)
    ours.train(train)
    t_in, m_in = [], []
    for item in inputs:
        a, rg = item if isinstance(item, tuple) else (item, item.dtype.kind == "f")
        t_in.append(torch.tensor(a, requires_grad=rg))
        m_in.append(mt.tensor(a, requires_grad=rg))
    t_out, m_out = call(theirs, *t_in), call(ours, *m_in)
    expected = t_out.detach().numpy()
    assert m_out.shape == expected.shape and m_out.dtype == expected.dtype
    np.testing.assert_allclose(m_out.data, expected, rtol=rtol, atol=atol, err_msg="output")
    v = np.random.default_rng(seed).standard_normal(expected.shape).astype(np.float32)
    (t_out * torch.from_numpy(v)).sum().backward()
    (m_out * mt.tensor(v)).sum().backward()
    for i, (m, t) in enumerate(zip(m_in, t_in)):
        if t.requires_grad:
            np.testing.assert_allclose(
                m.grad.data, t.grad.numpy(), rtol=rtol, atol=atol, err_msg=f"grad of input {i}"
            )
    t_params, m_params = dict(theirs.named_parameters()), dict(ours.named_parameters())
    assert list(m_params) == list(t_params)
    for name, tp in t_params.items():
        assert tp.grad is not None and m_params[name].grad is not None, name
        np.testing.assert_allclose(
            m_params[name].grad.data, tp.grad.numpy(), rtol=rtol, atol=atol, err_msg=name
        )
    return ours, theirs, m_out


def is_torch(mod) -> bool:
    return type(mod).__module__.startswith("torch")


def activation_for(name: str):
    """'relu'/'gelu' strings, or the library's gelu function as a callable."""
    if name != "gelu_fn":
        return lambda ns: name
    return lambda ns: mt.functional.gelu if ns is seq else _torch_f(ns).gelu


def _torch_f(ns):
    return ns.functional


# ---------------------------------------------------------------------------- encoder layer


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu", "gelu_fn"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_layer_matches_torch(torch, norm_first, activation, batch_first):
    act = activation_for(activation)
    make = lambda ns: ns.TransformerEncoderLayer(  # noqa: E731
        D,
        NHEAD,
        FF,
        dropout=0.1,
        activation=act(ns),
        batch_first=batch_first,
        norm_first=norm_first,
    )
    src = randn(*seq_shape(S, batch_first))
    kpm = padding_mask(S)

    def call(mod, src, mask, kpm):
        return mod(src, src_mask=mask, src_key_padding_mask=kpm)

    mask = np.triu(np.ones((S, S), dtype=bool), 1)
    parity(torch, make, call, src, mask, kpm, **TOL)  # dropout 0.1 is off in eval mode


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("masks", ["none", "float_mask", "is_causal", "kpm_only", "unbatched"])
def test_encoder_layer_masks_match_torch(torch, norm_first, masks):
    make = lambda ns: ns.TransformerEncoderLayer(  # noqa: E731
        D, NHEAD, FF, dropout=0.0, norm_first=norm_first, batch_first=True
    )
    src = randn(S, D) if masks == "unbatched" else randn(N, S, D)

    def call(mod, src):
        kw = {}
        if masks in ("float_mask", "is_causal"):
            m = causal(S)
            kw["src_mask"] = torch.tensor(m) if is_torch(mod) else mt.tensor(m)
            kw["is_causal"] = masks == "is_causal"
        if masks == "kpm_only":
            m = padding_mask(S)
            kw["src_key_padding_mask"] = torch.tensor(m) if is_torch(mod) else mt.tensor(m)
        return mod(src, **kw)

    parity(torch, make, call, src, **TOL)


def test_encoder_layer_submodules_and_bias_false(torch):
    layer = seq.TransformerEncoderLayer(D, NHEAD, FF, bias=False)
    names = [n for n, _ in layer.named_children()]
    assert names == [
        "self_attn", "linear1", "dropout", "linear2", "norm1", "norm2", "dropout1", "dropout2"
    ]  # fmt: skip
    theirs = torch.nn.TransformerEncoderLayer(D, NHEAD, FF, bias=False).state_dict()
    assert list(layer.state_dict()) == list(theirs)
    assert layer.activation is mt.functional.relu
    assert seq.TransformerEncoderLayer(D, NHEAD, activation="gelu").activation is mt.functional.gelu


# ---------------------------------------------------------------------------- decoder layer


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu", "gelu_fn"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_decoder_layer_matches_torch(torch, norm_first, activation, batch_first):
    act = activation_for(activation)
    make = lambda ns: ns.TransformerDecoderLayer(  # noqa: E731
        D,
        NHEAD,
        FF,
        dropout=0.1,
        activation=act(ns),
        batch_first=batch_first,
        norm_first=norm_first,
    )
    tgt, memory = randn(*seq_shape(T, batch_first), seed=1), randn(*seq_shape(S, batch_first))

    def call(mod, tgt, memory, tgt_mask, memory_mask, tgt_kpm, memory_kpm):
        return mod(
            tgt,
            memory,
            tgt_mask=tgt_mask,
            memory_mask=memory_mask,
            tgt_key_padding_mask=tgt_kpm,
            memory_key_padding_mask=memory_kpm,
        )

    memory_mask = np.random.default_rng(5).random((T, S)) < 0.3
    memory_mask[:, 0] = False
    masks = (np.triu(np.ones((T, T), bool), 1), memory_mask, padding_mask(T), padding_mask(S, 4))
    parity(torch, make, call, tgt, memory, *masks, **TOL)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("unbatched", [False, True])
def test_decoder_layer_causal_hints_match_torch(torch, norm_first, unbatched):
    make = lambda ns: ns.TransformerDecoderLayer(  # noqa: E731
        D, NHEAD, FF, dropout=0.0, norm_first=norm_first
    )
    tgt = randn(T, D, seed=1) if unbatched else randn(T, N, D, seed=1)
    memory = randn(S, D) if unbatched else randn(S, N, D)

    def call(mod, tgt, memory, tgt_mask):
        return mod(tgt, memory, tgt_mask=tgt_mask, tgt_is_causal=True)

    parity(torch, make, call, tgt, memory, (causal(T), False), **TOL)


def test_decoder_layer_submodules(torch):
    layer = seq.TransformerDecoderLayer(D, NHEAD, FF)
    names = [n for n, _ in layer.named_children()]
    assert names == [
        "self_attn", "multihead_attn", "linear1", "dropout", "linear2",
        "norm1", "norm2", "norm3", "dropout1", "dropout2", "dropout3",
    ]  # fmt: skip
    assert list(layer.state_dict()) == list(
        torch.nn.TransformerDecoderLayer(D, NHEAD, FF).state_dict()
    )


# ----------------------------------------------------------------------------------- stacks


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("final_norm", [True, False])
def test_encoder_stack_matches_torch(torch, norm_first, final_norm):
    def make(ns):
        layer = ns.TransformerEncoderLayer(D, NHEAD, FF, dropout=0.0, norm_first=norm_first)
        norm = (nn.LayerNorm if ns is seq else ns.LayerNorm)(D) if final_norm else None
        return ns.TransformerEncoder(layer, num_layers=2, norm=norm)

    def call(mod, src, mask, kpm):
        return mod(src, mask=mask, src_key_padding_mask=kpm)

    kpm = np.where(padding_mask(S), -np.inf, 0).astype(np.float32)  # same type as the mask
    ours, _, _ = parity(torch, make, call, randn(S, N, D), (causal(S), False), (kpm, False), **DEEP)
    assert [n for n, _ in ours.named_children()] == (
        ["layers", "norm"] if final_norm else ["layers"]
    )
    assert "layers.1.self_attn.in_proj_weight" in ours.state_dict()


def test_encoder_stack_detects_causal_mask(torch, monkeypatch):
    seen = []
    forward = seq.TransformerEncoderLayer.forward

    def spy(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        seen.append(is_causal)
        return forward(self, src, src_mask, src_key_padding_mask, is_causal)

    monkeypatch.setattr(seq.TransformerEncoderLayer, "forward", spy)
    enc = seq.TransformerEncoder(seq.TransformerEncoderLayer(D, NHEAD, FF), num_layers=2)
    x = mt.randn(S, N, D)
    enc(x, mask=seq.generate_square_subsequent_mask(S))
    enc(x, mask=mt.tensor(np.triu(np.ones((S, S), bool), 1)))
    enc(x, mask=mt.zeros(S, S))
    enc(x, mask=seq.generate_square_subsequent_mask(S), is_causal=False)
    assert seen == [True, True, True, True, False, False, False, False]


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_stack_matches_torch(torch, norm_first):
    def make(ns):
        layer = ns.TransformerDecoderLayer(D, NHEAD, FF, dropout=0.0, norm_first=norm_first)
        return ns.TransformerDecoder(
            layer, num_layers=2, norm=(nn if ns is seq else ns).LayerNorm(D)
        )

    def call(mod, tgt, memory, tgt_mask, memory_kpm):
        return mod(tgt, memory, tgt_mask=tgt_mask, memory_key_padding_mask=memory_kpm)

    tgt, memory = randn(T, N, D, seed=1), randn(S, N, D)
    parity(torch, make, call, tgt, memory, (causal(T), False), padding_mask(S), **DEEP)


def test_stack_layers_are_independent_copies():
    layer = seq.TransformerEncoderLayer(D, NHEAD, FF)
    enc = seq.TransformerEncoder(layer, num_layers=3)
    w = [m.linear1.weight for m in enc.layers]
    assert len({id(p) for p in w}) == 3 and all(p is not layer.linear1.weight for p in w)
    np.testing.assert_array_equal(w[0].data, w[2].data)  # copies of the same layer
    w[0].data[...] = 0
    assert np.any(w[1].data) and np.any(layer.linear1.weight.data)


# -------------------------------------------------------------------------------- full model


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_matches_torch(torch, norm_first, batch_first):
    make = lambda ns: ns.Transformer(  # noqa: E731
        d_model=D,
        nhead=NHEAD,
        num_encoder_layers=2,
        num_decoder_layers=2,
        dim_feedforward=FF,
        dropout=0.1,
        activation="gelu",
        batch_first=batch_first,
        norm_first=norm_first,
    )
    src, tgt = randn(*seq_shape(S, batch_first)), randn(*seq_shape(T, batch_first), seed=1)

    def call(mod, src, tgt, tgt_mask, src_kpm, tgt_kpm):
        return mod(
            src,
            tgt,
            tgt_mask=tgt_mask,
            src_key_padding_mask=src_kpm,
            tgt_key_padding_mask=tgt_kpm,
            memory_key_padding_mask=src_kpm,
        )

    masks = ((causal(T), False), (padding_mask(S) * -1e9).astype(np.float32), padding_mask(T, 4))
    masks = masks[0], (masks[1], False), (np.where(masks[2], -np.inf, 0).astype(np.float32), False)
    ours, _, _ = parity(torch, make, call, src, tgt, *masks, **DEEP)
    assert [n for n, _ in ours.named_children()] == ["encoder", "decoder"]
    assert ours.encoder.norm is not None and ours.decoder.norm is not None


def test_transformer_unbatched_matches_torch(torch):
    make = lambda ns: ns.Transformer(D, NHEAD, 1, 1, FF, dropout=0.0)  # noqa: E731

    def call(mod, src, tgt):
        m = causal(T)
        return mod(src, tgt, tgt_mask=torch.tensor(m) if is_torch(mod) else mt.tensor(m))

    parity(torch, make, call, randn(S, D), randn(T, D, seed=1), **DEEP)


def test_transformer_state_dict_and_init(torch):
    kwargs = dict(
        d_model=16, nhead=4, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=24
    )
    ours = seq.Transformer(**kwargs)
    theirs = torch.nn.Transformer(**kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert {k: v.shape for k, v in ours.state_dict().items()} == {
        k: tuple(v.shape) for k, v in theirs.state_dict().items()
    }
    w = ours.encoder.layers[0].linear1.weight.data  # xavier_uniform_ over every matrix
    bound = math.sqrt(6.0 / (16 + 24))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert list(seq.Transformer(**kwargs, bias=False).state_dict()) == list(
        torch.nn.Transformer(**kwargs, bias=False).state_dict()
    )


def test_transformer_custom_encoder_decoder():
    enc = seq.TransformerEncoder(seq.TransformerEncoderLayer(D, NHEAD, FF), 1)
    dec = seq.TransformerDecoder(seq.TransformerDecoderLayer(D, NHEAD, FF), 1)
    model = seq.Transformer(D, NHEAD, custom_encoder=enc, custom_decoder=dec)
    assert model.encoder is enc and model.decoder is dec
    assert model(mt.randn(S, N, D), mt.randn(T, N, D)).shape == (T, N, D)


def test_transformer_dropout_only_in_training():
    mt.manual_seed(0)
    model = seq.Transformer(D, NHEAD, 1, 1, FF, dropout=0.5)
    src, tgt = mt.randn(S, N, D), mt.randn(T, N, D)
    model.eval()
    a, b = model(src, tgt), model(src, tgt)
    np.testing.assert_array_equal(a.data, b.data)
    model.train()
    c = model(src, tgt)
    assert not np.allclose(a.data, c.data)
    mt.manual_seed(1)
    d = model(src, tgt)
    mt.manual_seed(1)
    np.testing.assert_array_equal(d.data, model(src, tgt).data)


def test_transformer_errors():
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        seq.TransformerEncoderLayer(D, NHEAD, activation="tanh")
    model = seq.Transformer(D, NHEAD, 1, 1, FF)
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        model(mt.randn(S, 2, D), mt.randn(T, 3, D))
    with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal"):
        model(mt.randn(S, N, D), mt.randn(T, N, D + 1))
    with pytest.raises(AssertionError, match="only bool and floating types of src_key_padding"):
        model.encoder(mt.randn(S, N, D), src_key_padding_mask=mt.zeros(N, S, dtype=mt.int64))


# ------------------------------------------------------------------------------- positional


@pytest.mark.parametrize("d_model", [8, 7])
def test_sinusoidal_encoding_matches_reference(torch, d_model):
    max_len = 50
    position = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)
    div = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float64) * (-math.log(1e4) / d_model))
    ref = torch.zeros(max_len, d_model, dtype=torch.float64)
    ref[:, 0::2] = torch.sin(position * div)
    ref[:, 1::2] = torch.cos(position * div)[:, : d_model // 2]
    pos = seq.SinusoidalPositionalEncoding(d_model, max_len=max_len)
    np.testing.assert_allclose(pos.pe.numpy(), ref.numpy(), rtol=1e-6, atol=1e-7)
    assert pos.pe.dtype == np.float32 and list(pos.state_dict()) == []  # non-persistent buffer
    assert [n for n, _ in pos.named_buffers()] == ["pe"]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("cls", ["sinusoidal", "learned"])
def test_positional_layouts_and_offset(batch_first, cls):
    if cls == "sinusoidal":
        pos = seq.SinusoidalPositionalEncoding(D, max_len=20, batch_first=batch_first)
        table = pos.pe.data
    else:
        pos = seq.LearnedPositionalEmbedding(20, D, batch_first=batch_first)
        table = pos.weight.data
    x = mt.tensor(randn(*seq_shape(T, batch_first)), requires_grad=True)
    out = pos(x, offset=3)
    expected = x.data + (table[3 : 3 + T] if batch_first else table[3 : 3 + T, None])
    np.testing.assert_allclose(out.data, expected, rtol=1e-6)
    unbatched = pos(mt.tensor(randn(T, D)))
    np.testing.assert_allclose(unbatched.data, randn(T, D) + table[:T], rtol=1e-6)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.ones(x.shape, np.float32))
    if cls == "learned":
        g = pos.weight.grad.data
        np.testing.assert_array_equal(g[3 : 3 + T], np.full((T, D), N, np.float32))
        assert not np.any(g[:3]) and not np.any(g[3 + T :])
    with pytest.raises(ValueError, match=r"positions 18..21 are outside the table of max_len=20"):
        pos(x, offset=18)


def test_learned_positional_embedding_params_and_dropout():
    mt.manual_seed(0)
    emb = seq.LearnedPositionalEmbedding(500, 64, dropout=0.5)
    assert list(emb.state_dict()) == ["weight"] and emb.weight.shape == (500, 64)
    assert abs(float(emb.weight.data.std()) - 0.02) < 0.002
    x = mt.ones(T, N, 64)
    dropped = emb(x).data == 0
    assert 0.3 < dropped.mean() < 0.7
    expected = np.broadcast_to(1 + emb.weight.data[:T, None], (T, N, 64))
    np.testing.assert_allclose(emb.eval()(x).data, expected, rtol=1e-6)
