"""``load_sentiment``: a binary sentiment dataset, IMDB when it can be had, else MovieReviews."""

from __future__ import annotations

import os
import warnings

from mytorch.core.data.archive import UnsafeArchiveError
from mytorch.seq.datasets.base import TextClassificationDataset
from mytorch.seq.datasets.imdb import IMDB
from mytorch.seq.datasets.movie_reviews import MovieReviews

__all__ = ["SentimentFallbackWarning", "load_sentiment"]

_SOURCES = ("auto", "imdb", "movie_reviews")


class SentimentFallbackWarning(UserWarning):
    """IMDB could not be loaded; the bundled MovieReviews dataset is used instead."""


def load_sentiment(
    source: str = "auto",
    root: str | os.PathLike | None = None,
    download: bool = True,
) -> tuple[TextClassificationDataset, TextClassificationDataset, str]:
    """``(train, test, name)`` for binary sentiment classification (label 1 = positive).

    ``source="imdb"`` loads :class:`IMDB` (downloading it if needed and ``download``) or raises;
    ``"movie_reviews"`` loads the bundled :class:`MovieReviews`; ``"auto"`` tries IMDB and, when
    that fails, warns once (a one-line :class:`SentimentFallbackWarning` giving the cause and
    the folder to place the archive in) and falls back to MovieReviews. ``name`` is ``"imdb"`` or ``"movie_reviews"``: what was loaded.

    >>> train, test, name = load_sentiment("movie_reviews")
    >>> name, len(train), len(test)
    ('movie_reviews', 10201, 2551)
    """
    if source not in _SOURCES:
        raise ValueError(f"load_sentiment: source must be one of {_SOURCES}, got {source!r}")
    if source != "movie_reviews":
        try:
            train = IMDB(root, split="train", download=download)
            test = IMDB(root, split="test", download=download)
            return train, test, "imdb"
        except (RuntimeError, OSError, UnsafeArchiveError) as e:
            if source == "imdb":
                raise
            _warn_fallback(e, IMDB.folder_for(root))
    return MovieReviews(root, split="train"), MovieReviews(root, split="test"), "movie_reviews"


def _warn_fallback(error: BaseException, folder: str) -> None:
    first = str(error).splitlines()[0] if str(error) else type(error).__name__
    if not first.startswith("IMDB:"):
        first = f"IMDB could not be loaded ({type(error).__name__}: {first})"
    message = (
        f"{first}. Using the bundled MovieReviews dataset instead (12,752 short Rotten Tomatoes "
        "snippets, not IMDB's 50,000 long reviews): accuracies will not match IMDB numbers. To "
        f"use IMDB, place {IMDB.filename} (from {IMDB.mirrors[0]}) in {folder}, or pass "
        "source='movie_reviews' to use MovieReviews on purpose."
    )
    warnings.warn(message, SentimentFallbackWarning, stacklevel=3)
