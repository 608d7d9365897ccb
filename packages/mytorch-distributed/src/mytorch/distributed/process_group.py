"""The default process group: one MPI communicator over every process that ``mpiexec`` started.

``init_process_group(backend="mpi")`` duplicates ``MPI.COMM_WORLD`` (so our traffic never mixes
with the user's own mpi4py messages), records the timeout for every wait, and installs an
exception hook that aborts the whole job when one rank dies with an uncaught exception, so the
other ranks do not wait forever in a collective.

>>> import mytorch.distributed as dist
>>> dist.init_process_group(backend="mpi")  # under mpiexec -n N: N ranks; alone: 1
>>> dist.get_rank() < dist.get_world_size()
True
>>> dist.destroy_process_group()
"""

from __future__ import annotations

import itertools
import sys
import threading
import time
from datetime import timedelta

__all__ = [
    "init_process_group",
    "destroy_process_group",
    "is_initialized",
    "is_available",
    "is_mpi_available",
    "get_rank",
    "get_world_size",
    "get_backend",
    "default_timeout",
]

# PyTorch's default for collectives: 30 minutes before a wait gives up.
default_timeout = timedelta(minutes=30)


class _Group:
    """What ``init_process_group`` sets up: the communicator, this rank, the size, the timeout."""

    def __init__(self, comm, timeout: float | None, abort_on_error: bool) -> None:
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        self.timeout = timeout
        self.watchdog = _Watchdog(self.rank, self.size)
        self.previous_hook = None
        if abort_on_error and self.size > 1:
            self.previous_hook = sys.excepthook
            sys.excepthook = self._abort_job

    def _abort_job(self, exc_type, exc, tb) -> None:
        """Print the traceback, say which rank failed, and take every other rank down with it."""
        sys.__excepthook__(exc_type, exc, tb)
        sys.stderr.write(
            f"mytorch.distributed: rank {self.rank} of {self.size} failed with "
            f"{exc_type.__name__}: {exc}; aborting the whole job (MPI_Abort)\n"
        )
        sys.stderr.flush()
        from mpi4py import MPI

        MPI.COMM_WORLD.Abort(1)


class _Watchdog:
    """Aborts the job when a wait outlasts its limit (a peer died or stalled).

    Waits block in MPI (as fast as MPI gets), so the limit is kept by a daemon thread that
    looks at the open waits a few times a second; when one is overdue it prints which
    operation on which rank stalled and calls ``MPI_Abort``, which ends every rank (PyTorch's
    NCCL watchdog tears a stuck job down the same way).
    """

    def __init__(self, rank: int, size: int) -> None:
        self.rank, self.size = rank, size
        self.open: dict = {}  # token -> (deadline, limit, what: str or a function making it)
        self.lock = threading.Lock()
        self.tokens = itertools.count()
        self.thread: threading.Thread | None = None

    def start(self, what, limit: float) -> int:
        if self.thread is None:
            self.thread = threading.Thread(target=self._run, name="mytorch-dist-watchdog")
            self.thread.daemon = True
            self.thread.start()
        token = next(self.tokens)
        with self.lock:
            self.open[token] = (time.monotonic() + limit, limit, what)
        return token

    def stop(self, token: int) -> None:
        with self.lock:
            self.open.pop(token, None)

    def _run(self) -> None:
        while True:
            time.sleep(0.2)
            now = time.monotonic()
            with self.lock:
                overdue = [
                    (limit, what) for deadline, limit, what in self.open.values() if now > deadline
                ]
            if overdue:
                limit, what = overdue[0]
                sys.stderr.write(
                    f"mytorch.distributed: {what} on rank {self.rank} of {self.size} did not "
                    f"complete within {limit:g} s; another rank has probably failed or stopped "
                    f"before reaching it; aborting the whole job (MPI_Abort)\n"
                )
                sys.stderr.flush()
                from mpi4py import MPI

                MPI.COMM_WORLD.Abort(1)


_GROUP: list[_Group | None] = [None]


def describe(what) -> str:
    """An operation's description: a string, or a function making it (formatted on demand)."""
    return what() if callable(what) else what


def is_available() -> bool:
    """Whether this package can run at all (mpi4py imports and an MPI library loads)."""
    return is_mpi_available()


def is_mpi_available() -> bool:
    try:
        from mpi4py import MPI  # noqa: F401
    except (ImportError, RuntimeError):
        return False
    return True


def init_process_group(
    backend: str = "mpi",
    init_method: str | None = None,
    timeout: timedelta | float | None = None,
    world_size: int = -1,
    rank: int = -1,
    *,
    abort_on_error: bool = True,
) -> None:
    """Join the job that ``mpiexec`` started (rank and world size come from MPI).

    ``timeout`` (a ``timedelta`` or seconds; default 30 minutes, PyTorch's) bounds every wait
    for a collective or point-to-point operation: past it a watchdog prints which operation
    stalled on which rank and aborts the whole job, instead of leaving the ranks hanging.
    With ``abort_on_error`` (default) an uncaught exception on any rank aborts the job too. ``world_size`` and
    ``rank``, when given, must agree with what MPI reports.
    """
    if backend is None or str(backend).lower() != "mpi":
        raise ValueError(f"init_process_group: backend must be 'mpi', got {backend!r}")
    if init_method not in (None, "env://", "mpi://"):
        raise ValueError(
            f"init_process_group: the MPI backend takes its peers from mpiexec; init_method "
            f"must be None, got {init_method!r}"
        )
    if _GROUP[0] is not None:
        raise RuntimeError("trying to initialize the default process group twice")
    try:
        from mpi4py import MPI
    except (ImportError, RuntimeError) as e:  # RuntimeError: mpi4py found no MPI library
        raise RuntimeError(
            f"init_process_group: mpi4py with an MPI library is needed "
            f"(pip install 'mytorch-distributed[mpich]'): {e}"
        ) from e
    if isinstance(timeout, timedelta):
        seconds = timeout.total_seconds()
    elif timeout is None:
        seconds = default_timeout.total_seconds()
    else:
        seconds = float(timeout)
    if seconds <= 0:
        raise ValueError(f"init_process_group: timeout must be positive, got {timeout!r}")
    comm = MPI.COMM_WORLD.Dup()
    if world_size not in (-1, comm.Get_size()):
        raise ValueError(
            f"init_process_group: world_size={world_size} but mpiexec started "
            f"{comm.Get_size()} processes"
        )
    if rank not in (-1, comm.Get_rank()):
        raise ValueError(f"init_process_group: rank={rank} but MPI says {comm.Get_rank()}")
    _GROUP[0] = _Group(comm, seconds, abort_on_error)


def destroy_process_group() -> None:
    """Leave the process group (the MPI library itself stays up until the process exits)."""
    group = _GROUP[0]
    if group is None:
        return
    if group.previous_hook is not None and sys.excepthook == group._abort_job:
        sys.excepthook = group.previous_hook
    group.comm.Free()
    _GROUP[0] = None


def is_initialized() -> bool:
    return _GROUP[0] is not None


def _group() -> _Group:
    group = _GROUP[0]
    if group is None:
        raise RuntimeError(
            "Default process group has not been initialized, please make sure to call "
            "init_process_group."
        )
    return group


def get_rank() -> int:
    """This process's rank in 0..world_size-1."""
    return _group().rank


def get_world_size() -> int:
    """How many processes take part."""
    return _group().size


def get_backend() -> str:
    _group()
    return "mpi"
