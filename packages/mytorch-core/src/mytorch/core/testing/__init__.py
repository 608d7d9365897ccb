"""Tools for proving ops correct: ``gradcheck`` (finite differences) and ``assert_matches_torch``."""

from mytorch.core.testing.gradcheck import gradcheck, gradgradcheck
from mytorch.core.testing.torch_parity import assert_matches_torch

__all__ = ["gradcheck", "gradgradcheck", "assert_matches_torch"]
