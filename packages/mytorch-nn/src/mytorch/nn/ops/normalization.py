"""The fused normalization ops live in ``mytorch.core.ops.normalization``; re-exported here."""

from mytorch.core.ops.normalization import (  # noqa: F401
    _normalized,
    batch_norm,
    group_norm,
    instance_norm,
    layer_norm,
    rms_norm,
)

__all__ = ["batch_norm", "group_norm", "instance_norm", "layer_norm", "rms_norm"]
