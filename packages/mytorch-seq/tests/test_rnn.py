"""RNN / LSTM / GRU and their cells against PyTorch: outputs, final states, gradients, state_dict
keys, repr, dropout, variable lengths and argument errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import mytorch.core as mt
from mytorch.seq import packing
from mytorch.seq.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

RTOL, ATOL = 1e-4, 1e-5
T, B, I, H = 4, 3, 3, 5

# mode -> (class name, extra constructor arguments)
MODES = {
    "LSTM": ("LSTM", {}),
    "GRU": ("GRU", {}),
    "RNN_TANH": ("RNN", {}),
    "RNN_RELU": ("RNN", {"nonlinearity": "relu"}),
}
OURS = {"LSTM": LSTM, "GRU": GRU, "RNN": RNN}


def _pair(torch, mode: str, *args, **kwargs):
    """A torch module and ours with the same weights."""
    name, extra = MODES[mode]
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(*args, **extra, **kwargs)
    ours = OURS[name](*args, **extra, **kwargs)
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def _leaf(torch, array: np.ndarray):
    return mt.tensor(array, requires_grad=True), torch.tensor(array, requires_grad=True)


def _flat(result) -> list:
    """The tensors of a module result, packed outputs as their data."""
    out = []
    for item in result if isinstance(result, (tuple, list)) else (result,):
        if isinstance(item, (tuple, list)) and not hasattr(item, "batch_sizes"):
            out.extend(_flat(item))
        else:
            out.append(item.data if hasattr(item, "batch_sizes") else item)
    return out


def _np(t) -> np.ndarray:
    return t.detach().numpy()


def _check(torch, ours_result, theirs_result, ours_leaves, theirs_leaves, seed: int = 0):
    """Compare results, then gradients of a random weighting of them w.r.t. every leaf."""
    ours_out, theirs_out = _flat(ours_result), _flat(theirs_result)
    assert len(ours_out) == len(theirs_out)
    rng = np.random.default_rng(seed)
    loss_ours, loss_theirs = 0, 0
    for a, b in zip(ours_out, theirs_out):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(_np(a), _np(b), rtol=RTOL, atol=ATOL)
        w = rng.standard_normal(tuple(b.shape)).astype(np.float32)
        loss_ours = loss_ours + (a * mt.tensor(w)).sum()
        loss_theirs = loss_theirs + (b * torch.tensor(w)).sum()
    loss_ours.backward()
    loss_theirs.backward()
    assert len(ours_leaves) == len(theirs_leaves)
    for a, b in zip(ours_leaves, theirs_leaves):
        assert a.grad is not None, "missing gradient"
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=RTOL, atol=ATOL)


def _states(torch, mode: str, shape: tuple, rng):
    """Initial state(s) for ours and torch: (ours hx, torch hx, our leaves, torch leaves)."""
    n = 2 if mode == "LSTM" else 1
    pairs = [_leaf(torch, rng.standard_normal(shape).astype(np.float32)) for _ in range(n)]
    ours, theirs = [p[0] for p in pairs], [p[1] for p in pairs]
    if mode == "LSTM":
        return tuple(ours), tuple(theirs), ours, theirs
    return ours[0], theirs[0], ours, theirs


# ---------------------------------------------------------------------------------------------
# full-sequence parity
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("with_hx", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("mode", list(MODES))
def test_module_matches_torch(torch, mode, num_layers, bidirectional, batch_first, with_hx):
    ours, theirs = _pair(
        torch, mode, I, H, num_layers, batch_first=batch_first, bidirectional=bidirectional
    )
    rng = np.random.default_rng(1)
    shape = (B, T, I) if batch_first else (T, B, I)
    x, tx = _leaf(torch, rng.standard_normal(shape).astype(np.float32))
    leaves, tleaves = [x], [tx]
    if with_hx:
        hx, thx, hl, thl = _states(torch, mode, (num_layers * (1 + bidirectional), B, H), rng)
        res, tres = ours(x, hx), theirs(tx, thx)
        leaves, tleaves = leaves + hl, tleaves + thl
    else:
        res, tres = ours(x), theirs(tx)
    _check(torch, res, tres, leaves + list(ours.parameters()), tleaves + list(theirs.parameters()))


@pytest.mark.parametrize("mode", list(MODES))
def test_module_without_bias_matches_torch(torch, mode):
    ours, theirs = _pair(torch, mode, I, H, 2, bias=False, bidirectional=True)
    assert "bias_ih_l0" not in ours.state_dict() and "weight_hh_l1_reverse" in ours.state_dict()
    x, tx = _leaf(torch, np.random.default_rng(2).standard_normal((T, B, I)).astype(np.float32))
    _check(torch, ours(x), theirs(tx), [x, *ours.parameters()], [tx, *theirs.parameters()])


@pytest.mark.parametrize("with_hx", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("mode", list(MODES))
def test_unbatched_input_matches_torch(torch, mode, batch_first, with_hx):
    ours, theirs = _pair(torch, mode, I, H, 2, batch_first=batch_first, bidirectional=True)
    rng = np.random.default_rng(3)
    x, tx = _leaf(torch, rng.standard_normal((T, I)).astype(np.float32))
    leaves, tleaves = [x], [tx]
    if with_hx:
        hx, thx, hl, thl = _states(torch, mode, (4, H), rng)
        res, tres = ours(x, hx), theirs(tx, thx)
        leaves, tleaves = leaves + hl, tleaves + thl
    else:
        res, tres = ours(x), theirs(tx)
    assert tuple(res[0].shape) == (T, 2 * H)
    _check(torch, res, tres, leaves + list(ours.parameters()), tleaves + list(theirs.parameters()))


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_float64_module_matches_torch(torch, mode):
    ours, theirs = _pair(torch, mode, I, H, 2)
    ours.double()
    theirs.double()
    x = np.random.default_rng(4).standard_normal((T, B, I))
    res, tres = ours(mt.tensor(x, dtype=mt.float64)), theirs(torch.tensor(x))
    assert res[0].dtype == mt.float64
    np.testing.assert_allclose(_np(res[0]), _np(tres[0]), rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# variable lengths
# ---------------------------------------------------------------------------------------------

PACKED_CONFIGS = [  # (num_layers, bidirectional, batch_first, with_hx)
    (1, False, False, False),
    (2, True, True, True),
    (2, True, False, False),
    (2, False, True, True),
]


@pytest.mark.parametrize("config", PACKED_CONFIGS)
@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("mode", list(MODES))
def test_packed_sequence_matches_torch(torch, mode, enforce_sorted, config):
    num_layers, bidirectional, batch_first, with_hx = config
    ours, theirs = _pair(
        torch, mode, I, H, num_layers, batch_first=batch_first, bidirectional=bidirectional
    )
    rng = np.random.default_rng(5)
    lengths = [5, 3, 3, 1] if enforce_sorted else [3, 5, 1, 4]
    n, steps = len(lengths), 5
    shape = (n, steps, I) if batch_first else (steps, n, I)
    x, tx = _leaf(torch, rng.standard_normal(shape).astype(np.float32))
    packed = packing.pack_padded_sequence(x, lengths, batch_first, enforce_sorted)
    tpacked = torch.nn.utils.rnn.pack_padded_sequence(tx, lengths, batch_first, enforce_sorted)
    leaves, tleaves = [x], [tx]
    if with_hx:
        hx, thx, hl, thl = _states(torch, mode, (num_layers * (1 + bidirectional), n, H), rng)
        res, tres = ours(packed, hx), theirs(tpacked, thx)
        leaves, tleaves = leaves + hl, tleaves + thl
    else:
        res, tres = ours(packed), theirs(tpacked)
    assert isinstance(res[0], packing.PackedSequence)
    np.testing.assert_array_equal(res[0].batch_sizes.numpy(), tres[0].batch_sizes.numpy())
    # pack -> module -> pad gives torch's padded output, in the original batch order
    padded, lens = packing.pad_packed_sequence(res[0], batch_first)
    tpadded, tlens = torch.nn.utils.rnn.pad_packed_sequence(tres[0], batch_first)
    np.testing.assert_allclose(_np(padded), _np(tpadded), rtol=RTOL, atol=ATOL)
    np.testing.assert_array_equal(lens.numpy(), tlens.numpy())
    _check(torch, res, tres, leaves + list(ours.parameters()), tleaves + list(theirs.parameters()))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("mode", list(MODES))
def test_lengths_keyword_matches_packing_in_torch(torch, mode, batch_first):
    ours, theirs = _pair(torch, mode, I, H, 2, batch_first=batch_first, bidirectional=True)
    rng = np.random.default_rng(6)
    lengths = [2, 4, 1]
    shape = (3, 4, I) if batch_first else (4, 3, I)
    x, tx = _leaf(torch, rng.standard_normal(shape).astype(np.float32))
    output, state = ours(x, lengths=mt.tensor(lengths))
    tpacked = torch.nn.utils.rnn.pack_padded_sequence(tx, lengths, batch_first, False)
    toutput, tstate = theirs(tpacked)
    toutput = torch.nn.utils.rnn.pad_packed_sequence(toutput, batch_first, total_length=4)[0]
    _check(
        torch,
        (output, state),
        (toutput, tstate),
        [x, *ours.parameters()],
        [tx, *theirs.parameters()],
    )


# ---------------------------------------------------------------------------------------------
# cells
# ---------------------------------------------------------------------------------------------

CELLS = {
    "RNNCell": (RNNCell, {}),
    "RNNCell_relu": (RNNCell, {"nonlinearity": "relu"}),
    "LSTMCell": (LSTMCell, {}),
    "GRUCell": (GRUCell, {}),
}


@pytest.mark.parametrize("with_hx", [False, True])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("name", list(CELLS))
def test_cell_matches_torch(torch, name, bias, batched, with_hx):
    cls, extra = CELLS[name]
    torch.manual_seed(0)
    theirs = getattr(torch.nn, cls.__name__)(I, H, bias=bias, **extra)
    ours = cls(I, H, bias=bias, **extra)
    ours.load_state_dict(theirs.state_dict())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    rng = np.random.default_rng(7)
    lead = (B,) if batched else ()
    x, tx = _leaf(torch, rng.standard_normal((*lead, I)).astype(np.float32))
    leaves, tleaves = [x], [tx]
    if with_hx:
        mode = "LSTM" if cls is LSTMCell else "GRU"
        hx, thx, hl, thl = _states(torch, mode, (*lead, H), rng)
        res, tres = ours(x, hx), theirs(tx, thx)
        leaves, tleaves = leaves + hl, tleaves + thl
    else:
        res, tres = ours(x), theirs(tx)
    _check(torch, res, tres, leaves + list(ours.parameters()), tleaves + list(theirs.parameters()))


def test_cell_errors():
    cell = LSTMCell(3, 4)
    with pytest.raises(ValueError, match="Expected input to be 1D or 2D, got 3D"):
        cell(mt.zeros(1, 2, 3))
    with pytest.raises(RuntimeError, match="inconsistent input_size: got 5 expected 3"):
        cell(mt.zeros(2, 5))
    with pytest.raises(RuntimeError, match="batch size 2 doesn't match hidden0 batch size 3"):
        cell(mt.zeros(2, 3), (mt.zeros(3, 4), mt.zeros(3, 4)))
    with pytest.raises(RuntimeError, match="hidden1 has inconsistent hidden_size: got 5"):
        cell(mt.zeros(2, 3), (mt.zeros(2, 4), mt.zeros(2, 5)))
    with pytest.raises(TypeError, match=r"hx must be a tuple \(h, c\)"):
        cell(mt.zeros(2, 3), mt.zeros(2, 4))
    with pytest.raises(ValueError, match="Expected hidden to be 1D or 2D, got 3D"):
        GRUCell(3, 4)(mt.zeros(2, 3), mt.zeros(1, 2, 4))
    with pytest.raises(ValueError, match="Unknown nonlinearity 'gelu'"):
        RNNCell(3, 4, nonlinearity="gelu")


# ---------------------------------------------------------------------------------------------
# structure: parameters, state_dict, repr, init
# ---------------------------------------------------------------------------------------------

STRUCTURE_CONFIGS = [
    dict(),
    dict(num_layers=3, bidirectional=True),
    dict(num_layers=2, bias=False),
    dict(num_layers=2, batch_first=True, bidirectional=True),
    dict(num_layers=2, dropout=0.25),
]


@pytest.mark.parametrize("config", STRUCTURE_CONFIGS)
@pytest.mark.parametrize("mode", list(MODES))
def test_state_dict_and_repr_match_torch(torch, mode, config):
    ours, theirs = _pair(torch, mode, 10, 20, **config)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for (name, p), (tname, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert name == tname and tuple(p.shape) == tuple(tp.shape)
    assert repr(ours) == repr(theirs)
    assert [[tuple(w.shape) for w in ws] for ws in ours.all_weights] == [
        [tuple(w.shape) for w in ws] for ws in theirs.all_weights
    ]
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})


def test_repr_examples():
    assert repr(LSTM(10, 20, num_layers=2, batch_first=True, bidirectional=True)) == (
        "LSTM(10, 20, num_layers=2, batch_first=True, bidirectional=True)"
    )
    assert repr(RNN(3, 4, nonlinearity="relu")) == "RNN(3, 4)"
    assert repr(RNNCell(3, 4, bias=False, nonlinearity="relu")) == (
        "RNNCell(3, 4, bias=False, nonlinearity=relu)"
    )
    assert repr(GRU(3, 4, 2, dropout=0.5)) == "GRU(3, 4, num_layers=2, dropout=0.5)"


@pytest.mark.parametrize("module", [LSTM(6, 16, 2, bidirectional=True), GRUCell(6, 16)])
def test_default_init_is_uniform_within_one_over_sqrt_hidden(module):
    bound = 1 / np.sqrt(16)
    values = np.concatenate([p.detach().numpy().ravel() for p in module.parameters()])
    assert np.abs(values).max() <= bound
    assert np.abs(values).max() > 0.95 * bound  # spread over the whole range
    assert abs(values.mean()) < 0.02
    for p in module.parameters():
        assert p.detach().numpy().std() > 0.5 * bound / np.sqrt(3)


# ---------------------------------------------------------------------------------------------
# dropout between layers
# ---------------------------------------------------------------------------------------------


def test_dropout_only_between_layers_in_train_mode(torch):
    ours, theirs = _pair(torch, "LSTM", I, H, 3, dropout=0.5)
    x = np.random.default_rng(8).standard_normal((T, B, I)).astype(np.float32)
    ours.eval()
    theirs.eval()
    out_eval = _np(ours(mt.tensor(x))[0])
    np.testing.assert_allclose(out_eval, _np(theirs(torch.tensor(x))[0]), rtol=RTOL, atol=ATOL)
    ours.train()
    mt.manual_seed(0)
    first = _np(ours(mt.tensor(x))[0])
    second = _np(ours(mt.tensor(x))[0])
    assert not np.allclose(first, out_eval) and not np.allclose(first, second)
    assert not np.any(first == 0)  # the last layer's output is not dropped


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN_TANH"])
def test_dropout_one_matches_torch_in_train_mode(torch, mode):
    # p = 1 drops every input of layers 2+, so training-mode results are deterministic
    ours, theirs = _pair(torch, mode, I, H, 2, dropout=1.0, bidirectional=True)
    x, tx = _leaf(torch, np.random.default_rng(9).standard_normal((T, B, I)).astype(np.float32))
    _check(torch, ours(x), theirs(tx), [x, *ours.parameters()], [tx, *theirs.parameters()])


def test_dropout_with_one_layer_warns_and_does_nothing():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        gru = GRU(I, H, dropout=0.5)
    x = mt.randn(T, B, I)
    np.testing.assert_array_equal(_np(gru(x)[0]), _np(gru.eval()(x)[0]))


# ---------------------------------------------------------------------------------------------
# long sequences
# ---------------------------------------------------------------------------------------------


def test_long_lstm_forward_backward_matches_torch(torch):
    ours, theirs = _pair(torch, "LSTM", 2, 4)
    x, tx = _leaf(torch, np.random.default_rng(10).standard_normal((1000, 2, 2)).astype("f4"))
    out, (h, c) = ours(x)
    tout, (th, tc) = theirs(tx)
    assert tuple(out.shape) == (1000, 2, 4)
    np.testing.assert_allclose(_np(out), _np(tout), rtol=RTOL, atol=ATOL)
    (out.sum() + c.sum()).backward()
    (tout.sum() + tc.sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-3, atol=1e-4)
    for p, tp in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-3, atol=1e-3)


# ---------------------------------------------------------------------------------------------
# argument errors
# ---------------------------------------------------------------------------------------------


def test_constructor_errors():
    with pytest.raises(NotImplementedError, match="proj_size is not supported"):
        LSTM(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM"):
        GRU(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="Unknown nonlinearity 'gelu'"):
        RNN(3, 4, nonlinearity="gelu")
    with pytest.raises(ValueError, match=r"dropout should be a number in range \[0, 1\]"):
        LSTM(3, 4, 2, dropout=1.5)
    with pytest.raises(ValueError, match="hidden_size must be greater than zero"):
        GRU(3, 0)
    with pytest.raises(ValueError, match="num_layers must be greater than zero"):
        GRU(3, 4, 0)
    with pytest.raises(TypeError, match="batch_first should be of type bool"):
        LSTM(3, 4, batch_first=1)
    with pytest.raises(RuntimeError, match="CPU only"):
        LSTM(3, 4, device="cuda")


def test_forward_errors():
    lstm, gru = LSTM(3, 4, 2), GRU(3, 4)
    with pytest.raises(ValueError, match="Expected input to be 2D or 3D, got 4D"):
        gru(mt.zeros(1, 2, 3, 3))
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size. "):
        lstm(mt.zeros(5, 2, 4))
    with pytest.raises(
        RuntimeError, match=r"Expected hidden\[0\] size \(2, 2, 4\), got \[1, 2, 4\]"
    ):
        lstm(mt.zeros(5, 2, 3), (mt.zeros(1, 2, 4), mt.zeros(2, 2, 4)))
    with pytest.raises(
        RuntimeError, match=r"Expected hidden\[1\] size \(2, 2, 4\), got \[2, 3, 4\]"
    ):
        lstm(mt.zeros(5, 2, 3), (mt.zeros(2, 2, 4), mt.zeros(2, 3, 4)))
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(1, 2, 4\), got \[1, 3, 4\]"):
        gru(mt.zeros(5, 2, 3), mt.zeros(1, 3, 4))
    with pytest.raises(RuntimeError, match="For batched 3-D input, hx should also be 3-D"):
        gru(mt.zeros(5, 2, 3), mt.zeros(2, 4))
    with pytest.raises(RuntimeError, match="For unbatched 2-D input, hx and cx should also be"):
        lstm(mt.zeros(5, 3), (mt.zeros(2, 1, 4), mt.zeros(2, 1, 4)))
    with pytest.raises(TypeError, match=r"hx must be a tuple \(h_0, c_0\)"):
        lstm(mt.zeros(5, 2, 3), mt.zeros(2, 2, 4))
    with pytest.raises(ValueError, match="does not match weight dtype"):
        gru(mt.zeros(5, 2, 3, dtype=mt.float64))
    with pytest.raises(ValueError, match=r"lengths must lie in \[1, 5\]"):
        gru(mt.zeros(5, 2, 3), lengths=[6, 2])
    with pytest.raises(ValueError, match=r"expected shape \[2\], got \[3\]"):
        gru(mt.zeros(5, 2, 3), lengths=[5, 2, 1])
    packed = packing.pack_padded_sequence(mt.zeros(5, 2, 3), [5, 2])
    with pytest.raises(ValueError, match="cannot be combined with a PackedSequence"):
        gru(packed, lengths=[5, 2])
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(1, 2, 4\)"):
        gru(packed, mt.zeros(1, 3, 4))


def test_no_warnings_on_plain_use():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LSTM(3, 4, 2, dropout=0.1)(mt.randn(2, 1, 3))


def test_lengths_keyword_rejects_empty_sequences():
    # as PyTorch's pack_padded_sequence: every sequence needs at least one step
    gru = GRU(I, H, 2, bidirectional=True)
    with pytest.raises(ValueError, match="greater than 0"):
        gru(mt.randn(T, 2, I), mt.randn(4, 2, H), lengths=[0, T])


def test_exported_from_package():
    import mytorch.seq as seq

    assert seq.LSTM is LSTM and seq.GRUCell is GRUCell
    assert seq.pack_padded_sequence is packing.pack_padded_sequence
    assert seq.PackedSequence is packing.PackedSequence
