"""Text datasets: ``IMDB`` (downloaded, checksummed, parsed once and cached), the bundled
``MovieReviews`` (Rotten Tomatoes snippets, no network needed) and ``load_sentiment``, which
prefers IMDB and falls back loudly to MovieReviews.
"""

from mytorch.core.data.archive import UnsafeArchiveError, safe_extract_tar
from mytorch.core.data.download import DownloadError
from mytorch.seq.datasets.base import TextClassificationDataset, default_root
from mytorch.seq.datasets.imdb import IMDB, DatasetNotFoundError
from mytorch.seq.datasets.movie_reviews import MovieReviews
from mytorch.seq.datasets.sentiment import SentimentFallbackWarning, load_sentiment

__all__ = [
    "IMDB",
    "DatasetNotFoundError",
    "DownloadError",
    "MovieReviews",
    "SentimentFallbackWarning",
    "TextClassificationDataset",
    "UnsafeArchiveError",
    "default_root",
    "load_sentiment",
    "safe_extract_tar",
]
