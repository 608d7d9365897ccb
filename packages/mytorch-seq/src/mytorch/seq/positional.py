"""Positional encodings added to token embeddings: fixed sinusoids (Vaswani et al., 2017)
and a learned table (as in BERT and GPT-2).

Both take x of shape (T, B, E) (``batch_first=False``), (B, T, E) (``batch_first=True``) or
unbatched (T, E) and return ``dropout(x + pe[offset : offset + T])`` of the same shape;
``offset`` is the position of the first element (for incremental decoding).

>>> import mytorch.core as mt
>>> pos = SinusoidalPositionalEncoding(16, max_len=100, batch_first=True)
>>> pos(mt.zeros(2, 10, 16)).shape
(2, 10, 16)
"""

from __future__ import annotations

import math

import numpy as np

from mytorch.core.creation import empty, from_numpy
from mytorch.core.dtypes import get_default_dtype
from mytorch.core.tensor import Tensor
from mytorch.nn import init
from mytorch.nn.dropout import Dropout
from mytorch.nn.module import Module
from mytorch.nn.parameter import Parameter
from mytorch.seq.masks import _check_device

__all__ = ["SinusoidalPositionalEncoding", "LearnedPositionalEmbedding"]


def _sinusoid_table(max_len: int, d_model: int) -> np.ndarray:
    """(max_len, d_model) float64: sin on even columns, cos on odd ones."""
    pos = np.arange(max_len, dtype=np.float64)[:, None]  # (max_len, 1)
    inv_freq = np.exp(np.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))  # (ceil(d/2),)
    angles = pos * inv_freq  # (max_len, ceil(d/2))
    pe = np.empty((max_len, d_model), dtype=np.float64)  # (max_len, d)
    pe[:, 0::2] = np.sin(angles)  # (max_len, ceil(d/2))
    pe[:, 1::2] = np.cos(angles[:, : d_model // 2])  # (max_len, floor(d/2))
    return pe


def _positions(x: Tensor, batch_first: bool, offset: int, max_len: int, name: str) -> tuple:
    """(T, slice of positions, whether the table needs a batch dim inserted after T)."""
    if x.ndim not in (2, 3):
        raise ValueError(
            f"{name}: expected input of shape (T, B, E), (B, T, E) or (T, E), got {list(x.shape)}"
        )
    T = x.shape[1] if (x.ndim == 3 and batch_first) else x.shape[0]
    if offset < 0 or offset + T > max_len:
        raise ValueError(
            f"{name}: positions {offset}..{offset + T - 1} are outside the table of "
            f"max_len={max_len}"
        )
    return slice(offset, offset + T), x.ndim == 3 and not batch_first


class SinusoidalPositionalEncoding(Module):
    """Add the fixed encoding ``pe[p, 2i] = sin(p / 10000^(2i/d))``,
    ``pe[p, 2i+1] = cos(p / 10000^(2i/d))`` to the input, then apply dropout.

    The table is the buffer ``pe`` (max_len, d_model). It is registered non-persistent: it is
    a function of (max_len, d_model) alone, so it is rebuilt on construction instead of being
    stored in the state_dict (the module has no state_dict entries).

    >>> import mytorch.core as mt
    >>> row = SinusoidalPositionalEncoding(4, max_len=8)(mt.zeros(2, 1, 4))[1, 0]
    >>> [round(v, 4) for v in row.tolist()]  # position 1: sin(1), cos(1), sin(.01), cos(.01)
    [0.8415, 0.5403, 0.01, 0.9999]
    """

    def __init__(
        self,
        d_model: int,
        max_len: int = 5000,
        dropout: float = 0.0,
        batch_first: bool = False,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        _check_device(device)
        self.d_model = d_model
        self.max_len = max_len
        self.batch_first = batch_first
        self.dropout = Dropout(dropout)
        dtype = np.dtype(get_default_dtype() if dtype is None else dtype)
        pe = from_numpy(_sinusoid_table(max_len, d_model).astype(dtype))  # (max_len, d)
        self.register_buffer("pe", pe, persistent=False)

    def forward(self, x: Tensor, offset: int = 0) -> Tensor:
        pos, add_batch = _positions(x, self.batch_first, offset, self.max_len, type(self).__name__)
        pe = self.pe.data[pos]  # (T, E)
        if add_batch:
            pe = pe[:, None, :]  # (T, 1, E)
        return self.dropout(x + from_numpy(pe))  # like x

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, max_len={self.max_len}, batch_first={self.batch_first}"


class LearnedPositionalEmbedding(Module):
    """Add a learned position vector ``weight[p]`` (weight: (max_len, d_model), starting as
    N(0, 0.02^2) like GPT-2's) to the input, then apply dropout.

    >>> import mytorch.core as mt
    >>> emb = LearnedPositionalEmbedding(32, 8)
    >>> emb(mt.zeros(5, 2, 8)).shape, list(emb.state_dict())
    ((5, 2, 8), ['weight'])
    """

    def __init__(
        self,
        max_len: int,
        d_model: int,
        dropout: float = 0.0,
        batch_first: bool = False,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        _check_device(device)
        self.max_len = max_len
        self.d_model = d_model
        self.batch_first = batch_first
        self.dropout = Dropout(dropout)
        self.weight = Parameter(empty(max_len, d_model, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.normal_(self.weight, 0.0, 0.02)

    def forward(self, x: Tensor, offset: int = 0) -> Tensor:
        pos, add_batch = _positions(x, self.batch_first, offset, self.max_len, type(self).__name__)
        pe = self.weight[pos]  # (T, E)
        if add_batch:
            pe = pe.unsqueeze(1)  # (T, 1, E)
        return self.dropout(x + pe)  # like x

    def extra_repr(self) -> str:
        return f"{self.max_len}, {self.d_model}, batch_first={self.batch_first}"
