"""Every collective under mpiexec (2 and 4 ranks) against NumPy on the gathered inputs."""

from __future__ import annotations

import numpy as np
import pytest

REDUCE = {
    "SUM": lambda a: a.sum(0),
    "AVG": lambda a: a.mean(0),
    "PRODUCT": lambda a: a.prod(0),
    "MAX": lambda a: a.max(0),
    "MIN": lambda a: a.min(0),
}


@pytest.fixture(scope="module", params=[2, 4])
def ranks(request, mpi_job):
    job = mpi_job("collectives.py", request.param)
    assert [r["rank"] for r in job.ranks] == list(range(request.param))
    assert all(r["world"] == request.param and r["is_initialized"] for r in job.ranks)
    return job.ranks


def inputs(ranks, name) -> np.ndarray:
    return np.stack([np.asarray(r[name]["in"]) for r in ranks])


def outputs(ranks, name) -> list:
    return [np.asarray(r[name]["out"]) for r in ranks]


@pytest.mark.parametrize("op", list(REDUCE))
@pytest.mark.parametrize("mode", ["", "async_"])
def test_all_reduce(ranks, op, mode):
    name = f"all_reduce_{mode}{op}"
    expected = REDUCE[op](inputs(ranks, name).astype(np.float64))
    for got in outputs(ranks, name):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_all_reduce_other_dtypes_and_errors(ranks):
    x = inputs(ranks, "all_reduce_float64_AVG")
    for got in outputs(ranks, "all_reduce_float64_AVG"):
        np.testing.assert_allclose(got, x.mean(0), rtol=1e-13)
    x = inputs(ranks, "all_reduce_int64_MAX")
    for got in outputs(ranks, "all_reduce_int64_MAX"):
        np.testing.assert_array_equal(got, x.max(0))
    for r in ranks:
        assert "AVG needs a floating point tensor, got int64" in r["avg_int_error"]
        assert "must be contiguous" in r["noncontiguous_error"]


def test_broadcast_from_every_rank(ranks):
    for src in range(len(ranks)):
        x = inputs(ranks, f"broadcast_{src}")
        for got in outputs(ranks, f"broadcast_{src}"):
            np.testing.assert_array_equal(got, x[src])
    x = inputs(ranks, "broadcast_async")
    for got in outputs(ranks, "broadcast_async"):
        np.testing.assert_array_equal(got, x[-1])


def test_all_gather(ranks):
    x = inputs(ranks, "all_gather")  # (world, 2, 3)
    for got in outputs(ranks, "all_gather"):
        np.testing.assert_array_equal(got, x)
    x = inputs(ranks, "all_gather_into_tensor")
    for got in outputs(ranks, "all_gather_into_tensor"):
        np.testing.assert_array_equal(got, x.reshape(-1, 3))


@pytest.mark.parametrize("op", ["SUM", "AVG", "MAX"])
@pytest.mark.parametrize("form", ["reduce_scatter", "reduce_scatter_tensor"])
def test_reduce_scatter(ranks, op, form):
    name = f"{form}_{op}"
    x = inputs(ranks, name)  # (world ranks, world blocks, 3)
    reduced = REDUCE[op](x.astype(np.float64))  # (world blocks, 3)
    for rank, got in enumerate(outputs(ranks, name)):
        np.testing.assert_allclose(got, reduced[rank], rtol=1e-5, atol=1e-6)


def test_send_recv_ring(ranks):
    world = len(ranks)
    for name in ("ring", "ring_async"):
        x = inputs(ranks, name)
        for rank, got in enumerate(outputs(ranks, name)):
            np.testing.assert_array_equal(got, x[(rank - 1) % world])
    assert [r["ring_sender"] for r in ranks] == [(i - 1) % world for i in range(world)]
    assert all(r["ring_async_completed"] for r in ranks)
