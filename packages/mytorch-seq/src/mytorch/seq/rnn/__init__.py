"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` and the single-step ``RNNCell``, ``LSTMCell``,
``GRUCell``, with PyTorch's arguments, parameter names, shapes and results."""

from mytorch.seq.rnn.cells import GRUCell, LSTMCell, RNNCell, RNNCellBase
from mytorch.seq.rnn.modules import GRU, LSTM, RNN, RNNBase

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]
