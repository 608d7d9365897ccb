"""DistributedDataParallel's mechanics on 2+ ranks, each part recorded for the test to check.

- overlap: a communication hook and an autograd function at the network's input log events;
  buckets must start while backward still has layers to go;
- buckets: sizes and membership (first bucket small, reverse registration order);
- construction: rank 0's weights everywhere; buffers re-broadcast before each forward;
- find_unused_parameters: a branch only rank 0 uses, and one nobody uses;
- without it, an unused parameter makes the next forward raise.
"""

from __future__ import annotations

import time

import numpy as np
from _common import write_result

import mytorch.core as mt
import mytorch.distributed as dist
import mytorch.nn as nn

dist.init_process_group(backend="mpi")
rank, world = dist.get_rank(), dist.get_world_size()
result = {"rank": rank, "world": world}
events: list[str] = []


class LogBackwardEnd(mt.Function):
    """Identity whose backward runs last (it sits at the input): marks the end of backward."""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, g):
        events.append("backward reached the input")
        return g


def delayed_allreduce(state, bucket):
    """The default allreduce, logged, after an artificial delay (slow network)."""
    events.append(f"bucket {bucket.index()} start ({len(bucket.parameters())} params)")
    time.sleep(state["delay"])
    return dist.all_reduce(bucket.buffer(), async_op=True)


# ---------------------------------------------------------------- overlap and buckets
mt.manual_seed(rank)  # rank-dependent initial weights
layers = [nn.Linear(32, 32) for _ in range(4)]
model = nn.Sequential(*layers)
ddp = dist.DistributedDataParallel(model, bucket_cap_mb=0.005, first_bucket_cap_mb=0.004)
result["bucket_sizes"] = ddp.bucket_sizes
result["bucket_names"] = ddp.bucket_parameter_names
result["weights_after_construction"] = model[0].weight.detach().numpy().ravel()[:5].tolist()
ddp.register_comm_hook({"delay": 0.05}, delayed_allreduce)
x = mt.randn(4, 32, requires_grad=True)
for p in model.parameters():  # after DDP's hook (hooks run in registration order)
    p.register_post_accumulate_grad_hook(lambda p: None)
out = ddp(LogBackwardEnd.apply(x))
loss = (out * (rank + 1)).sum()
loss.backward()
events.append("backward returned")
result["events"] = list(events)
result["grads"] = {n: p.grad.numpy().ravel()[:4].tolist() for n, p in model.named_parameters()}
local = nn.Sequential(*[nn.Linear(32, 32) for _ in range(4)])
local.load_state_dict(model.state_dict())
(local(x.detach()) * (rank + 1)).sum().backward()
result["local_grads"] = {
    n: p.grad.numpy().ravel()[:4].tolist() for n, p in local.named_parameters()
}

# ---------------------------------------------------------------- buffers
mt.manual_seed(0)
bn_model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
ddp_bn = dist.DistributedDataParallel(bn_model)
seen_means = []
bn_model[1].register_forward_pre_hook(
    lambda m, args: seen_means.append(m.running_mean.numpy().tolist())
)
for _ in range(3):
    xb = mt.randn(6, 3) * (rank + 1) + rank  # different statistics on every rank
    ddp_bn(xb).sum().backward()
result["bn_means_at_forward"] = seen_means
result["bn_mean_after"] = bn_model[1].running_mean.numpy().tolist()


# ---------------------------------------------------------------- SyncBatchNorm
# 2 ranks x 3 images through conv + SyncBatchNorm == 1 process x 6 images through BatchNorm
def conv_bn():
    mt.manual_seed(0)
    return nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.ReLU())


data = np.random.default_rng(7).standard_normal((2 * world, 2, 5, 5)).astype(np.float32) * 2 + 1
mine = slice(2 * rank, 2 * rank + 2)
sync_model = dist.SyncBatchNorm.convert_sync_batchnorm(conv_bn())
ddp_sync = dist.DistributedDataParallel(sync_model)
xs = mt.tensor(data[mine], requires_grad=True)
weights = mt.tensor(np.arange(2 * world * 3 * 3 * 3, dtype=np.float32).reshape(-1, 3, 3, 3) / 50)
out_sync = ddp_sync(xs)
(out_sync * weights[mine]).sum().backward()
full_model = conv_bn()
xf = mt.tensor(data, requires_grad=True)
out_full = full_model(xf)
((out_full * weights).sum() / world).backward()  # DDP averages: the loss per rank, over ranks
result["sync_bn"] = {
    "out": out_sync.detach().numpy().tolist(),
    "out_ref": out_full.detach().numpy()[mine].tolist(),
    "x_grad": xs.grad.numpy().tolist(),
    "x_grad_ref": (xf.grad.numpy()[mine] * world).tolist(),
    "w_grad": sync_model[0].weight.grad.numpy().tolist(),
    "w_grad_ref": full_model[0].weight.grad.numpy().tolist(),
    "bn_w_grad": sync_model[1].weight.grad.numpy().tolist(),
    "bn_w_grad_ref": full_model[1].weight.grad.numpy().tolist(),
    "running_var": sync_model[1].running_var.numpy().tolist(),
    "running_var_ref": full_model[1].running_var.numpy().tolist(),
    "type": type(sync_model[1]).__name__,
}


# ---------------------------------------------------------------- unused parameters
class Branchy(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Linear(3, 3)
        self.rank0_only = nn.Linear(3, 3)
        self.never = nn.Linear(3, 3)

    def forward(self, x, use_branch: bool):
        h = self.trunk(x)
        return self.rank0_only(h) if use_branch else h


mt.manual_seed(0)
branchy = Branchy()
ddp_unused = dist.DistributedDataParallel(branchy, find_unused_parameters=True)
xb = mt.ones(2, 3) * (rank + 1)
for _ in range(2):  # twice: the second iteration must not trip over the first
    branchy.zero_grad()
    ddp_unused(xb, use_branch=rank == 0).sum().backward()
result["unused"] = {
    n: None if p.grad is None else p.grad.numpy().ravel().tolist()
    for n, p in branchy.named_parameters()
}
mt.manual_seed(0)
reference = Branchy()
(reference(mt.ones(2, 3) * (rank + 1), use_branch=rank == 0)).sum().backward()
result["unused_local"] = {
    n: None if p.grad is None else p.grad.numpy().ravel().tolist()
    for n, p in reference.named_parameters()
}

# without find_unused_parameters the next forward names the parameters that got no gradient
mt.manual_seed(0)
strict = dist.DistributedDataParallel(Branchy())
strict(xb, use_branch=False).sum().backward()
try:
    strict(xb, use_branch=False)
    result["strict_error"] = None
except RuntimeError as e:
    result["strict_error"] = str(e)

# ---------------------------------------------------------------- no_sync leaves grads local
mt.manual_seed(0)
lin = nn.Linear(2, 1)
ddp_lin = dist.DistributedDataParallel(lin)
with ddp_lin.no_sync():
    ddp_lin(mt.ones(1, 2) * (rank + 1)).sum().backward()
result["no_sync_grad"] = lin.weight.grad.numpy().ravel().tolist()
ddp_lin(mt.ones(1, 2) * (rank + 1)).sum().backward()
result["synced_grad"] = lin.weight.grad.numpy().ravel().tolist()

# ---------------------------------------------------------------- checkpoint
path = f"{__import__('sys').argv[1]}/ckpt.safetensors"
dist.save_checkpoint({"model": lin.state_dict(), "rank_saved": rank}, path)
loaded = dist.load_checkpoint(path)
result["ckpt_rank_saved"] = loaded["rank_saved"]
result["ckpt_matches"] = bool(
    np.array_equal(loaded["model"]["weight"].numpy(), lin.weight.detach().numpy())
)

write_result(result)
dist.destroy_process_group()
