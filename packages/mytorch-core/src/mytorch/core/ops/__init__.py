"""Differentiable operations, one module per family; each op's forward and backward side by side.

``python -m mytorch.core.ops`` prints every registered op with the rule its backward applies.
"""
