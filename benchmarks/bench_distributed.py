"""Allreduce bandwidth: mytorch.distributed.all_reduce on tensors vs mpi4py's raw Allreduce.

    mpiexec -n 2 uv run benchmarks/bench_distributed.py [--sizes 1000000 10000000] [--rounds 15]
    (or: uv run mpiexec -n 2 python benchmarks/bench_distributed.py)

For each size (float32 elements) both paths sum a buffer across the ranks in place:
``dist.all_reduce(tensor)`` (a non-blocking MPI allreduce on the tensor's own buffer, waited on
by polling so that it can time out) against ``comm.Allreduce(MPI.IN_PLACE, array)`` on a NumPy
array, the floor that any Python layer over MPI can reach. They alternate within each round
(after a warm-up), every rank starting each timed block together after a barrier; a round's time
is the slowest rank's. Reported: median time per allreduce, the algorithmic bandwidth
(bytes / time) and the overhead of mytorch.distributed as the median of the per-round ratios,
which is steadier than a ratio of medians when other processes load the machine. A first
row times 8-element allreduces, where the fixed cost per call (argument checks, the Work
handle, the timeout watchdog) shows instead of the bandwidth.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402
from mpi4py import MPI  # noqa: E402

import mytorch.core as mt  # noqa: E402
import mytorch.distributed as dist  # noqa: E402


def timed(fn, repeats: int, comm) -> float:
    """Seconds per call of ``fn``, the slowest rank's, after a barrier."""
    comm.Barrier()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    mine = (time.perf_counter() - start) / repeats
    return comm.allreduce(mine, op=MPI.MAX)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[8, 1_000_000, 10_000_000])
    parser.add_argument("--rounds", type=int, default=15, help="alternating rounds per size")
    parser.add_argument("--seconds", type=float, default=0.15, help="target time per timed block")
    args = parser.parse_args()

    dist.init_process_group("mpi")
    comm = MPI.COMM_WORLD
    rank, world = dist.get_rank(), dist.get_world_size()
    if rank == 0:
        print(f"{world} ranks, {MPI.Get_library_version().splitlines()[0]}")
        print(
            f"{'elements':>12} {'MB':>7} | {'mpi4py ms':>10} {'GB/s':>6} | "
            f"{'mytorch ms':>10} {'GB/s':>6} | overhead (median of rounds)"
        )
    for n in args.sizes:
        array = np.ones(n, np.float32)
        tensor = mt.ones(n)
        raw = lambda a=array: comm.Allreduce(MPI.IN_PLACE, a)  # noqa: E731
        ours = lambda t=tensor: dist.all_reduce(t)  # noqa: E731
        raw(), ours()  # warm-up (first touch of the buffers, MPI's internal set-up)
        probe = timed(raw, 2, comm)
        repeats = max(1, int(args.seconds / max(probe, 1e-6)))
        repeats = comm.bcast(repeats, root=0)
        raw_times, our_times, ratios = [], [], []
        for _ in range(args.rounds):
            a = timed(raw, repeats, comm)
            b = timed(ours, repeats, comm)
            raw_times.append(a)
            our_times.append(b)
            ratios.append(b / a)
        if rank == 0:
            mb = n * 4 / 1e6
            t_raw, t_ours = statistics.median(raw_times), statistics.median(our_times)
            overhead = statistics.median(ratios) - 1
            print(
                f"{n:>12,} {mb:>7.1f} | {t_raw * 1e3:>10.3f} {mb / 1e3 / t_raw:>6.2f} | "
                f"{t_ours * 1e3:>10.3f} {mb / 1e3 / t_ours:>6.2f} | {overhead:+.1%} "
                f"({repeats} calls x {args.rounds} rounds; "
                f"{(t_ours - t_raw) * 1e6:+.1f} us per call)"
            )
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
