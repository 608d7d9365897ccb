"""Every collective on rank-dependent inputs; each rank records its inputs and what it got.

The test recomputes every expected value with NumPy from all ranks' recorded inputs.
"""

from __future__ import annotations

import numpy as np
from _common import write_result

import mytorch.core as mt
import mytorch.distributed as dist

dist.init_process_group(backend="mpi")
rank, world = dist.get_rank(), dist.get_world_size()
rng = np.random.default_rng(100 + rank)
result = {"rank": rank, "world": world, "is_initialized": dist.is_initialized()}


def record(name: str, inputs, output) -> None:
    result[name] = {"in": np.asarray(inputs).tolist(), "out": np.asarray(output).tolist()}


# all_reduce, every op, blocking and async, on float32 (3, 4) and float64/int64
for op in dist.ReduceOp:
    x = rng.standard_normal((3, 4)).astype(np.float32)
    t = mt.tensor(x)
    buffer_before = t.data
    dist.all_reduce(t, op=op)
    assert t.data is buffer_before  # in place, on the tensor's own buffer
    record(f"all_reduce_{op.name}", x, t.numpy())
    t = mt.tensor(x)
    work = dist.all_reduce(t, op=op, async_op=True)
    work.wait()
    record(f"all_reduce_async_{op.name}", x, t.numpy())
x64 = rng.standard_normal(5)
t = mt.tensor(x64, dtype=mt.float64)
dist.all_reduce(t, op=dist.ReduceOp.AVG)
record("all_reduce_float64_AVG", x64, t.numpy())
xi = rng.integers(-100, 100, 6)
t = mt.tensor(xi)
dist.all_reduce(t, op=dist.ReduceOp.MAX)
record("all_reduce_int64_MAX", xi, t.numpy())
try:
    dist.all_reduce(mt.tensor(xi), op=dist.ReduceOp.AVG)
except TypeError as e:
    result["avg_int_error"] = str(e)
try:
    dist.all_reduce(mt.ones(4, 4).T)
except ValueError as e:
    result["noncontiguous_error"] = str(e)

# broadcast from every source
for src in range(world):
    x = rng.standard_normal(7).astype(np.float32)
    t = mt.tensor(x)
    dist.broadcast(t, src=src)
    record(f"broadcast_{src}", x, t.numpy())
x = rng.standard_normal(7).astype(np.float32)
t = mt.tensor(x)
dist.broadcast(t, src=world - 1, async_op=True).wait()
record("broadcast_async", x, t.numpy())

# all_gather into a list and into one tensor
x = rng.standard_normal((2, 3)).astype(np.float32)
outs = [mt.zeros(2, 3) for _ in range(world)]
dist.all_gather(outs, mt.tensor(x))
record("all_gather", x, [o.numpy() for o in outs])
out = mt.zeros(world * 2, 3)
dist.all_gather_into_tensor(out, mt.tensor(x), async_op=True).wait()
record("all_gather_into_tensor", x, out.numpy())

# reduce_scatter from a list and from one tensor
for op in (dist.ReduceOp.SUM, dist.ReduceOp.AVG, dist.ReduceOp.MAX):
    x = rng.standard_normal((world, 3)).astype(np.float32)
    out = mt.zeros(3)
    dist.reduce_scatter(out, [mt.tensor(row) for row in x], op=op)
    record(f"reduce_scatter_{op.name}", x, out.numpy())
    out = mt.zeros(3)
    dist.reduce_scatter_tensor(out, mt.tensor(x.reshape(-1)), op=op, async_op=True).wait()
    record(f"reduce_scatter_tensor_{op.name}", x, out.numpy())

# send/recv around a ring, blocking and async; recv from any source reports the sender
x = rng.standard_normal(4).astype(np.float32)
got = mt.zeros(4)
right, left = (rank + 1) % world, (rank - 1) % world
if rank % 2 == 0:
    dist.send(mt.tensor(x), dst=right)
    sender = dist.recv(got, src=None)
else:
    sender = dist.recv(got, src=left)
    dist.send(mt.tensor(x), dst=right)
record("ring", x, got.numpy())
result["ring_sender"] = sender
x = rng.standard_normal(4).astype(np.float32)
got = mt.zeros(4)
works = [dist.irecv(got, src=left, tag=7), dist.isend(mt.tensor(x), dst=right, tag=7)]
for w in works:
    w.wait()
result["ring_async_completed"] = all(w.is_completed() for w in works)
record("ring_async", x, got.numpy())

dist.barrier()
dist.barrier(async_op=True).wait()
write_result(result)
dist.destroy_process_group()
