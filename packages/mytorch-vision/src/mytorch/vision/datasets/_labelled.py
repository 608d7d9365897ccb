"""What the image datasets share: transforms, indexing, repr and the mirrored download."""

from __future__ import annotations

import operator
from typing import Any

from mytorch.core.creation import from_numpy
from mytorch.core.data.download import DownloadError, download_file


def transformed(dataset, img: Any, target: Any) -> tuple[Any, Any]:
    """``(img, target)`` through ``dataset.transform`` and ``dataset.target_transform``."""
    if dataset.transform is not None:
        img = dataset.transform(img)
    if dataset.target_transform is not None:
        target = dataset.target_transform(target)
    return img, target


class LabelledImages:
    """Base of the datasets holding ``data`` (uint8 images) and ``targets`` (int64) Tensors.

    A subclass sets ``classes``, ``mirrors`` and ``download_*`` (class attributes), ``root``,
    ``train``, ``source``, ``transform`` and ``target_transform``, and gives ``_manual_help()``.
    """

    @property
    def _name(self) -> str:
        return type(self).__name__

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.classes)}

    def _download(self, filename: str, md5: str, directory: str) -> None:
        """Download ``filename`` into ``directory``; a failure names the dataset and says how
        to get the file by hand."""
        try:
            download_file(
                filename,
                md5,
                self.mirrors,
                directory,
                retries=self.download_retries,
                backoff=self.download_backoff,
                timeout=self.download_timeout,
            )
        except DownloadError as e:
            raise DownloadError(
                f"{self._name}: {e}\n{self._manual_help()}", e.failures, e.remembered
            ) from e

    # ------------------------------------------------------------------ dataset protocol
    def __len__(self) -> int:
        return int(self.data.shape[0])

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        i = operator.index(index)
        img = from_numpy(self.data.data[i].copy())  # (H, W) or (H, W, C) uint8
        return transformed(self, img, int(self.targets.data[i]))

    def __repr__(self) -> str:
        lines = [
            f"Dataset {self._name}",
            f"    Number of datapoints: {len(self)}",
            f"    Root location: {self.root}",
            f"    Split: {'Train' if self.train else 'Test'}",
            f"    Source: {self.source}",
        ]
        if self.transform is not None:
            lines.append(f"    Transform: {self.transform!r}".replace("\n", "\n    "))
        if self.target_transform is not None:
            lines.append(f"    Target transform: {self.target_transform!r}")
        return "\n".join(lines)
