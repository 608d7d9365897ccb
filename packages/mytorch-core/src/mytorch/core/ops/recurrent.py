"""Fused recurrent ops: LSTM, GRU and Elman RNN cells, and whole-sequence layers.

Weights use PyTorch's layouts and gate orders: LSTM gates (i, f, g, o) packed in
``w_ih`` (4H, I), ``w_hh`` (4H, H), ``b_ih`` (4H,), ``b_hh`` (4H,); GRU gates (r, z, n) packed
in (3H, ...) with ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))`` and
``h' = (1 - z) * n + z * h``; RNN ``h' = tanh/relu(W_ih x + b_ih + W_hh h + b_hh)``.

A layer op runs one layer in one direction over a time-major (T, B, I) sequence as a single
node: one batched GEMM call projects the inputs of all steps before the loop, then each step
does one GEMM with the recurrent weights and the gate math in NumPy, keeping the gate
activations. Backward through
time is written by hand in NumPy: the local derivatives of all steps are formed at once, the
loop runs backwards with one GEMM per step, and the weight and input gradients are single
GEMMs over all steps. ``lengths`` gives variable-length sequences with the semantics of
PyTorch's packed sequences: steps past a sequence's length carry its state through unchanged
and output zeros, so ``h_n``/``c_n`` are the states at each sequence's last valid step, and
``reverse=True`` runs each sequence from its own last valid step back to step 0.

Gradients are exact but first-order only: the backward passes are NumPy code, so double
backward through these ops raises an error (as PyTorch's ``once_differentiable`` does).

>>> import mytorch.core as mt
>>> x, h, c = mt.randn(7, 2, 3), mt.zeros(2, 4), mt.zeros(2, 4)
>>> w_ih, w_hh, b = mt.randn(16, 3), mt.randn(16, 4), mt.zeros(16)
>>> out, h_n, c_n = lstm_layer(x, h, c, w_ih, w_hh, b, b, lengths=[7, 5])
>>> out.shape, h_n.shape, out[5:, 1].abs().sum().item()
((7, 2, 4), (2, 4), 0.0)
>>> lstm_cell(x[0], h, c, w_ih, w_hh)[0].shape
(2, 4)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mytorch.core.autograd import Function, once_differentiable
from mytorch.core.tensor import Tensor

__all__ = [
    "lstm_cell",
    "gru_cell",
    "rnn_tanh_cell",
    "rnn_relu_cell",
    "lstm_layer",
    "gru_layer",
    "rnn_layer",
]

# Inside the kernels states are feature-major, (H, B) per step and (T, H, B) over a sequence,
# so that every gate is a contiguous block of the (G*H, B) result of the step's GEMM and all
# elementwise work runs on contiguous memory. Sequences cross the boundary as (T, B, H).


# ----------------------------------------------------------------------------------------------
# Shared plumbing
# ----------------------------------------------------------------------------------------------


class _Walk:
    """The steps of a layer: their order and, for variable lengths, which entries sit idle.

    Only the first ``T = max(lengths)`` steps run. At step t an entry b with
    ``t >= lengths[b]`` is idle: its state is carried through unchanged (from the initial
    state when running in reverse, until its sequence starts), its output is zero, and in
    backward its local derivatives are zero and the carried gradient passes through.
    """

    def __init__(self, T: int, B: int, reverse: bool, lengths: np.ndarray | None) -> None:
        self.T_in = T
        self.forward = not reverse
        self.active = None  # (T, B) bool, or None when every entry runs every step
        self.idle = None  # (T, 1, B) bool, for the bulk arrays
        idle_steps = [None] * T
        if lengths is not None and not bool(np.all(lengths == T)):
            T = int(lengths.max())
            self.active = np.arange(T)[:, None] < lengths[None, :]
            self.idle = ~self.active[:, None, :]
            idle_steps = [None if a.all() else ~a[None, :] for a in self.active]
        self.T = T
        ks = range(T) if self.forward else range(T - 1, -1, -1)
        self.steps = [(k, idle_steps[k]) for k in ks]  # (t, (1, B) idle mask or None)

    def shifts(self) -> tuple[slice, slice, int]:
        """(cur, prev, first): the steps that follow another, the ones they follow, and the
        step that starts from the initial state."""
        T = self.T
        if self.forward:
            return slice(1, T), slice(0, T - 1), 0
        return slice(0, T - 1), slice(1, T), T - 1

    def final(self, states: np.ndarray) -> np.ndarray:
        """(B, H) state after the last step, from (T, H, B) states."""
        return np.ascontiguousarray(states[self.steps[-1][0]].T)

    def output(self, seq: np.ndarray) -> np.ndarray:
        """(T_in, B, H) output from the (T, B, H) states: zero where idle and past T."""
        if self.active is None:
            return seq
        out = np.zeros((self.T_in,) + seq.shape[1:], seq.dtype)
        np.copyto(out[: self.T], seq, where=self.active[:, :, None])
        return out

    def grad_in(self, g: np.ndarray) -> np.ndarray:
        """(T, H, B) gradient of the output, zero where idle, from (T_in, B, H)."""
        _, B, H = g.shape
        gt = np.empty((self.T, H, B), g.dtype)
        np.copyto(gt, g[: self.T].transpose(0, 2, 1))
        if self.idle is not None:
            np.copyto(gt, 0, where=self.idle)
        return gt

    def mask(self, *bulk: np.ndarray) -> None:
        """Zero (T, ..., H, B) local derivatives where idle."""
        if self.idle is not None:
            for a in bulk:
                np.copyto(a, 0, where=self.idle.reshape((self.T,) + (1,) * (a.ndim - 2) + (-1,)))

    def carry(self, factor: np.ndarray) -> np.ndarray:
        """A multiplicative carry factor that is 1 where idle (the gradient passes through)."""
        if self.idle is None:
            return factor
        return np.where(self.idle, factor.dtype.type(1), factor)

    def pad(self, dx: np.ndarray) -> np.ndarray:
        """(T_in, B, I) input gradient from the (T, B, I) one of the steps that ran."""
        if self.T == self.T_in:
            return dx
        out = np.zeros((self.T_in,) + dx.shape[1:], dx.dtype)
        out[: self.T] = dx
        return out


def _sum_bias(b_ih: np.ndarray | None, b_hh: np.ndarray | None) -> np.ndarray | None:
    if b_ih is None:
        return b_hh
    return b_ih if b_hh is None else b_ih + b_hh


def _project(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """w @ x_t + bias for all steps at once: (T, B, I) -> (T, G, B).

    One batched call writes the feature-major layout directly; ``x.reshape(T*B, I) @ w.T``
    would need a (T, B, G) -> (T, G, B) transposition afterwards that costs more than it saves.
    """
    out = np.matmul(w, x.transpose(0, 2, 1))  # (T, G, B)
    if bias is not None:
        out += bias[:, None]
    return out


def _feature_major(h: np.ndarray) -> np.ndarray:
    """(B, H) -> contiguous (H, B)."""
    return np.ascontiguousarray(h.T)


def _batch_major(states: np.ndarray) -> np.ndarray:
    """(T, H, B) -> contiguous (T, B, H)."""
    return np.ascontiguousarray(states.transpose(0, 2, 1))


def _rows(dz: np.ndarray) -> np.ndarray:
    """(T, G, B) step gradients as one (G, T*B) matrix, for GEMMs over all steps."""
    T, G, B = dz.shape
    return np.ascontiguousarray(dz.transpose(1, 0, 2)).reshape(G, T * B)


def _input_grads(dz: np.ndarray, x: np.ndarray, w: np.ndarray, need_x: bool, need_w: bool):
    """dx_t = w^T dz_t and dw = sum_t dz_t x_t^T, each one GEMM. dz (G, T*B), x (T, B, I)."""
    T, B, I = x.shape
    dx = (dz.T @ w).reshape(T, B, I) if need_x else None  # (T*B, G) @ (G, I)
    dw = dz @ x.reshape(T * B, I) if need_w else None  # (G, I)
    return dx, dw


def _hidden_weight_grad(dz: np.ndarray, hs: np.ndarray, h0: np.ndarray, walk: _Walk):
    """sum_t dz_t h_{t-1}^T: dz (G, T*B), hs (T, H, B) states leaving each step -> (G, H)."""
    cur, prev, first = walk.shifts()
    T, G = walk.T, dz.shape[0]
    dz3 = dz.reshape(G, T, -1)
    dw = dz3[:, first] @ h0  # (G, B) @ (B, H)
    if T > 1:
        h_prev = _batch_major(hs[prev])  # (T-1, B, H)
        dw += dz3[:, cur].reshape(G, -1) @ h_prev.reshape(-1, h_prev.shape[-1])
    return dw


def _arrays(ctx) -> list:
    return [None if t is None else t.data for t in ctx.saved_tensors]


# ----------------------------------------------------------------------------------------------
# LSTM kernels. Inside, the gates are reordered (o, i, f, g) so that the three sigmoid gates are
# one block; sigmoid(z) = 0.5 + 0.5 * tanh(z / 2), with the 1/2 folded into the weights.
# ----------------------------------------------------------------------------------------------


def _lstm_perm(H: int) -> np.ndarray:
    """Rows of PyTorch's (i, f, g, o) packing in the internal order (o, i, f, g)."""
    return np.r_[3 * H : 4 * H, 0 : 3 * H]


def _lstm_forward(x, h0, c0, w_ih, w_hh, bias, walk: _Walk):
    """x (T, B, I), h0/c0 (B, H) -> hs, cs, tanh(cs) (T, H, B) and gates (T, 4H, B)."""
    T = walk.T
    H = w_hh.shape[1]
    B, dt = x.shape[1], x.dtype
    perm = _lstm_perm(H)
    w_ih_s = w_ih[perm]  # (4H, I), sigmoid rows halved
    w_ih_s[: 3 * H] *= 0.5
    w_hh_s = w_hh[perm]  # (4H, H)
    w_hh_s[: 3 * H] *= 0.5
    if bias is not None:
        bias = bias[perm]
        bias[: 3 * H] *= 0.5
    xp = _project(x[:T], w_ih_s, bias)  # (T, 4H, B)
    acts = np.empty((T, 4 * H, B), dt)  # o, i, f, g
    hs = np.empty((T, H, B), dt)
    cs = np.empty((T, H, B), dt)
    tcs = np.empty((T, H, B), dt)  # tanh(c)
    tmp = np.empty((H, B), dt)
    hp, cp = _feature_major(h0), _feature_major(c0)
    for k, idle in walk.steps:
        a = acts[k]  # (4H, B)
        np.matmul(w_hh_s, hp, out=a)
        a += xp[k]
        np.tanh(a, out=a)
        s = a[: 3 * H]
        s *= 0.5
        s += 0.5
        c = cs[k]
        np.multiply(a[2 * H : 3 * H], cp, out=c)  # f * c_prev
        np.multiply(a[H : 2 * H], a[3 * H :], out=tmp)  # i * g
        c += tmp
        tc = tcs[k]
        np.tanh(c, out=tc)
        h = hs[k]
        np.multiply(a[:H], tc, out=h)  # o * tanh(c)
        if idle is not None:
            np.copyto(h, hp, where=idle)
            np.copyto(c, cp, where=idle)
        hp, cp = h, c
    return hs, cs, tcs, acts


def _lstm_backward(x, h0, c0, w_ih, w_hh, hs, cs, tcs, acts, gt, g_hn, g_cn, walk, need):
    """Backward through time; returns (dx, dh0, dc0, dw_ih, dw_hh, db)."""
    T = walk.T
    H = w_hh.shape[1]
    B, dt = x.shape[1], x.dtype
    o, i, f, g = (acts[:, j * H : (j + 1) * H] for j in range(4))  # (T, H, B) each
    # Local derivatives of all steps at once (dh: gradient reaching h_t):
    #   dc = dc_next * f_next + dh * a_c,   a_c = o (1 - tanh(c)^2)
    #   dz_o = dh * f_o,                    f_o = tanh(c) o (1 - o)
    #   dz_{i,f,g} = dc * f3,               f3 = (g i (1-i), c_prev f (1-f), i (1-g^2))
    a_c = np.square(tcs)
    np.subtract(1, a_c, out=a_c)
    a_c *= o
    f_o = np.subtract(1, o)
    f_o *= o
    f_o *= tcs
    f3 = np.empty((T, 3, H, B), dt)
    np.subtract(1, i, out=f3[:, 0])
    f3[:, 0] *= i
    f3[:, 0] *= g
    np.subtract(1, f, out=f3[:, 1])
    f3[:, 1] *= f
    cur, prev, first = walk.shifts()
    f3[cur, 1] *= cs[prev]  # c_prev
    f3[first, 1] *= c0.T
    np.square(g, out=f3[:, 2])
    np.subtract(1, f3[:, 2], out=f3[:, 2])
    f3[:, 2] *= i
    walk.mask(a_c, f_o, f3)
    f_c = walk.carry(f)

    perm = _lstm_perm(H)
    w_hh_t = np.ascontiguousarray(w_hh[perm].T)  # (H, 4H)
    dz = np.empty((T, 4, H, B), dt)  # o, i, f, g
    dh = _feature_major(g_hn)  # gradient carried to the previous step
    dc = _feature_major(g_cn)
    d = np.empty((H, B), dt)
    tmp = np.empty((H, B), dt)
    for k, idle in reversed(walk.steps):
        np.add(dh, gt[k], out=d)
        np.multiply(d, a_c[k], out=tmp)
        dc += tmp
        z = dz[k]  # (4, H, B)
        np.multiply(d, f_o[k], out=z[0])
        np.multiply(dc, f3[k], out=z[1:])
        dc *= f_c[k]
        np.matmul(w_hh_t, z.reshape(4 * H, B), out=dh)
        if idle is not None:
            np.copyto(dh, d, where=idle)
    need_x, need_wih, need_whh, need_b = need
    dz = _rows(dz.reshape(T, 4 * H, B))  # (4H, T*B)
    dx, dw_ih_p = _input_grads(dz, x[:T], w_ih[perm], need_x, need_wih)
    dw_ih = dw_hh = db = None
    if need_wih:
        dw_ih = np.empty_like(dw_ih_p)
        dw_ih[perm] = dw_ih_p
    if need_whh:
        dw_hh = np.empty_like(w_hh)
        dw_hh[perm] = _hidden_weight_grad(dz, hs, h0, walk)
    if need_b:
        db = np.empty(4 * H, dt)
        db[perm] = dz.sum(1)
    return dx, dh.T, dc.T, dw_ih, dw_hh, db


# ----------------------------------------------------------------------------------------------
# GRU kernels. Inside, the input weights are reordered (n, r, z) and the hidden ones stay
# (r, z, n), so that both gradients are row blocks of one (n, r, z, hn) buffer.
# ----------------------------------------------------------------------------------------------


def _gru_perm(H: int) -> np.ndarray:
    """Rows of PyTorch's (r, z, n) packing in the internal input order (n, r, z)."""
    return np.r_[2 * H : 3 * H, 0 : 2 * H]


def _gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, walk: _Walk):
    """x (T, B, I), h0 (B, H) -> hs, ns (T, H, B) and (r, z, W_hn h + b_hn) (T, 3H, B)."""
    T = walk.T
    H = w_hh.shape[1]
    B, dt = x.shape[1], x.dtype
    perm = _gru_perm(H)
    w_ih_s = w_ih[perm]  # (3H, I): n, r, z; r and z halved
    w_ih_s[H:] *= 0.5
    w_hh_s = w_hh.copy()  # (3H, H): r, z, n
    w_hh_s[: 2 * H] *= 0.5
    bias = None
    if b_ih is not None or b_hh is not None:
        bias = np.zeros(3 * H, dt)
        if b_ih is not None:
            bias += b_ih[perm]
        if b_hh is not None:
            bias[H:] += b_hh[: 2 * H]
        bias[H:] *= 0.5
    b_hn = None if b_hh is None else b_hh[2 * H :, None]
    xp = _project(x[:T], w_ih_s, bias)  # (T, 3H, B): n, r, z
    acts = np.empty((T, 3 * H, B), dt)  # r, z, hn
    ns = np.empty((T, H, B), dt)
    hs = np.empty((T, H, B), dt)
    hp = _feature_major(h0)
    for k, idle in walk.steps:
        a = acts[k]  # (3H, B)
        np.matmul(w_hh_s, hp, out=a)
        rz = a[: 2 * H]
        rz += xp[k, H:]
        np.tanh(rz, out=rz)
        rz *= 0.5
        rz += 0.5
        hn = a[2 * H :]
        if b_hn is not None:
            hn += b_hn
        n = ns[k]
        np.multiply(a[:H], hn, out=n)
        n += xp[k, :H]
        np.tanh(n, out=n)
        h = hs[k]
        np.subtract(hp, n, out=h)  # h' = n + z * (h - n)
        h *= a[H : 2 * H]
        h += n
        if idle is not None:
            np.copyto(h, hp, where=idle)
        hp = h
    return hs, ns, acts


def _gru_backward(x, h0, w_ih, w_hh, hs, ns, acts, gt, g_hn, walk, need):
    """Backward through time; returns (dx, dh0, dw_ih, dw_hh, db_ih, db_hh)."""
    T = walk.T
    H = w_hh.shape[1]
    B, dt = x.shape[1], x.dtype
    r, z, hn = (acts[:, j * H : (j + 1) * H] for j in range(3))  # (T, H, B) each
    # Local derivatives of all steps at once (dh: gradient reaching h_t):
    #   dn_pre = dh * a_n,     a_n = (1 - z) (1 - n^2)
    #   dr_pre = dn_pre * f_r, f_r = hn r (1 - r);   dhn = dn_pre * r
    #   dz_pre = dh * f_z,     f_z = (h_prev - n) z (1 - z)
    #   dh_prev = W_hh^T (dr_pre, dz_pre, dhn) + dh * z
    a_n = np.square(ns)
    np.subtract(1, a_n, out=a_n)
    a_n *= 1 - z
    f_r = np.subtract(1, r)
    f_r *= r
    f_r *= hn
    f_z = np.empty_like(ns)
    cur, prev, first = walk.shifts()
    np.subtract(hs[prev], ns[cur], out=f_z[cur])  # h_prev - n
    np.subtract(h0.T, ns[first], out=f_z[first])
    f_z *= z
    f_z *= 1 - z
    walk.mask(a_n, f_z)
    z_c = walk.carry(z)

    w_hh_t = np.ascontiguousarray(w_hh.T)  # (H, 3H)
    dg = np.empty((T, 4 * H, B), dt)  # n, r, z, hn
    dh = _feature_major(g_hn)
    d = np.empty((H, B), dt)
    for k, _ in reversed(walk.steps):  # idle entries pass through: a_n = f_z = 0, z_c = 1
        np.add(dh, gt[k], out=d)
        a = dg[k]  # (4H, B)
        dn = a[:H]
        np.multiply(d, a_n[k], out=dn)
        np.multiply(dn, f_r[k], out=a[H : 2 * H])
        np.multiply(d, f_z[k], out=a[2 * H : 3 * H])
        np.multiply(dn, r[k], out=a[3 * H :])
        np.matmul(w_hh_t, a[H:], out=dh)
        d *= z_c[k]
        dh += d
    need_x, need_wih, need_whh, need_bih, need_bhh = need
    perm = _gru_perm(H)
    dg = _rows(dg)  # (4H, T*B)
    dgx, dgh = dg[: 3 * H], dg[H:]  # (n, r, z) and (r, z, hn) rows
    dx, dw_ih_p = _input_grads(dgx, x[:T], w_ih[perm], need_x, need_wih)
    dw_ih = dw_hh = db_ih = db_hh = None
    if need_wih:
        dw_ih = np.empty_like(dw_ih_p)
        dw_ih[perm] = dw_ih_p
    if need_whh:
        dw_hh = _hidden_weight_grad(dgh, hs, h0, walk)
    if need_bih:
        db_ih = np.empty(3 * H, dt)
        db_ih[perm] = dgx.sum(1)
    if need_bhh:
        db_hh = dgh.sum(1)
    return dx, dh.T, dw_ih, dw_hh, db_ih, db_hh


# ----------------------------------------------------------------------------------------------
# Elman RNN kernels
# ----------------------------------------------------------------------------------------------


def _rnn_forward(x, h0, w_ih, w_hh, bias, relu: bool, walk: _Walk):
    """x (T, B, I), h0 (B, H) -> hs (T, H, B)."""
    T = walk.T
    xp = _project(x[:T], w_ih, bias)  # (T, H, B)
    hs = np.empty_like(xp)
    hp = _feature_major(h0)
    for k, idle in walk.steps:
        h = hs[k]
        np.matmul(w_hh, hp, out=h)
        h += xp[k]
        if relu:
            np.maximum(h, 0, out=h)
        else:
            np.tanh(h, out=h)
        if idle is not None:
            np.copyto(h, hp, where=idle)
        hp = h
    return hs


def _rnn_backward(x, h0, w_ih, w_hh, hs, relu, gt, g_hn, walk, need):
    """Backward through time; returns (dx, dh0, dw_ih, dw_hh, db)."""
    T = walk.T
    H = w_hh.shape[1]
    B, dt = x.shape[1], x.dtype
    if relu:  # local derivative of the nonlinearity, from its output
        slope = (hs > 0).astype(dt)
    else:
        slope = np.square(hs)
        np.subtract(1, slope, out=slope)
    walk.mask(slope)
    w_hh_t = np.ascontiguousarray(w_hh.T)
    dz = np.empty((T, H, B), dt)
    dh = _feature_major(g_hn)
    d = np.empty((H, B), dt)
    for k, idle in reversed(walk.steps):
        np.add(dh, gt[k], out=d)
        np.multiply(d, slope[k], out=dz[k])
        np.matmul(w_hh_t, dz[k], out=dh)
        if idle is not None:
            np.copyto(dh, d, where=idle)
    need_x, need_wih, need_whh, need_b = need
    dz = _rows(dz)  # (H, T*B)
    dx, dw_ih = _input_grads(dz, x[:T], w_ih, need_x, need_wih)
    dw_hh = _hidden_weight_grad(dz, hs, h0, walk) if need_whh else None
    db = dz.sum(1) if need_b else None
    return dx, dh.T, dw_ih, dw_hh, db


# ----------------------------------------------------------------------------------------------
# Whole-sequence layers
# ----------------------------------------------------------------------------------------------


def _zeros_if_none(h: np.ndarray | None, B: int, H: int, dt) -> np.ndarray:
    return np.zeros((B, H), dt) if h is None else h


def _bias_grads(db, need_ih: bool, need_hh: bool) -> tuple:
    """The gradient of b_ih + b_hh, for each bias that needs it (never one array for both)."""
    return (db if need_ih else None), ((db.copy() if need_ih else db) if need_hh else None)


class LstmLayer(Function):
    """(out, h_n, c_n) = LSTM over T steps;  backward through time in NumPy (first-order only)"""

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse, lengths):
        T, B, _ = x.shape
        H = w_hh.shape[1]
        walk = _Walk(T, B, reverse, lengths)
        h0 = _zeros_if_none(h0, B, H, x.dtype)
        c0 = _zeros_if_none(c0, B, H, x.dtype)
        hs, cs, tcs, acts = _lstm_forward(x, h0, c0, w_ih, w_hh, _sum_bias(b_ih, b_hh), walk)
        out = walk.output(_batch_major(hs))  # (T, B, H), not kept: backward reads hs
        ctx.walk = walk
        ctx.save_for_backward(x, h0, c0, w_ih, w_hh, hs, cs, tcs, acts)
        return out, walk.final(hs), walk.final(cs)

    @staticmethod
    @once_differentiable
    def backward(ctx, g_out, g_hn, g_cn):
        walk = ctx.walk
        x, h0, c0, w_ih, w_hh, hs, cs, tcs, acts = _arrays(ctx)
        nx, nh, nc, nwi, nwh, nbi, nbh = ctx.needs_input_grad[:7]
        dx, dh0, dc0, dw_ih, dw_hh, db = _lstm_backward(
            x, h0, c0, w_ih, w_hh, hs, cs, tcs, acts,
            walk.grad_in(g_out.data), g_hn.data, g_cn.data, walk, (nx, nwi, nwh, nbi or nbh),
        )  # fmt: skip
        grads = (
            walk.pad(dx) if nx else None,
            dh0 if nh else None,
            dc0 if nc else None,
            dw_ih,
            dw_hh,
            *_bias_grads(db, nbi, nbh),
        )
        return grads + (None, None)


class GruLayer(Function):
    """(out, h_n) = GRU over T steps;  backward through time in NumPy (first-order only)"""

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, reverse, lengths):
        T, B, _ = x.shape
        H = w_hh.shape[1]
        walk = _Walk(T, B, reverse, lengths)
        h0 = _zeros_if_none(h0, B, H, x.dtype)
        hs, ns, acts = _gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, walk)
        out = walk.output(_batch_major(hs))
        ctx.walk = walk
        ctx.save_for_backward(x, h0, w_ih, w_hh, hs, ns, acts)
        return out, walk.final(hs)

    @staticmethod
    @once_differentiable
    def backward(ctx, g_out, g_hn):
        walk = ctx.walk
        x, h0, w_ih, w_hh, hs, ns, acts = _arrays(ctx)
        nx, nh, nwi, nwh, nbi, nbh = ctx.needs_input_grad[:6]
        dx, dh0, dw_ih, dw_hh, db_ih, db_hh = _gru_backward(
            x, h0, w_ih, w_hh, hs, ns, acts,
            walk.grad_in(g_out.data), g_hn.data, walk, (nx, nwi, nwh, nbi, nbh),
        )  # fmt: skip
        grads = (walk.pad(dx) if nx else None, dh0 if nh else None, dw_ih, dw_hh, db_ih, db_hh)
        return grads + (None, None)


class RnnLayer(Function):
    """(out, h_n) = tanh/relu RNN over T steps;  backward through time in NumPy (first-order only)"""

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, relu, reverse, lengths):
        T, B, _ = x.shape
        H = w_hh.shape[1]
        walk = _Walk(T, B, reverse, lengths)
        h0 = _zeros_if_none(h0, B, H, x.dtype)
        hs = _rnn_forward(x, h0, w_ih, w_hh, _sum_bias(b_ih, b_hh), relu, walk)
        out = walk.output(_batch_major(hs))
        ctx.walk, ctx.relu = walk, relu
        ctx.save_for_backward(x, h0, w_ih, w_hh, hs)
        return out, walk.final(hs)

    @staticmethod
    @once_differentiable
    def backward(ctx, g_out, g_hn):
        walk = ctx.walk
        x, h0, w_ih, w_hh, hs = _arrays(ctx)
        nx, nh, nwi, nwh, nbi, nbh = ctx.needs_input_grad[:6]
        dx, dh0, dw_ih, dw_hh, db = _rnn_backward(
            x, h0, w_ih, w_hh, hs, ctx.relu,
            walk.grad_in(g_out.data), g_hn.data, walk, (nx, nwi, nwh, nbi or nbh),
        )  # fmt: skip
        grads = (
            walk.pad(dx) if nx else None,
            dh0 if nh else None,
            dw_ih,
            dw_hh,
            *_bias_grads(db, nbi, nbh),
        )
        return grads + (None, None, None)


# ----------------------------------------------------------------------------------------------
# Cells: one step of the same kernels; an unbatched (I,) input is a batch of one
# ----------------------------------------------------------------------------------------------


def _cell_in(x: np.ndarray, states: Sequence, H: int):
    """(1, B, I) input, (B, H) states (zeros for None) and the one-step walk."""
    x2 = x.reshape(-1, x.shape[-1])
    B = x2.shape[0]
    hs = [np.zeros((B, H), x.dtype) if h is None else h.reshape(B, H) for h in states]
    return x2[None], hs, _Walk(1, B, False, None)


def _cell_state(states: np.ndarray, like: tuple) -> np.ndarray:
    """(1, H, B) -> the state in the input's (batched or unbatched) layout."""
    return np.ascontiguousarray(states[0].T).reshape(like[:-1] + (states.shape[1],))


class LstmCell(Function):
    """(h', c') = one LSTM step;  backward in NumPy (first-order only)"""

    @staticmethod
    def forward(ctx, x, hx, cx, w_ih, w_hh, b_ih, b_hh):
        H = w_hh.shape[1]
        x3, (h0, c0), walk = _cell_in(x, (hx, cx), H)
        hs, cs, tcs, acts = _lstm_forward(x3, h0, c0, w_ih, w_hh, _sum_bias(b_ih, b_hh), walk)
        ctx.walk, ctx.shape = walk, x.shape
        ctx.save_for_backward(x3, h0, c0, w_ih, w_hh, cs, tcs, acts)
        return _cell_state(hs, x.shape), _cell_state(cs, x.shape)

    @staticmethod
    @once_differentiable
    def backward(ctx, g_h, g_c):
        walk = ctx.walk
        x, h0, c0, w_ih, w_hh, cs, tcs, acts = _arrays(ctx)
        nx, nh, nc, nwi, nwh, nbi, nbh = ctx.needs_input_grad
        dx, dh, dc, dw_ih, dw_hh, db = _lstm_backward(
            x, h0, c0, w_ih, w_hh, None, cs, tcs, acts,
            walk.grad_in(g_h.data.reshape(1, *h0.shape)), np.zeros_like(h0),
            g_c.data.reshape(h0.shape), walk, (nx, nwi, nwh, nbi or nbh),
        )  # fmt: skip
        x_shape, h_shape = ctx.shape, ctx.shape[:-1] + (h0.shape[1],)
        grads = (
            dx.reshape(x_shape) if nx else None,
            dh.reshape(h_shape) if nh else None,
            dc.reshape(h_shape) if nc else None,
            dw_ih,
            dw_hh,
            *_bias_grads(db, nbi, nbh),
        )
        return grads


class GruCell(Function):
    """h' = one GRU step;  backward in NumPy (first-order only)"""

    @staticmethod
    def forward(ctx, x, hx, w_ih, w_hh, b_ih, b_hh):
        H = w_hh.shape[1]
        x3, (h0,), walk = _cell_in(x, (hx,), H)
        hs, ns, acts = _gru_forward(x3, h0, w_ih, w_hh, b_ih, b_hh, walk)
        ctx.walk, ctx.shape = walk, x.shape
        ctx.save_for_backward(x3, h0, w_ih, w_hh, hs, ns, acts)
        return _cell_state(hs, x.shape)

    @staticmethod
    @once_differentiable
    def backward(ctx, g_h):
        walk = ctx.walk
        x, h0, w_ih, w_hh, hs, ns, acts = _arrays(ctx)
        nx, nh, nwi, nwh, nbi, nbh = ctx.needs_input_grad
        dx, dh, dw_ih, dw_hh, db_ih, db_hh = _gru_backward(
            x, h0, w_ih, w_hh, hs, ns, acts,
            walk.grad_in(g_h.data.reshape(1, *h0.shape)), np.zeros_like(h0),
            walk, (nx, nwi, nwh, nbi, nbh),
        )  # fmt: skip
        x_shape, h_shape = ctx.shape, ctx.shape[:-1] + (h0.shape[1],)
        grads = (
            dx.reshape(x_shape) if nx else None,
            dh.reshape(h_shape) if nh else None,
            dw_ih,
            dw_hh,
            db_ih,
            db_hh,
        )
        return grads


class RnnCell(Function):
    """h' = tanh/relu(W_ih x + b_ih + W_hh h + b_hh);  backward in NumPy (first-order only)"""

    @staticmethod
    def forward(ctx, x, hx, w_ih, w_hh, b_ih, b_hh, relu):
        H = w_hh.shape[1]
        x3, (h0,), walk = _cell_in(x, (hx,), H)
        hs = _rnn_forward(x3, h0, w_ih, w_hh, _sum_bias(b_ih, b_hh), relu, walk)
        ctx.walk, ctx.shape, ctx.relu = walk, x.shape, relu
        ctx.save_for_backward(x3, h0, w_ih, w_hh, hs)
        return _cell_state(hs, x.shape)

    @staticmethod
    @once_differentiable
    def backward(ctx, g_h):
        walk = ctx.walk
        x, h0, w_ih, w_hh, hs = _arrays(ctx)
        nx, nh, nwi, nwh, nbi, nbh = ctx.needs_input_grad[:6]
        dx, dh, dw_ih, dw_hh, db = _rnn_backward(
            x, h0, w_ih, w_hh, hs, ctx.relu,
            walk.grad_in(g_h.data.reshape(1, *h0.shape)), np.zeros_like(h0),
            walk, (nx, nwi, nwh, nbi or nbh),
        )  # fmt: skip
        x_shape, h_shape = ctx.shape, ctx.shape[:-1] + (h0.shape[1],)
        grads = (
            dx.reshape(x_shape) if nx else None,
            dh.reshape(h_shape) if nh else None,
            dw_ih,
            dw_hh,
            *_bias_grads(db, nbi, nbh),
        )
        return grads + (None,)


# ----------------------------------------------------------------------------------------------
# Argument checks
# ----------------------------------------------------------------------------------------------


def _shape(t) -> list:
    return list(t.shape)


def _check_dtypes(op: str, input: Tensor, **tensors) -> None:
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point input, got dtype {input.dtype}")
    for name, t in tensors.items():
        if t is not None and t.dtype != input.dtype:
            raise RuntimeError(
                f"{op}: expected {name} to have the same dtype as input ({input.dtype}), "
                f"but got {t.dtype}"
            )


def _check_weights(op: str, gates: int, input_size: int, w_ih, w_hh, b_ih, b_hh) -> int:
    """Check the packed weights of ``gates`` gates; returns the hidden size H."""
    for name, t in (("w_ih", w_ih), ("w_hh", w_hh)):
        if not isinstance(t, Tensor) or t.ndim != 2:
            got = f"{t.ndim}-D" if isinstance(t, Tensor) else type(t).__name__
            raise ValueError(f"{op}: {name} must be a 2-D tensor, got {got}")
    H = w_hh.shape[1]
    if w_hh.shape[0] != gates * H:
        raise RuntimeError(
            f"{op}: w_hh must have shape ({gates} * hidden_size, hidden_size) = "
            f"({gates * H}, {H}), got {_shape(w_hh)}"
        )
    if w_ih.shape[0] != gates * H:
        raise RuntimeError(
            f"{op}: w_ih must have {gates} * hidden_size = {gates * H} rows, got {_shape(w_ih)}"
        )
    if w_ih.shape[1] != input_size:
        raise RuntimeError(
            f"input has inconsistent input_size: got {input_size} expected {w_ih.shape[1]}"
        )
    for name, b in (("b_ih", b_ih), ("b_hh", b_hh)):
        if b is not None and tuple(b.shape) != (gates * H,):
            raise RuntimeError(f"{op}: {name} must have shape ({gates * H},), got {_shape(b)}")
    return H


def _check_cell_state(op: str, name: str, h, input: Tensor, H: int) -> None:
    if h is None:
        return
    if h.ndim != input.ndim:
        raise RuntimeError(
            f"{op}: expected {name} to be {input.ndim}-D like the input, got {h.ndim}-D"
        )
    if input.ndim == 2 and h.shape[0] != input.shape[0]:
        raise RuntimeError(
            f"Input batch size {input.shape[0]} doesn't match {name} batch size {h.shape[0]}"
        )
    if h.shape[-1] != H:
        raise RuntimeError(f"{name} has inconsistent hidden_size: got {h.shape[-1]}, expected {H}")


def _check_cell(op, gates, input, states, w_ih, w_hh, b_ih, b_hh) -> None:
    if not isinstance(input, Tensor) or input.ndim not in (1, 2):
        got = f"{input.ndim}D" if isinstance(input, Tensor) else type(input).__name__
        raise ValueError(f"{op}: Expected input to be 1D or 2D, got {got} instead")
    _check_dtypes(op, input, w_ih=w_ih, w_hh=w_hh, b_ih=b_ih, b_hh=b_hh, **states)
    H = _check_weights(op, gates, input.shape[-1], w_ih, w_hh, b_ih, b_hh)
    for name, h in states.items():
        _check_cell_state(op, name, h, input, H)


def _check_layer(op, gates, input, states, w_ih, w_hh, b_ih, b_hh, lengths):
    """Validate a layer call; returns ``lengths`` as an int64 array or None."""
    if not isinstance(input, Tensor) or input.ndim != 3:
        got = f"{input.ndim}-D" if isinstance(input, Tensor) else type(input).__name__
        raise ValueError(f"{op}: expected a time-major (T, B, I) input, got {got}")
    T, B, I = input.shape
    if T == 0:
        raise ValueError(f"{op}: expected a sequence of at least one step, got T = 0")
    _check_dtypes(op, input, w_ih=w_ih, w_hh=w_hh, b_ih=b_ih, b_hh=b_hh, **states)
    if w_ih.ndim == 2 and w_ih.shape[1] != I:
        raise RuntimeError(
            f"input.size(-1) must be equal to input_size. Expected {w_ih.shape[1]}, got {I}"
        )
    H = _check_weights(op, gates, I, w_ih, w_hh, b_ih, b_hh)
    for name, h in states.items():
        if h is not None and tuple(h.shape) != (B, H):
            raise RuntimeError(f"{op}: Expected {name} size ({B}, {H}), got {_shape(h)}")
    if lengths is None:
        return None
    lens = np.asarray(lengths.data if isinstance(lengths, Tensor) else lengths)
    if lens.size == 0:
        lens = lens.astype(np.int64)
    if lens.dtype.kind not in "iu":
        raise TypeError(f"{op}: lengths must be integers, got dtype {lens.dtype}")
    if lens.ndim != 1 or lens.shape[0] != B:
        raise ValueError(
            f"{op}: expected one length per batch entry ({B}), got lengths of shape "
            f"{list(lens.shape)}"
        )
    lens = lens.astype(np.int64)
    if B and lens.min() < 1:
        raise ValueError(
            f"{op}: Length of all samples has to be greater than 0, but found an element in "
            f"'lengths' that is <= 0"
        )
    if B and lens.max() > T:
        raise ValueError(f"{op}: lengths must not exceed the sequence length {T}, got {lens.max()}")
    return lens


# ----------------------------------------------------------------------------------------------
# Public functions
# ----------------------------------------------------------------------------------------------


def lstm_cell(
    input: Tensor,
    hx: Tensor | None,
    cx: Tensor | None,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """One LSTM step: (h', c') from input (B, I) or (I,) and states (B, H) or (H,).

    ``hx``/``cx`` of None mean zeros. Gradients are first-order only (NumPy backward).
    """
    _check_cell("lstm_cell", 4, input, {"hidden0": hx, "hidden1": cx}, w_ih, w_hh, b_ih, b_hh)
    return LstmCell.apply(input, hx, cx, w_ih, w_hh, b_ih, b_hh)


def gru_cell(
    input: Tensor,
    hx: Tensor | None,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> Tensor:
    """One GRU step: h' from input (B, I) or (I,) and state (B, H) or (H,) (None: zeros).

    Gradients are first-order only (NumPy backward).
    """
    _check_cell("gru_cell", 3, input, {"hidden0": hx}, w_ih, w_hh, b_ih, b_hh)
    return GruCell.apply(input, hx, w_ih, w_hh, b_ih, b_hh)


def rnn_tanh_cell(
    input: Tensor,
    hx: Tensor | None,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> Tensor:
    """One Elman RNN step: h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (first-order gradients)."""
    _check_cell("rnn_tanh_cell", 1, input, {"hidden0": hx}, w_ih, w_hh, b_ih, b_hh)
    return RnnCell.apply(input, hx, w_ih, w_hh, b_ih, b_hh, False)


def rnn_relu_cell(
    input: Tensor,
    hx: Tensor | None,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> Tensor:
    """One Elman RNN step: h' = relu(W_ih x + b_ih + W_hh h + b_hh) (first-order gradients)."""
    _check_cell("rnn_relu_cell", 1, input, {"hidden0": hx}, w_ih, w_hh, b_ih, b_hh)
    return RnnCell.apply(input, hx, w_ih, w_hh, b_ih, b_hh, True)


def lstm_layer(
    input: Tensor,
    h0: Tensor | None,
    c0: Tensor | None,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    reverse: bool = False,
    lengths: Sequence[int] | np.ndarray | Tensor | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """One LSTM layer in one direction over a time-major sequence.

    input (T, B, I), h0/c0 (B, H) (None: zeros) -> (output (T, B, H), h_n (B, H), c_n (B, H)).
    ``lengths`` (B,), in any order, gives packed-sequence semantics: output is zero past each
    length and h_n/c_n are the states at each sequence's last valid step; ``reverse`` runs
    each sequence from its last valid step back to step 0 (the reverse half of a
    bidirectional LSTM). Gradients are first-order only (NumPy backward).

    >>> import mytorch.core as mt
    >>> out, h_n, c_n = lstm_layer(mt.ones(5, 2, 3), None, None, mt.ones(8, 3), mt.ones(8, 2))
    >>> bool((out[-1] == h_n).all())
    True
    """
    states = {"h0": h0, "c0": c0}
    lens = _check_layer("lstm_layer", 4, input, states, w_ih, w_hh, b_ih, b_hh, lengths)
    return LstmLayer.apply(input, h0, c0, w_ih, w_hh, b_ih, b_hh, bool(reverse), lens)


def gru_layer(
    input: Tensor,
    h0: Tensor | None,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    reverse: bool = False,
    lengths: Sequence[int] | np.ndarray | Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """One GRU layer in one direction: input (T, B, I), h0 (B, H) -> (output (T, B, H), h_n).

    ``reverse`` and ``lengths`` as in ``lstm_layer``. Gradients are first-order only.
    """
    lens = _check_layer("gru_layer", 3, input, {"h0": h0}, w_ih, w_hh, b_ih, b_hh, lengths)
    return GruLayer.apply(input, h0, w_ih, w_hh, b_ih, b_hh, bool(reverse), lens)


def rnn_layer(
    input: Tensor,
    h0: Tensor | None,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    nonlinearity: str = "tanh",
    reverse: bool = False,
    lengths: Sequence[int] | np.ndarray | Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """One Elman RNN layer (``nonlinearity`` 'tanh' or 'relu') in one direction.

    input (T, B, I), h0 (B, H) -> (output (T, B, H), h_n (B, H)); ``reverse`` and ``lengths``
    as in ``lstm_layer``. Gradients are first-order only.
    """
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
    lens = _check_layer("rnn_layer", 1, input, {"h0": h0}, w_ih, w_hh, b_ih, b_hh, lengths)
    relu = nonlinearity == "relu"
    return RnnLayer.apply(input, h0, w_ih, w_hh, b_ih, b_hh, relu, bool(reverse), lens)
