"""Safe extraction and reading of tar archives (``mytorch.core.data.archive``)."""

from mytorch.core.data.archive import (
    UnsafeArchiveError,
    check_tar_members,
    member_parts,
    read_tar_files,
    safe_extract_tar,
)

__all__ = [
    "UnsafeArchiveError",
    "check_tar_members",
    "member_parts",
    "read_tar_files",
    "safe_extract_tar",
]
