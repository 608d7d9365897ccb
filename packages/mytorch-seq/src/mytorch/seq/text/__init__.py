"""Text utilities: tokenizers, ``Vocab``, padding of id sequences and language-model batching.

>>> from mytorch.seq.text import Vocab, WordTokenizer, pad_batch
>>> tok = WordTokenizer()
>>> vocab = Vocab.build(tok(t) for t in ["A fine film.", "A dull film!"])
>>> ids, lengths = pad_batch([vocab.encode(tok(t)) for t in ["fine film", "a film, sadly"]])
>>> ids.shape, lengths.tolist()
((2, 4), [2, 4])
"""

from mytorch.seq.text.batching import LMBatcher, SeqDataLoader, batchify, get_batch
from mytorch.seq.text.padding import pad_batch
from mytorch.seq.text.tokenizers import CharTokenizer, WordTokenizer
from mytorch.seq.text.vocab import BOS, EOS, PAD, UNK, Vocab

__all__ = [
    "BOS",
    "EOS",
    "PAD",
    "UNK",
    "CharTokenizer",
    "LMBatcher",
    "SeqDataLoader",
    "Vocab",
    "WordTokenizer",
    "batchify",
    "get_batch",
    "pad_batch",
]
