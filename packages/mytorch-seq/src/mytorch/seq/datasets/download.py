"""Checksummed downloads from a list of mirror URLs (``mytorch.core.data.download``)."""

from mytorch.core.data.download import DownloadError, download_url, file_md5

__all__ = ["DownloadError", "download_url", "file_md5"]
