"""A training loop in which the last rank fails at step 3.

Usage: ddp_failure.py OUT MODE [TIMEOUT_S]
MODE raise: the rank raises an exception (the others are then inside backward's allreduce);
MODE stall: the rank stops responding (sleeps far longer than the process group's timeout).
Either way the job must end, with an error that names what happened, not hang.
"""

from __future__ import annotations

import sys
import time

from _common import write_result

import mytorch.core as mt
import mytorch.distributed as dist
import mytorch.nn as nn

mode = sys.argv[2]
timeout = float(sys.argv[3]) if len(sys.argv) > 3 else None
dist.init_process_group(backend="mpi", timeout=timeout)
rank, world = dist.get_rank(), dist.get_world_size()
model = dist.DistributedDataParallel(nn.Linear(4, 2))
opt = mt.optim.SGD(model.parameters(), lr=0.1)
for step in range(6):
    loss = model(mt.randn(8, 4)).pow(2).mean()
    if step == 3 and rank == world - 1:
        if mode == "raise":
            raise ValueError(f"simulated failure in step {step}")
        time.sleep(600)
    opt.zero_grad()
    loss.backward()
    opt.step()
    print(f"rank {rank} finished step {step}", flush=True)
write_result({"rank": rank, "finished": True})
