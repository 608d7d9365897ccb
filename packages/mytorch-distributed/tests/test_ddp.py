"""DistributedDataParallel under mpiexec: equivalence with one process, overlap, mechanics,
checkpoints across world sizes, and failing ranks."""

from __future__ import annotations

import numpy as np
import pytest

CONFIGS = ["momentum_1", "momentum_2", "adam_1", "adam_2"]  # optimizer _ accumulation steps
RTOL = 1e-6  # float32, after 20 steps


def relative_error(got: dict, want: dict) -> float:
    """The largest max|got - want| / max|want| over the tensors of a state_dict."""
    return max(
        np.abs(np.asarray(got[k]) - np.asarray(want[k])).max() / np.abs(np.asarray(want[k])).max()
        for k in want
    )


@pytest.fixture(scope="module")
def reference(mpi_job):
    """One process (no mpiexec: world size 1) with the global batch of 8."""
    return mpi_job("ddp_train.py", 0, 8).ranks[0]


@pytest.mark.parametrize("world", [2, 4])
def test_training_matches_one_process_on_the_combined_batch(mpi_job, reference, world):
    """N ranks x batch 8/N == 1 process x batch 8, for SGD momentum and Adam, with and
    without 2-step no_sync accumulation, after 20 steps."""
    job = mpi_job("ddp_train.py", world, 8 // world)
    assert reference["world"] == 1
    for cfg in CONFIGS:
        assert job.ranks[0][f"{cfg}_buckets"] == 3  # small buckets: several allreduces per step
        for rank in job.ranks:
            err = relative_error(rank[cfg], reference[cfg])
            assert err <= RTOL, f"{cfg} on rank {rank['rank']} of {world}: {err:.2e}"
            assert rank[cfg] == job.ranks[0][cfg]  # the replicas are bit-identical
    # and training did something: momentum and Adam end far apart
    assert relative_error(reference["adam_1"], reference["momentum_1"]) > 1e-2


def test_checkpoint_from_2_ranks_resumes_on_4(mpi_job, reference):
    """Save after 10 of 20 steps on 2 ranks, resume on 4 ranks: the one-process result."""
    first = mpi_job("ddp_train.py", 2, 4, "--save-at", "10")
    prefix = str(first.out / "ckpt")
    resumed = mpi_job("ddp_train.py", 4, 2, "--resume", prefix)
    for cfg in CONFIGS:
        for rank in resumed.ranks:
            err = relative_error(rank[cfg], reference[cfg])
            assert err <= RTOL, f"{cfg} resumed on rank {rank['rank']}: {err:.2e}"


@pytest.fixture(scope="module")
def features(mpi_job):
    return mpi_job("ddp_features.py", 2).ranks


def test_buckets_start_during_backward_in_order(features):
    """With a slow (delayed) allreduce, every bucket starts before backward reaches the input,
    in bucket order; backward returns after all of them."""
    for rank in features:
        events = rank["events"]
        assert events == [
            "bucket 0 start (2 params)",
            "bucket 1 start (4 params)",
            "bucket 2 start (2 params)",
            "backward reached the input",
            "backward returned",
        ]


def test_bucket_assignment_reverse_order_first_bucket_small(features):
    rank = features[0]
    assert rank["bucket_names"] == [
        ["3.bias", "3.weight"],
        ["2.bias", "2.weight", "1.bias", "1.weight"],
        ["0.bias", "0.weight"],
    ]
    assert rank["bucket_sizes"] == [4224, 8448, 4224]  # bytes: 32 + 32*32 float32 per layer


def test_construction_broadcasts_rank0_and_grads_are_averaged(features):
    assert features[0]["weights_after_construction"] == features[1]["weights_after_construction"]
    for name in features[0]["grads"]:
        mean = np.mean([r["local_grads"][name] for r in features], axis=0)
        for r in features:
            np.testing.assert_allclose(r["grads"][name], mean, rtol=1e-5, atol=1e-6)


def test_buffers_are_broadcast_before_each_forward(features):
    seen = [r["bn_means_at_forward"] for r in features]
    assert seen[0] == seen[1]  # every forward starts from rank 0's running statistics
    assert seen[0][1] != seen[0][0]  # which do change with training
    after = [r["bn_mean_after"] for r in features]
    assert after[0] != after[1]  # each rank updated them with its own batch


def test_find_unused_parameters(features):
    for r in features:
        grads = r["unused"]
        assert grads["never.weight"] is None and grads["never.bias"] is None
        for name in ("trunk.weight", "trunk.bias"):
            mean = np.mean([f["unused_local"][name] for f in features], axis=0)
            np.testing.assert_allclose(grads[name], mean, rtol=1e-5)
        # used by rank 0 only: rank 0's gradient over the world size, on every rank
        local = np.asarray(features[0]["unused_local"]["rank0_only.weight"])
        np.testing.assert_allclose(grads["rank0_only.weight"], local / 2, rtol=1e-5)
    assert features[1]["unused_local"]["rank0_only.weight"] is None


def test_unused_parameter_without_detection_raises_naming_it(features):
    for r in features:
        message = r["strict_error"]
        assert message and "find_unused_parameters=True" in message
        assert "never.weight" in message and "trunk.weight" not in message


def test_no_sync_accumulates_locally_then_syncs(features):
    assert [r["no_sync_grad"] for r in features] == [[1.0, 1.0], [2.0, 2.0]]
    assert [r["synced_grad"] for r in features] == [[3.0, 3.0], [3.0, 3.0]]  # (2 + 4) / 2


def test_checkpoint_written_by_rank0_read_everywhere(features):
    for r in features:
        assert r["ckpt_rank_saved"] == 0 and r["ckpt_matches"]


def test_a_rank_raising_mid_step_ends_the_job_with_its_error(mpi_job):
    job = mpi_job("ddp_failure.py", 2, "raise", ok=False, timeout=60)
    assert job.returncode != 0
    assert "ValueError: simulated failure in step 3" in job.output
    assert "rank 1 of 2 failed with ValueError" in job.output
    assert "aborting the whole job" in job.output
    assert job.ranks == [None, None] and job.seconds < 30


def test_a_stalled_rank_makes_the_others_time_out(mpi_job):
    job = mpi_job("ddp_failure.py", 2, "stall", "3", ok=False, timeout=60)
    assert job.returncode != 0
    assert "on rank 0 of 2 did not complete within 3 s" in job.output
    assert "aborting the whole job" in job.output
    assert job.seconds < 30  # the stalled rank sleeps 600 s: the abort ended it


def test_sync_batchnorm_matches_batchnorm_on_the_combined_batch(features):
    """conv + SyncBatchNorm under DDP on 2 ranks x 2 images == conv + BatchNorm2d on 4 images:
    outputs, input gradients, weight gradients and running statistics."""
    for r in features:
        got = r["sync_bn"]
        assert got["type"] == "SyncBatchNorm"
        for key in ("out", "x_grad", "w_grad", "bn_w_grad", "running_var"):
            want = np.asarray(got[f"{key}_ref"])
            err = np.abs(np.asarray(got[key]) - want).max() / np.abs(want).max()
            assert err < 1e-5, f"{key} on rank {r['rank']}: {err:.2e}"
