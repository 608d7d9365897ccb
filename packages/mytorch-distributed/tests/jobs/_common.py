"""Shared by the job scripts: start the process group, write this rank's result."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def out_dir() -> Path:
    return Path(sys.argv[1])


def write_result(result: dict) -> None:
    """Write ``result`` as rank<r>.json in the output directory (atomically)."""
    import mytorch.distributed as dist

    path = out_dir() / f"rank{dist.get_rank()}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(result))
    os.replace(tmp, path)
