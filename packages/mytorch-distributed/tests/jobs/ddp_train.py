"""Train a small MLP with DistributedDataParallel; write the final parameters per config.

Usage: ddp_train.py OUT PER_RANK_BATCH [--save-at STEP] [--resume CHECKPOINT]

Each rank loads batches of PER_RANK_BATCH through a DistributedSampler, so the ranks together
see the global batch world_size * PER_RANK_BATCH in the order one process with that batch sees
it. Run with one process and the global batch, this is the reference. Configs: SGD with
momentum and Adam, each with plain steps and with 2-step accumulation under no_sync().
"""

from __future__ import annotations

import contextlib
import sys

import numpy as np
from _common import out_dir, write_result

import mytorch.core as mt
import mytorch.core.functional as F
import mytorch.distributed as dist
import mytorch.nn as nn
from mytorch.core import optim
from mytorch.core.data import DataLoader, TensorDataset

STEPS = 20
GLOBAL_BATCH = 8
CONFIGS = [("momentum", 1), ("momentum", 2), ("adam", 1), ("adam", 2)]

dist.init_process_group(backend="mpi")
rank, world = dist.get_rank(), dist.get_world_size()
per_rank = int(sys.argv[2])
assert per_rank * world == GLOBAL_BATCH, (per_rank, world)
save_at = int(sys.argv[sys.argv.index("--save-at") + 1]) if "--save-at" in sys.argv else None
resume = sys.argv[sys.argv.index("--resume") + 1] if "--resume" in sys.argv else None

data_rng = np.random.default_rng(0)
n = STEPS * 2 * GLOBAL_BATCH  # enough for the accumulating configs
x = mt.tensor(data_rng.standard_normal((n, 6)).astype(np.float32))
y = mt.tensor(data_rng.integers(0, 3, n))


def make_optimizer(name, params):
    if name == "momentum":
        return optim.SGD(params, lr=0.1, momentum=0.9)
    return optim.Adam(params, lr=0.01)


result = {"rank": rank, "world": world}
for name, accumulate in CONFIGS:
    # different weights on every rank: DDP must broadcast rank 0's (the reference's)
    mt.manual_seed(1234 + rank)
    model = nn.Sequential(
        nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 3)
    )
    ddp = dist.DistributedDataParallel(model, bucket_cap_mb=0.0005, first_bucket_cap_mb=0.0002)
    opt = make_optimizer(name, ddp.parameters())
    start = 0
    if resume is not None:
        checkpoint = dist.load_checkpoint(f"{resume}_{name}_{accumulate}.safetensors")
        ddp.module.load_state_dict(checkpoint["model"])
        opt.load_state_dict(checkpoint["optimizer"])
        start = checkpoint["step"]
    sampler = dist.DistributedSampler(TensorDataset(x, y), shuffle=True, seed=5, drop_last=True)
    loader = DataLoader(TensorDataset(x, y), batch_size=per_rank, sampler=sampler)
    batches = list(loader)
    for step in range(start, STEPS):
        opt.zero_grad()
        for micro in range(accumulate):
            xb, yb = batches[step * accumulate + micro]
            syncing = micro == accumulate - 1
            with contextlib.nullcontext() if syncing else ddp.no_sync():
                loss = F.cross_entropy(ddp(xb), yb) / accumulate
                loss.backward()
        opt.step()
        if save_at is not None and step + 1 == save_at:
            dist.save_checkpoint(
                {"model": ddp.module.state_dict(), "optimizer": opt.state_dict(), "step": step + 1},
                out_dir() / f"ckpt_{name}_{accumulate}.safetensors",
            )
    result[f"{name}_{accumulate}"] = {
        k: v.numpy().tolist() for k, v in ddp.module.state_dict().items()
    }
    result[f"{name}_{accumulate}_buckets"] = len(ddp.bucket_sizes)

write_result(result)
dist.destroy_process_group()
