"""``Vocab``: a token <-> index mapping built from token counts, saved and loaded as JSON.

Index 0 is always ``<pad>`` and index 1 ``<unk>``; ``<bos>``/``<eos>`` follow when requested,
then any extra special tokens, then the counted tokens by decreasing frequency (ties broken
alphabetically, so the same data always gives the same vocabulary).

>>> v = Vocab.build([["a", "b", "a"], ["c", "a", "b"]], bos=True)
>>> v.itos
['<pad>', '<unk>', '<bos>', 'a', 'b', 'c']
>>> v.encode(["a", "zzz", "c"], add_bos=True)
[2, 3, 1, 5]
>>> v.decode([3, 4, 0], skip_specials=True)
['a', 'b']
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from mytorch.core.files import atomic_write

__all__ = ["BOS", "EOS", "PAD", "UNK", "Vocab"]

PAD = "<pad>"
UNK = "<unk>"
BOS = "<bos>"
EOS = "<eos>"
_FORMAT = "mytorch.seq.Vocab"
_VERSION = 1


class Vocab:
    """Maps tokens to indices (``stoi``) and back (``itos``).

    Build one with :meth:`Vocab.build`; ``Vocab(itos)`` wraps an existing list whose first two
    entries must be ``"<pad>"`` and ``"<unk>"``. Unknown tokens encode to ``unk_index`` (1).

    Attributes: ``itos`` (list of tokens), ``stoi`` (dict token -> index), ``pad_index`` (0),
    ``unk_index`` (1), ``bos_index``/``eos_index`` (int, or None when absent), ``specials``.
    """

    pad_index = 0
    unk_index = 1

    def __init__(self, itos: Sequence[str], specials: Sequence[str] | None = None) -> None:
        itos = list(itos)
        if len(itos) < 2 or itos[0] != PAD or itos[1] != UNK:
            raise ValueError(
                f"Vocab: itos must start with {PAD!r}, {UNK!r} (indices 0 and 1), got {itos[:2]!r}"
            )
        bad = [t for t in itos if not isinstance(t, str)]
        if bad:
            raise TypeError(f"Vocab: every token must be a str, got {bad[0]!r}")
        stoi = {t: i for i, t in enumerate(itos)}
        if len(stoi) != len(itos):
            dup = next(t for t, n in Counter(itos).items() if n > 1)
            raise ValueError(f"Vocab: token {dup!r} appears more than once in itos")
        if specials is None:
            specials = [t for t in itos[:4] if t in (PAD, UNK, BOS, EOS)]
        specials = list(specials)
        missing = [t for t in specials if t not in stoi]
        if missing or specials[:2] != [PAD, UNK]:
            raise ValueError(
                f"Vocab: specials {specials!r} must start with {PAD!r}, {UNK!r} and all be in itos"
            )
        self.itos: list[str] = itos
        self.stoi: dict[str, int] = stoi
        self.specials: list[str] = specials
        self.bos_index: int | None = stoi.get(BOS) if BOS in specials else None
        self.eos_index: int | None = stoi.get(EOS) if EOS in specials else None

    # ------------------------------------------------------------------ building
    @classmethod
    def build(
        cls,
        token_lists: Iterable[Iterable[str]],
        min_freq: int = 1,
        max_size: int | None = None,
        bos: bool = False,
        eos: bool = False,
        specials: Sequence[str] = (),
    ) -> Vocab:
        """Count the tokens of every sequence in ``token_lists`` and build a vocabulary.

        Args:
            token_lists: an iterable of token sequences (e.g. a tokenizer applied to texts).
            min_freq: keep tokens seen at least this many times.
            max_size: the largest ``len(vocab)``, special tokens included; the most frequent
                tokens are kept.
            bos, eos: add ``<bos>`` / ``<eos>`` (indices 2 and 3, or 2 if only one).
            specials: extra special tokens placed after those.
        """
        if not isinstance(min_freq, int) or min_freq < 1:
            raise ValueError(f"Vocab.build: min_freq must be an int >= 1, got {min_freq!r}")
        head = [PAD, UNK] + ([BOS] if bos else []) + ([EOS] if eos else [])
        head += [s for s in specials if s not in head]
        if max_size is not None and (not isinstance(max_size, int) or max_size < len(head)):
            raise ValueError(
                f"Vocab.build: max_size must be an int >= the number of special tokens "
                f"({len(head)}: {head}), got {max_size!r}"
            )
        counts: Counter[str] = Counter()
        for tokens in token_lists:
            if isinstance(tokens, str):
                raise TypeError(
                    "Vocab.build: token_lists must yield token sequences, got the str "
                    f"{tokens[:30]!r}; tokenize texts first (or wrap one token list in [...])"
                )
            counts.update(tokens)
        reserved = set(head)
        kept = sorted(
            ((t, n) for t, n in counts.items() if n >= min_freq and t not in reserved),
            key=lambda tn: (-tn[1], tn[0]),
        )
        if max_size is not None:
            kept = kept[: max_size - len(head)]
        return cls(head + [t for t, _ in kept], specials=head)

    # ------------------------------------------------------------------ lookup
    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: object) -> bool:
        return token in self.stoi

    def __getitem__(self, token: str) -> int:
        """The index of ``token`` (``unk_index`` when unknown)."""
        return self.stoi.get(token, 1)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Vocab):
            return NotImplemented
        return self.itos == other.itos and self.specials == other.specials

    __hash__ = None  # mutable lists inside

    def __repr__(self) -> str:
        return f"Vocab(size={len(self)}, specials={self.specials})"

    def encode(
        self, tokens: Iterable[str], add_bos: bool = False, add_eos: bool = False
    ) -> list[int]:
        """Token indices of ``tokens``, unknown ones as ``unk_index``; optionally framed by
        ``<bos>``/``<eos>`` (which the vocabulary must then contain)."""
        if isinstance(tokens, str):
            raise TypeError("Vocab.encode: expected a sequence of tokens, got a str; tokenize it")
        get = self.stoi.get
        ids = [get(t, 1) for t in tokens]
        if add_bos:
            ids.insert(0, self._special_index("bos", self.bos_index))
        if add_eos:
            ids.append(self._special_index("eos", self.eos_index))
        return ids

    def _special_index(self, name: str, index: int | None) -> int:
        if index is None:
            raise ValueError(
                f"Vocab: add_{name}=True but this vocabulary has no <{name}> token; "
                f"build it with {name}=True"
            )
        return index

    def decode(self, ids, skip_specials: bool = False) -> list[str]:
        """Tokens for a 1-D sequence of indices (list, NumPy array or integer Tensor)."""
        arr = np.asarray(getattr(ids, "data", ids))
        if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
            raise ValueError(
                f"Vocab.decode: expected a 1-D sequence of integer ids, got shape {arr.shape} "
                f"dtype {arr.dtype}"
            )
        if arr.size and (arr.min() < 0 or arr.max() >= len(self.itos)):
            bad = int(arr[(arr < 0) | (arr >= len(self.itos))][0])
            raise IndexError(f"Vocab.decode: id {bad} out of range for a vocabulary of {len(self)}")
        itos = self.itos
        if skip_specials:
            skip = {self.stoi[s] for s in self.specials}
            return [itos[i] for i in arr.tolist() if i not in skip]
        return [itos[i] for i in arr.tolist()]

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict:
        return {
            "format": _FORMAT,
            "version": _VERSION,
            "specials": self.specials,
            "itos": self.itos,
        }

    @classmethod
    def from_dict(cls, obj: dict) -> Vocab:
        if not isinstance(obj, dict) or obj.get("format") != _FORMAT:
            raise ValueError(f"Vocab: not a saved vocabulary (expected format {_FORMAT!r})")
        if obj.get("version") != _VERSION:
            raise ValueError(
                f"Vocab: unsupported version {obj.get('version')!r} "
                f"(this mytorch reads version {_VERSION})"
            )
        return cls(obj["itos"], specials=obj["specials"])

    def save(self, path: str | os.PathLike) -> None:
        """Write the vocabulary as UTF-8 JSON, atomically (a temp file moved into place)."""
        text = json.dumps(self.to_dict(), ensure_ascii=False)
        atomic_write(path, lambda f: f.write(text.encode("utf-8")))

    @classmethod
    def load(cls, path: str | os.PathLike) -> Vocab:
        """Read a vocabulary written by :meth:`save`."""
        with open(path, encoding="utf-8") as f:
            try:
                obj = json.load(f)
            except json.JSONDecodeError as e:
                raise ValueError(f"Vocab.load: {os.fspath(path)} is not valid JSON: {e}") from e
        return cls.from_dict(obj)
