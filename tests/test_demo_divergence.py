"""Every training demo stops at a NaN or infinite loss (or weights) with a message saying where
and the last finite loss, instead of going on and checkpointing diverged weights."""

from __future__ import annotations

import numpy as np
import pytest


def test_finite_losses_pass_through(demo):
    assert demo.stop_if_diverged(0.5, None, "epoch 1, step 1") == 0.5
    assert demo.stop_if_diverged(None, None, "epoch 1, step 1") is None  # an empty epoch
    model = demo.nn.Linear(3, 2)
    assert demo.stop_if_diverged(0.5, 0.75, "the end of epoch 1", model) == 0.5


@pytest.mark.parametrize("loss", [float("nan"), float("inf"), float("-inf")])
def test_a_non_finite_loss_stops_the_run(demo, loss):
    with pytest.raises(SystemExit) as stop:
        demo.stop_if_diverged(loss, 0.25, "epoch 2, step 7")
    message = str(stop.value.code)  # SystemExit(str): printed to stderr, exit status 1
    assert message.startswith(
        f"error: the training loss became {loss} at epoch 2, step 7 (last finite loss 0.2500); "
        "stopped without saving"
    )
    with pytest.raises(SystemExit, match="no finite loss before it"):
        demo.stop_if_diverged(loss, None, "epoch 1, step 1")


def test_non_finite_weights_stop_the_run(demo):
    model = demo.nn.Linear(3, 2)
    model.weight.data[0, 1] = np.nan
    with pytest.raises(SystemExit) as stop:
        demo.stop_if_diverged(0.5, 0.5, "the end of epoch 3", model)
    assert str(stop.value.code).startswith(
        "error: the weights became NaN or infinite at the end of epoch 3 (last finite loss 0.5000)"
    )
