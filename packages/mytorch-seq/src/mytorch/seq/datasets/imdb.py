"""``IMDB``: the Large Movie Review Dataset (Maas et al., 2011), 25,000 train and 25,000 test
reviews labelled positive (1) / negative (0).

The archive is downloaded once (checksummed, from a list of mirrors); every member is checked
(no absolute paths, ``..``, outside links or device files) and the labelled reviews are read
straight from it, with no extraction to disk. Each split is then cached as a JSON file beside the
archive (written atomically), so later loads read one file and never touch the network.

>>> train = IMDB(split="train")  # doctest: +SKIP
>>> len(train), train[0][1]  # doctest: +SKIP
(25000, 0)
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable

from mytorch.core.data.archive import read_tar_files
from mytorch.core.data.download import DownloadError, download_url, is_cached
from mytorch.core.files import atomic_write
from mytorch.seq.datasets.base import TextClassificationDataset, default_root

__all__ = ["IMDB", "DatasetNotFoundError"]

_SPLITS = ("train", "test")
_FORMAT = "mytorch.seq.IMDB"
_VERSION = 1
_REVIEW = re.compile(r"(\d+)_\d+\.txt")


class DatasetNotFoundError(RuntimeError):
    """The dataset is not cached and ``download=False``."""


def _wanted(parts: list[str]) -> bool:
    """Archive members holding labelled reviews: ``aclImdb/{train,test}/{pos,neg}/*.txt``."""
    return (
        len(parts) == 4
        and parts[0] == "aclImdb"
        and parts[1] in _SPLITS
        and parts[2] in ("pos", "neg")
        and parts[3].endswith(".txt")
    )


def _sort_key(name: str) -> tuple[int, str]:
    m = _REVIEW.fullmatch(name)
    return (int(m.group(1)) if m else -1, name)


class IMDB(TextClassificationDataset):
    """IMDB movie reviews for binary sentiment classification.

    Args:
        root: cache directory; files live in ``<root>/IMDB/``. Default: ``default_root()``.
        split: ``"train"`` or ``"test"`` (25,000 reviews each, half positive).
        download: download and parse the archive when the split is not cached.
        transform: applied to the text by ``__getitem__``.
        target_transform: applied to the label by ``__getitem__``.

    Items are ``(text, label)`` with label 1 for a positive review; texts are the raw reviews
    (they contain ``<br />`` line breaks: ``WordTokenizer`` strips them). Reviews are ordered
    negatives first, then positives, each by review id.

    Download settings are class attributes, so a subclass (or a test) can change them:
    ``mirrors`` (full URLs tried in order), ``md5``, ``download_retries``, ``download_backoff``
    (seconds, doubled per retry), ``download_timeout`` (seconds or ``(connect, read)``).
    """

    mirrors: list[str] = [
        "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
        "http://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
    ]
    filename = "aclImdb_v1.tar.gz"
    md5 = "7c2ac02c03563afcf9b574c7e56c153a"
    classes = ["neg", "pos"]
    download_retries: int = 3
    download_backoff: float = 1.0
    download_timeout: float | tuple[float, float] = (10.0, 60.0)

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        split: str = "train",
        download: bool = True,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
    ) -> None:
        if split not in _SPLITS:
            raise ValueError(f"IMDB: split must be one of {_SPLITS}, got {split!r}")
        self.root = self.resolve_root(root)
        cached = self._read_cache(split)
        if cached is None:
            self._prepare(download)
            cached = self._read_cache(split)
            if cached is None:
                raise RuntimeError(f"IMDB: could not read back {self._cache_path(split)}")
        super().__init__(cached[0], cached[1], split, transform, target_transform)

    # ------------------------------------------------------------------ files
    @staticmethod
    def resolve_root(root: str | os.PathLike | None = None) -> str:
        """The cache directory ``root`` stands for (``default_root()`` when None)."""
        return os.path.expanduser(os.fspath(root if root is not None else default_root()))

    @classmethod
    def folder_for(cls, root: str | os.PathLike | None = None) -> str:
        """Where the archive and the parsed splits live for ``root``: ``<root>/IMDB``."""
        return os.path.join(cls.resolve_root(root), "IMDB")

    @property
    def folder(self) -> str:
        return self.folder_for(self.root)

    def manual_help(self) -> str:
        """How to make the dataset available without network access (one line)."""
        return (
            f"To use IMDB without network access, download {self.filename} (md5 {self.md5}) "
            f"from {self.mirrors[0]} and place it in {self.folder}"
        )

    @property
    def archive_path(self) -> str:
        return os.path.join(self.folder, self.filename)

    def _cache_path(self, split: str) -> str:
        return os.path.join(self.folder, f"imdb_{split}.json")

    def _read_cache(self, split: str) -> tuple[list[str], list[int]] | None:
        """The cached split, or None when it is missing, stale (another archive) or damaged."""
        try:
            with open(self._cache_path(split), encoding="utf-8") as f:
                obj = json.load(f)
            texts, labels = obj["texts"], obj["labels"]
            ok = (
                obj["format"] == _FORMAT
                and obj["version"] == _VERSION
                and obj["md5"] == self.md5.lower()
                and obj["split"] == split
                and len(texts) == len(labels) == obj["count"]
                and all(y in (0, 1) for y in labels)
                and all(isinstance(t, str) for t in texts)
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return (texts, labels) if ok else None

    def _write_cache(self, split: str, texts: list[str], labels: list[int]) -> None:
        obj = {
            "format": _FORMAT,
            "version": _VERSION,
            "md5": self.md5.lower(),
            "split": split,
            "count": len(texts),
            "texts": texts,
            "labels": labels,
        }
        text = json.dumps(obj, ensure_ascii=False)
        atomic_write(self._cache_path(split), lambda f: f.write(text.encode("utf-8")))

    # ------------------------------------------------------------------ download and parse
    def _prepare(self, download: bool) -> None:
        """Make sure the archive is here (downloading it if allowed), then cache both splits."""
        if not is_cached(self.folder, self.filename, self.md5):
            if not download:
                raise DatasetNotFoundError(
                    f"IMDB: dataset not found in {self.folder} (no parsed cache and no "
                    f"{self.filename} with md5 {self.md5}). Use download=True.\n"
                    f"{self.manual_help()}"
                )
            try:
                download_url(
                    self.mirrors,
                    self.archive_path,
                    self.md5,
                    retries=self.download_retries,
                    backoff=self.download_backoff,
                    timeout=self.download_timeout,
                )
            except DownloadError as e:
                raise DownloadError(
                    f"IMDB: {e}\n{self.manual_help()}", e.failures, e.remembered
                ) from e
        self._parse_archive()

    def _parse_archive(self) -> None:
        """Read the labelled reviews straight from the (checked) archive and cache each split."""
        files = read_tar_files(self.archive_path, _wanted)  # "aclImdb/train/pos/0_9.txt" -> bytes
        for split in _SPLITS:
            texts: list[str] = []
            labels: list[int] = []
            for label, sub in ((0, "neg"), (1, "pos")):
                prefix = f"aclImdb/{split}/{sub}/"
                names = sorted(
                    (p[len(prefix) :] for p in files if p.startswith(prefix)), key=_sort_key
                )
                texts += [files[prefix + n].decode("utf-8", errors="replace") for n in names]
                labels += [label] * len(names)
            if not texts:
                raise RuntimeError(
                    f"IMDB: {self.archive_path} holds no aclImdb/{split}/{{pos,neg}}/*.txt "
                    "reviews; it is not the IMDB archive"
                )
            self._write_cache(split, texts, labels)
