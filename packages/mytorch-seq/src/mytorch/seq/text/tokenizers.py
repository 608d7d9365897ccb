"""Tokenizers: text -> list of token strings.

>>> WordTokenizer()("Great movie!<br /><br />I'd see it again.")
['great', 'movie', '!', "i'd", 'see', 'it', 'again', '.']
>>> CharTokenizer()("Hi!")
['H', 'i', '!']
"""

from __future__ import annotations

import re

__all__ = ["CharTokenizer", "WordTokenizer"]

# A word is a run of letters/digits/underscores, keeping inner apostrophes ("don't", "it's");
# every other non-space character is a token of its own.
_WORD_RE = re.compile(r"\w+(?:['\u2019]\w+)*|[^\w\s]")
_BR_RE = re.compile(r"<\s*br\s*/?\s*>", re.IGNORECASE)


class WordTokenizer:
    """Split text into words and single punctuation characters.

    Args:
        lower: lowercase the text first.
        strip_br: replace HTML line breaks (``<br />``, ``<br>``, as found in IMDB reviews) by
            spaces before splitting.
    """

    def __init__(self, lower: bool = True, strip_br: bool = True) -> None:
        self.lower = lower
        self.strip_br = strip_br

    def __call__(self, text: str) -> list[str]:
        if not isinstance(text, str):
            raise TypeError(f"WordTokenizer: expected a str, got {type(text).__name__}")
        if self.strip_br:
            text = _BR_RE.sub(" ", text)
        if self.lower:
            text = text.lower()
        return _WORD_RE.findall(text)

    def __repr__(self) -> str:
        return f"WordTokenizer(lower={self.lower}, strip_br={self.strip_br})"


class CharTokenizer:
    """Split text into its characters (whitespace included).

    Args:
        lower: lowercase the text first.
        strip_br: replace HTML line breaks (``<br />``) by a space first.
    """

    def __init__(self, lower: bool = False, strip_br: bool = False) -> None:
        self.lower = lower
        self.strip_br = strip_br

    def __call__(self, text: str) -> list[str]:
        if not isinstance(text, str):
            raise TypeError(f"CharTokenizer: expected a str, got {type(text).__name__}")
        if self.strip_br:
            text = _BR_RE.sub(" ", text)
        if self.lower:
            text = text.lower()
        return list(text)

    def __repr__(self) -> str:
        return f"CharTokenizer(lower={self.lower}, strip_br={self.strip_br})"
