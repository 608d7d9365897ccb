"""mytorch.seq: recurrent layers, attention and the Transformer, text utilities and datasets."""

from importlib.metadata import PackageNotFoundError as _PackageNotFoundError
from importlib.metadata import version as _version

try:
    __version__ = _version("mytorch-seq")  # the version lives in pyproject.toml only
except _PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0.0.0+unknown"

# Recurrent layers and variable-length batches; attention, the Transformer and positional
# encodings; text utilities and text datasets.
from mytorch.seq import datasets, packing, text
from mytorch.seq.attention import MultiheadAttention, multi_head_attention_forward
from mytorch.seq.datasets import IMDB, MovieReviews, load_sentiment
from mytorch.seq.masks import generate_square_subsequent_mask
from mytorch.seq.packing import (
    PackedSequence,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
    unpack_sequence,
    unpad_sequence,
)
from mytorch.seq.positional import LearnedPositionalEmbedding, SinusoidalPositionalEncoding
from mytorch.seq.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from mytorch.seq.text import (
    CharTokenizer,
    LMBatcher,
    SeqDataLoader,
    Vocab,
    WordTokenizer,
    batchify,
    get_batch,
    pad_batch,
)
from mytorch.seq.transformer import (
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)
