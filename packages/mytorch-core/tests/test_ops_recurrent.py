"""Fused recurrent ops: LSTM/GRU/RNN cells and layers against PyTorch (incl. packed sequences and
the reverse half of bidirectional modules) and finite differences, long sequences, errors."""

import gc

import numpy as np
import pytest

import mytorch.core as mt
from mytorch.core.autograd import Function
from mytorch.core.ops.recurrent import (
    gru_cell,
    gru_layer,
    lstm_cell,
    lstm_layer,
    rnn_layer,
    rnn_relu_cell,
    rnn_tanh_cell,
)
from mytorch.core.testing import gradcheck

rng = np.random.default_rng(0)
TOL = {"rtol": 1e-4, "atol": 1e-5}
GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}
KINDS = list(GATES)


def arr(*shape, dtype=np.float32, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(dtype)


def params(kind, I, H, bias=True, dtype=np.float32):
    """Random (w_ih, w_hh, b_ih, b_hh) arrays in PyTorch's layout."""
    G = GATES[kind]
    ws = [arr(G * H, I, dtype=dtype, scale=0.5), arr(G * H, H, dtype=dtype, scale=0.5)]
    bs = [arr(G * H, dtype=dtype, scale=0.5), arr(G * H, dtype=dtype, scale=0.5)]
    return ws + (bs if bias else [None, None])


def run_layer(kind, x, h0, c0, ws, **kw):
    """(output, h_n[, c_n]) of the mytorch layer op."""
    if kind == "lstm":
        return lstm_layer(x, h0, c0, *ws, **kw)
    if kind == "gru":
        return gru_layer(x, h0, *ws, **kw)
    return rnn_layer(x, h0, *ws, nonlinearity=kind[4:], **kw)


def torch_module(torch, kind, I, H, ws, reverse):
    """A one-layer torch module whose (reverse, when ``reverse``) direction uses ``ws``."""
    bias = ws[2] is not None
    kwargs = {"bias": bias, "bidirectional": reverse}
    if kind == "lstm":
        m = torch.nn.LSTM(I, H, **kwargs)
    elif kind == "gru":
        m = torch.nn.GRU(I, H, **kwargs)
    else:
        m = torch.nn.RNN(I, H, nonlinearity=kind[4:], **kwargs)
    sfx = "_reverse" if reverse else ""
    names = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    with torch.no_grad():
        for name, w in zip(names, ws):
            if w is not None:
                getattr(m, name + sfx).copy_(torch.from_numpy(w))
    return m, [getattr(m, n + sfx) if w is not None else None for n, w in zip(names, ws)]


def compare_layer(torch, kind, T=6, B=4, I=3, H=5, reverse=False, lengths=None, bias=True):
    """Outputs and every gradient of the mytorch layer vs torch's module (one direction)."""
    ws = params(kind, I, H, bias)
    x, h0, c0 = arr(T, B, I), arr(B, H), arr(B, H)
    D, j = (2, 1) if reverse else (1, 0)
    m, tw = torch_module(torch, kind, I, H, ws, reverse)
    tx = torch.tensor(x, requires_grad=True)
    th = torch.tensor(np.stack([h0] * D), requires_grad=True)
    tc = torch.tensor(np.stack([c0] * D), requires_grad=True)
    inp = tx
    if lengths is not None:
        inp = torch.nn.utils.rnn.pack_padded_sequence(
            tx, torch.tensor(lengths), enforce_sorted=False
        )
    hidden = (th, tc) if kind == "lstm" else th
    t_out, t_hid = m(inp, hidden)
    if lengths is not None:
        t_out, _ = torch.nn.utils.rnn.pad_packed_sequence(t_out, total_length=T)
    t_res = [t_out[..., j * H : (j + 1) * H]]
    t_res += [t_hid[0][j], t_hid[1][j]] if kind == "lstm" else [t_hid[j]]

    mx = mt.tensor(x, requires_grad=True)
    mh = mt.tensor(h0, requires_grad=True)
    mc = mt.tensor(c0, requires_grad=True)
    mw = [None if w is None else mt.tensor(w, requires_grad=True) for w in ws]
    m_res = run_layer(kind, mx, mh, mc, mw, reverse=reverse, lengths=lengths)
    assert len(m_res) == len(t_res)

    t_loss, m_loss = 0, 0
    for k, (a, b) in enumerate(zip(m_res, t_res)):
        assert a.shape == tuple(b.shape) and a.dtype == np.float32, k
        np.testing.assert_allclose(a.data, b.detach().numpy(), **TOL, err_msg=f"output {k}")
        v = arr(*a.shape)
        t_loss = t_loss + (b * torch.from_numpy(v)).sum()
        m_loss = m_loss + (a * mt.tensor(v)).sum()
    t_loss.backward()
    m_loss.backward()
    pairs = [(mx, tx.grad, "input"), (mh, th.grad[j], "h0")]
    if kind == "lstm":
        pairs.append((mc, tc.grad[j], "c0"))
    else:
        assert mc.grad is None
    names = ["w_ih", "w_hh", "b_ih", "b_hh"]
    pairs += [(a, b.grad, n) for a, b, n in zip(mw, tw, names) if a is not None]
    for a, g, name in pairs:
        assert a.grad is not None and a.grad.dtype == np.float32, name
        np.testing.assert_allclose(a.grad.data, g.numpy(), **TOL, err_msg=f"grad of {name}")


# ----------------------------------------------------------------------------------------------
# Layers vs torch.nn.LSTM / GRU / RNN
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_layer_matches_torch(torch, kind, reverse, bias):
    compare_layer(torch, kind, reverse=reverse, bias=bias)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize(
    "lengths",
    [
        [6, 3, 5, 1],  # unsorted, one full-length sequence
        [2, 4, 4, 3],  # every sequence shorter than T: the last steps never run
        (1, 1, 6, 2),
        [6, 6, 6, 6],  # all full: the same as no lengths
    ],
)
def test_layer_matches_torch_packed(torch, kind, reverse, lengths):
    compare_layer(torch, kind, reverse=reverse, lengths=lengths)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_layer_matches_torch_longer(torch, kind):
    compare_layer(torch, kind, T=25, B=7, I=6, H=9, lengths=list(rng.integers(1, 26, 7)))


@pytest.mark.parametrize("reverse", [False, True])
def test_lengths_semantics(reverse):
    """Past its length a sequence outputs zeros, and h_n/c_n equal running it alone."""
    T, B, I, H = 7, 3, 2, 4
    ws = [mt.tensor(w) for w in params("lstm", I, H)]
    x, h0, c0 = mt.tensor(arr(T, B, I)), mt.tensor(arr(B, H)), mt.tensor(arr(B, H))
    lengths = [4, 7, 2]
    out, h_n, c_n = lstm_layer(x, h0, c0, *ws, reverse=reverse, lengths=lengths)
    for b, n in enumerate(lengths):
        alone = lstm_layer(x[:n, b : b + 1], h0[b : b + 1], c0[b : b + 1], *ws, reverse=reverse)
        np.testing.assert_allclose(out.data[:n, b], alone[0].data[:, 0], rtol=1e-5, atol=1e-6)
        assert not out.data[n:, b].any()
        np.testing.assert_allclose(h_n.data[b], alone[1].data[0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(c_n.data[b], alone[2].data[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "lengths", [[3, 1, 2], np.array([3, 1, 2]), mt.tensor([3, 1, 2]), (3, 1, 2)]
)
def test_lengths_types(lengths):
    T, B, I, H = 3, 3, 2, 2
    ws = [mt.tensor(w) for w in params("gru", I, H)]
    x = mt.tensor(arr(T, B, I))
    out, _ = gru_layer(x, None, *ws, lengths=lengths)
    assert not out.data[1:, 1].any() and not out.data[2:, 2].any() and out.data[2, 0].any()


@pytest.mark.parametrize("kind", KINDS)
def test_layer_equals_a_loop_of_cells(kind):
    T, B, I, H = 5, 2, 3, 4
    ws = [mt.tensor(w) for w in params(kind, I, H)]
    x, h, c = mt.tensor(arr(T, B, I)), mt.tensor(arr(B, H)), mt.tensor(arr(B, H))
    res = run_layer(kind, x, h, c, ws, reverse=True)
    cell = {"lstm": lstm_cell, "gru": gru_cell, "rnn_tanh": rnn_tanh_cell}.get(kind, rnn_relu_cell)
    outs = [None] * T
    for t in reversed(range(T)):
        if kind == "lstm":
            h, c = cell(x[t], h, c, *ws)
        else:
            h = cell(x[t], h, *ws)
        outs[t] = h.data
    np.testing.assert_allclose(res[0].data, np.stack(outs), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(res[1].data, h.data, rtol=1e-5, atol=1e-6)
    if kind == "lstm":
        np.testing.assert_allclose(res[2].data, c.data, rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------------------------
# Cells vs torch.nn.LSTMCell / GRUCell / RNNCell
# ----------------------------------------------------------------------------------------------


CELLS = {"lstm": lstm_cell, "gru": gru_cell, "rnn_tanh": rnn_tanh_cell, "rnn_relu": rnn_relu_cell}


def torch_cell(torch, kind, I, H, bias):
    if kind == "lstm":
        return torch.nn.LSTMCell(I, H, bias=bias)
    if kind == "gru":
        return torch.nn.GRUCell(I, H, bias=bias)
    return torch.nn.RNNCell(I, H, bias=bias, nonlinearity=kind[4:])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("with_state", [True, False])
def test_cell_matches_torch(torch, kind, batched, bias, with_state):
    B, I, H = 3, 4, 5
    shape = (B,) if batched else ()
    ws = params(kind, I, H, bias)
    m = torch_cell(torch, kind, I, H, bias)
    names = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    with torch.no_grad():
        for name, w in zip(names, ws):
            if w is not None:
                getattr(m, name).copy_(torch.from_numpy(w))
    x = arr(*shape, I)
    states = [arr(*shape, H) for _ in range(2 if kind == "lstm" else 1)]
    tx = torch.tensor(x, requires_grad=True)
    ts = [torch.tensor(s, requires_grad=True) for s in states]
    mx = mt.tensor(x, requires_grad=True)
    ms = [mt.tensor(s, requires_grad=True) for s in states]
    mw = [None if w is None else mt.tensor(w, requires_grad=True) for w in ws]
    if kind == "lstm":
        t_res = m(tx, tuple(ts) if with_state else None)
        m_res = lstm_cell(mx, *(ms if with_state else [None, None]), *mw)
    else:
        t_res = (m(tx, ts[0] if with_state else None),)
        m_res = (CELLS[kind](mx, ms[0] if with_state else None, *mw),)
    t_loss, m_loss = 0, 0
    for a, b in zip(m_res, t_res):
        assert a.shape == tuple(b.shape) and a.dtype == np.float32
        np.testing.assert_allclose(a.data, b.detach().numpy(), **TOL)
        v = arr(*a.shape)
        t_loss = t_loss + (b * torch.from_numpy(v)).sum()
        m_loss = m_loss + (a * mt.tensor(v)).sum()
    t_loss.backward()
    m_loss.backward()
    pairs = [(mx, tx.grad)] + [(p, getattr(m, n).grad) for p, n in zip(mw, names) if p is not None]
    if with_state:
        pairs += list(zip(ms, [t.grad for t in ts]))
    for a, g in pairs:
        assert a.grad is not None and a.grad.shape == tuple(g.shape)
        np.testing.assert_allclose(a.grad.data, g.numpy(), **TOL)


# ----------------------------------------------------------------------------------------------
# Finite differences (float64)
# ----------------------------------------------------------------------------------------------


def f64(*shape, scale=1.0):
    return mt.tensor(rng.standard_normal(shape) * scale, dtype=mt.float64, requires_grad=True)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "reverse,lengths",
    [(False, None), (True, None), (False, [4, 2, 3]), (True, [1, 4, 3]), (True, [3, 2, 3])],
)
def test_layer_gradcheck(kind, reverse, lengths):
    T, B, I, H = 4, 3, 2, 3
    G = GATES[kind]
    x, h0, c0 = f64(T, B, I), f64(B, H), f64(B, H)
    ws = [f64(G * H, I, scale=0.6), f64(G * H, H, scale=0.6), f64(G * H), f64(G * H)]
    if kind == "rnn_relu":  # keep pre-activations away from relu's kink
        ws[2] = mt.tensor(np.full(G * H, 2.0), dtype=mt.float64, requires_grad=True)

    def fn(x, h0, c0, *ws):
        return run_layer(kind, x, h0, c0, ws, reverse=reverse, lengths=lengths)

    inputs = (x, h0, c0, *ws) if kind == "lstm" else (x, h0, c0.detach(), *ws)
    assert gradcheck(fn, inputs)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("bias", [True, False])
def test_cell_gradcheck(kind, batched, bias):
    B, I, H = 2, 3, 2
    G = GATES[kind]
    shape = (B,) if batched else ()
    x = f64(*shape, I)
    states = [f64(*shape, H) for _ in range(2 if kind == "lstm" else 1)]
    ws = [f64(G * H, I, scale=0.6), f64(G * H, H, scale=0.6)]
    if bias:
        ws += [f64(G * H), f64(G * H)]
    if kind == "rnn_relu":
        with mt.no_grad():
            x.data[...] = np.abs(x.data) + 0.5
            ws[0].data[...] = np.abs(ws[0].data) + 0.1
            ws[1].data[...] = np.abs(ws[1].data)
    assert gradcheck(CELLS[kind], (x, *states, *ws))


def test_gradcheck_only_some_inputs_require_grad():
    T, B, I, H = 3, 2, 2, 3
    w_ih, w_hh = f64(4 * H, I), f64(4 * H, H)
    x = mt.from_numpy(rng.standard_normal((T, B, I)))  # no grad needed: dx is skipped

    def fn(w_ih, w_hh):
        return lstm_layer(x, None, None, w_ih, w_hh, None, None, lengths=[3, 2])

    assert gradcheck(fn, (w_ih, w_hh))
    b_hh = f64(4 * H)
    out, h_n, c_n = lstm_layer(x, None, None, w_ih.detach(), w_hh.detach(), None, b_hh)
    (out.sum() + c_n.sum()).backward()
    assert b_hh.grad is not None and b_hh.grad.shape == (4 * H,)


# ----------------------------------------------------------------------------------------------
# Graph behaviour: long sequences, freeing, retain_graph, double backward, in-place
# ----------------------------------------------------------------------------------------------


def _live_functions() -> int:
    gc.collect()
    return sum(issubclass(type(o), Function) for o in gc.get_objects())


def test_thousand_step_lstm_frees_its_graph():
    T, B, I, H = 1000, 2, 3, 4
    ws = [mt.tensor(w, requires_grad=True) for w in params("lstm", I, H)]
    x = mt.tensor(arr(T, B, I), requires_grad=True)
    before = _live_functions()
    out, h_n, c_n = lstm_layer(x, None, None, *ws, lengths=[1000, 640])
    (out.sum() + h_n.sum() + c_n.sum()).backward()
    assert np.isfinite(x.grad.data).all() and not x.grad.data[640:, 1].any()
    assert all(np.isfinite(w.grad.data).all() for w in ws)
    del out, h_n, c_n
    assert _live_functions() == before


def test_thousand_cell_steps_run_without_recursion_and_free_the_graph():
    B, I, H = 2, 3, 4
    ws = [mt.tensor(w, requires_grad=True) for w in params("lstm", I, H)]
    xs = mt.tensor(arr(1000, B, I))
    before = _live_functions()
    h = c = None
    for t in range(1000):
        h, c = lstm_cell(xs[t], h, c, *ws)
    (h.sum() + c.sum()).backward()
    assert all(np.isfinite(w.grad.data).all() for w in ws)
    del h, c
    assert _live_functions() == before


def test_retain_graph_gives_the_same_gradients_twice():
    ws = [mt.tensor(w, requires_grad=True) for w in params("gru", 3, 4)]
    x = mt.tensor(arr(5, 2, 3), requires_grad=True)
    out, h_n = gru_layer(x, None, *ws, reverse=True, lengths=[5, 3])
    loss = (out * out).sum() + h_n.sum()
    loss.backward(retain_graph=True)
    first = [p.grad.data.copy() for p in (x, *ws)]
    for p in (x, *ws):
        p.grad = None
    loss.backward()
    for p, g in zip((x, *ws), first):
        np.testing.assert_array_equal(p.grad.data, g)


def test_backward_twice_without_retain_graph_raises():
    ws = [mt.tensor(w, requires_grad=True) for w in params("rnn_tanh", 3, 4)]
    out, _ = rnn_layer(mt.tensor(arr(4, 2, 3)), None, *ws)
    loss = out.sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()


@pytest.mark.parametrize("kind", ["lstm_layer", "lstm_cell", "gru_cell", "rnn_layer"])
def test_double_backward_raises(kind):
    x = mt.tensor(arr(3, 2, 3), requires_grad=True)
    if kind == "lstm_layer":
        ws = [mt.tensor(w, requires_grad=True) for w in params("lstm", 3, 4)]
        y = lstm_layer(x, None, None, *ws)[0]
    elif kind == "rnn_layer":
        ws = [mt.tensor(w, requires_grad=True) for w in params("rnn_tanh", 3, 4)]
        y = rnn_layer(x, None, *ws)[0]
    elif kind == "lstm_cell":
        ws = [mt.tensor(w, requires_grad=True) for w in params("lstm", 3, 4)]
        y = lstm_cell(x[0], None, None, *ws)[0]
    else:
        ws = [mt.tensor(w, requires_grad=True) for w in params("gru", 3, 4)]
        y = gru_cell(x[0], None, *ws)
    (g,) = mt.autograd.grad((y * y).sum(), x, create_graph=True)
    assert g.requires_grad and g.dtype == np.float32
    op = {"lstm_layer": "LstmLayer", "lstm_cell": "LstmCell", "gru_cell": "GruCell"}
    name = op.get(kind, "RnnLayer")
    with pytest.raises(RuntimeError, match=f"{name}: double backward is not supported"):
        g.sum().backward()


def test_first_order_gradients_under_create_graph_are_exact():
    ws = [mt.tensor(w, requires_grad=True) for w in params("lstm", 3, 4)]
    x = mt.tensor(arr(3, 2, 3), requires_grad=True)
    out = lstm_layer(x, None, None, *ws)[0]
    (g1,) = mt.autograd.grad(out.sum(), x, create_graph=True)
    out = lstm_layer(x, None, None, *ws)[0]
    (g2,) = mt.autograd.grad(out.sum(), x)
    np.testing.assert_array_equal(g1.data, g2.data)


def test_inplace_change_of_a_saved_input_is_detected():
    ws = [mt.tensor(w, requires_grad=True) for w in params("lstm", 3, 4)]
    x = mt.tensor(arr(3, 2, 3), requires_grad=True)
    xx = x * 1
    out = lstm_layer(xx, None, None, *ws)[0]
    xx.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


@pytest.mark.parametrize("kind", KINDS)
def test_output_is_not_kept_for_backward(kind):
    """Changing an output in place leaves the gradients alone (as in PyTorch)."""
    ws = [mt.tensor(w, requires_grad=True) for w in params(kind, 3, 4)]
    x = mt.tensor(arr(4, 2, 3), requires_grad=True)
    grads = []
    for change in (False, True):
        for p in (x, *ws):
            p.grad = None
        res = run_layer(kind, x, None, None, ws)
        loss = sum(
            (r * mt.tensor(np.linspace(-1, 1, r.numel(), dtype=np.float32)).reshape(r.shape)).sum()
            for r in res
        )
        if change:
            for r in res:
                r.data[...] = 0.0
        loss.backward()
        grads.append([p.grad.data.copy() for p in (x, *ws)])
    for a, b in zip(*grads):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind", KINDS)
def test_float64_in_float64_out(kind):
    ws = [mt.from_numpy(w) for w in params(kind, 3, 4, dtype=np.float64)]
    x = mt.from_numpy(arr(5, 2, 3, dtype=np.float64)).requires_grad_()
    res = run_layer(kind, x, None, None, ws, lengths=[5, 2])
    assert all(r.dtype == np.float64 for r in res)
    res[0].sum().backward()
    assert x.grad.dtype == np.float64


def test_no_grad_builds_no_graph():
    ws = [mt.tensor(w, requires_grad=True) for w in params("lstm", 3, 4)]
    with mt.no_grad():
        out, h_n, c_n = lstm_layer(mt.tensor(arr(4, 2, 3)), None, None, *ws)
    assert not out.requires_grad and out.grad_fn is None


def test_registered_with_docstrings():
    from mytorch.core.autograd import registry

    ops = registry()["recurrent"]
    names = {op.__name__ for op in ops}
    assert {"LstmLayer", "GruLayer", "RnnLayer", "LstmCell", "GruCell", "RnnCell"} <= names
    assert all(op.__doc__ and ";" in op.__doc__ for op in ops)


# ----------------------------------------------------------------------------------------------
# Argument errors
# ----------------------------------------------------------------------------------------------


def _w(*shape, dtype=np.float32):
    return mt.from_numpy(arr(*shape, dtype=dtype))


X3, H2 = _w(5, 2, 3), _w(2, 4)
LW = (_w(16, 3), _w(16, 4), _w(16), _w(16))

ERRORS = [
    (lambda: lstm_layer(_w(5, 3), None, None, *LW), ValueError, r"time-major \(T, B, I\)"),
    (lambda: lstm_layer(_w(0, 2, 3), None, None, *LW), ValueError, "at least one step"),
    (
        lambda: lstm_layer(_w(5, 2, 2), None, None, *LW),
        RuntimeError,
        "input.size\\(-1\\) must be equal to input_size. Expected 3, got 2",
    ),
    (
        lambda: lstm_layer(X3, _w(3, 4), None, *LW),
        RuntimeError,
        r"Expected h0 size \(2, 4\), got \[3, 4\]",
    ),
    (
        lambda: lstm_layer(X3, H2, _w(2, 5), *LW),
        RuntimeError,
        r"Expected c0 size \(2, 4\), got \[2, 5\]",
    ),
    (
        lambda: lstm_layer(X3, None, None, _w(12, 3), *LW[1:]),
        RuntimeError,
        "w_ih must have 4 \\* hidden_size = 16 rows",
    ),
    (
        lambda: gru_layer(X3, None, *LW),
        RuntimeError,
        r"w_hh must have shape \(3 \* hidden_size, hidden_size\) = \(12, 4\)",
    ),
    (
        lambda: lstm_layer(X3, None, None, *LW[:2], _w(12), None),
        RuntimeError,
        r"b_ih must have shape \(16,\), got \[12\]",
    ),
    (
        lambda: lstm_layer(X3, None, None, _w(16, 3, dtype=np.float64), *LW[1:]),
        RuntimeError,
        "expected w_ih to have the same dtype as input",
    ),
    (
        lambda: lstm_layer(mt.tensor([[[1, 2, 3]]]), None, None, *LW),
        TypeError,
        "expected a floating point input",
    ),
    (
        lambda: lstm_layer(X3, None, None, *LW, lengths=[5]),
        ValueError,
        r"one length per batch entry \(2\)",
    ),
    (
        lambda: lstm_layer(X3, None, None, *LW, lengths=[5, 0]),
        ValueError,
        "Length of all samples has to be greater than 0",
    ),
    (
        lambda: lstm_layer(X3, None, None, *LW, lengths=[6, 2]),
        ValueError,
        "must not exceed the sequence length 5, got 6",
    ),
    (
        lambda: lstm_layer(X3, None, None, *LW, lengths=[5.0, 2.0]),
        TypeError,
        "lengths must be integers",
    ),
    (
        lambda: rnn_layer(X3, None, _w(4, 3), _w(4, 4), nonlinearity="sigmoid"),
        ValueError,
        "Unknown nonlinearity 'sigmoid'. Select from 'tanh' or 'relu'.",
    ),
    (
        lambda: lstm_cell(X3, None, None, *LW),
        ValueError,
        "lstm_cell: Expected input to be 1D or 2D, got 3D instead",
    ),
    (
        lambda: lstm_cell(_w(2, 5), None, None, *LW),
        RuntimeError,
        "input has inconsistent input_size: got 5 expected 3",
    ),
    (
        lambda: lstm_cell(_w(3, 3), H2, H2, *LW),
        RuntimeError,
        "Input batch size 3 doesn't match hidden0 batch size 2",
    ),
    (
        lambda: lstm_cell(_w(2, 3), H2, _w(2, 3), *LW),
        RuntimeError,
        "hidden1 has inconsistent hidden_size: got 3, expected 4",
    ),
    (
        lambda: gru_cell(_w(3), H2, _w(12, 3), _w(12, 4)),
        RuntimeError,
        "gru_cell: expected hidden0 to be 1-D like the input, got 2-D",
    ),
    (
        lambda: rnn_tanh_cell(_w(2, 3), H2, _w(4, 3), _w(4, 4), _w(4, dtype=np.float64)),
        RuntimeError,
        "rnn_tanh_cell: expected b_ih to have the same dtype as input",
    ),
    (
        lambda: rnn_relu_cell(_w(2, 3), H2, _w(4, 3), _w(4)),
        ValueError,
        "rnn_relu_cell: w_hh must be a 2-D tensor, got 1-D",
    ),
]


@pytest.mark.parametrize("fn,exc,match", ERRORS)
def test_errors(fn, exc, match):
    with pytest.raises(exc, match=match):
        fn()
