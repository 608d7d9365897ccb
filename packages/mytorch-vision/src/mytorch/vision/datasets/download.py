"""Checksummed downloads and the on-disk cache check (``mytorch.core.data.download``)."""

from mytorch.core.data.download import (
    DownloadError,
    check_md5,
    download_file,
    download_url,
    file_md5,
    is_cached,
)

__all__ = ["DownloadError", "check_md5", "download_file", "download_url", "file_md5", "is_cached"]
