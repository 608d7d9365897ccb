"""Helpers shared by the model builders."""

from __future__ import annotations

from typing import Any


def check_no_weights(weights: Any) -> None:
    """Builders take torchvision's ``weights=`` argument, but no pretrained weights ship here."""
    if weights is not None:
        raise ValueError(
            f"pretrained weights are not available (got weights={weights!r}); build the model "
            "with weights=None and load a state_dict with model.load_state_dict(...)"
        )
