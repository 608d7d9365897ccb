"""Differentiable ops that the layers of mytorch.nn add to mytorch.core's (one module per family)."""
