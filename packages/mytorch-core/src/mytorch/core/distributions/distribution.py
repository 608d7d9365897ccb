"""The base class of every distribution: batch and event shapes, and argument validation."""

from __future__ import annotations

import numpy as np

from mytorch.core.tensor import Tensor


class Distribution:
    """A batch of distributions of one family, shaped like ``torch.distributions.Distribution``.

    ``batch_shape`` indexes independent distributions; ``event_shape`` is the shape of one draw.
    ``validate_args`` (default True, as in PyTorch) checks parameters at construction and values
    passed to ``log_prob``, raising ``ValueError`` that names the argument and its bad values.
    """

    has_rsample = False

    def __init__(
        self,
        batch_shape: tuple[int, ...] = (),
        event_shape: tuple[int, ...] = (),
        validate_args: bool | None = None,
    ) -> None:
        self._batch_shape = tuple(batch_shape)
        self._event_shape = tuple(event_shape)
        self._validate_args = True if validate_args is None else bool(validate_args)

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return self._batch_shape

    @property
    def event_shape(self) -> tuple[int, ...]:
        return self._event_shape

    def _extended_shape(self, sample_shape=()) -> tuple[int, ...]:
        """``sample_shape + batch_shape + event_shape``: the shape of ``sample(sample_shape)``."""
        if isinstance(sample_shape, int):
            sample_shape = (sample_shape,)
        return tuple(sample_shape) + self._batch_shape + self._event_shape

    def sample(self, sample_shape=()) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement sample")

    def rsample(self, sample_shape=()) -> Tensor:
        raise NotImplementedError(
            f"{type(self).__name__} has no reparameterized sampler (has_rsample is False)"
        )

    def log_prob(self, value: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement log_prob")

    def entropy(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement entropy")

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    def perplexity(self) -> Tensor:
        return self.entropy().exp()

    def _check_value_shape(self, value: Tensor) -> None:
        """``value`` must broadcast with ``batch_shape + event_shape`` (PyTorch's rule)."""
        expected = self._batch_shape + self._event_shape
        n_event = len(self._event_shape)
        if n_event and tuple(value.shape[-n_event:]) != self._event_shape:
            raise ValueError(
                f"The right-most size of value must match event_shape: "
                f"{tuple(value.shape)} vs {self._event_shape}."
            )
        try:
            np.broadcast_shapes(tuple(value.shape), expected)
        except ValueError:
            raise ValueError(
                f"Value is not broadcastable with batch_shape+event_shape: "
                f"{tuple(value.shape)} vs {expected}."
            ) from None

    def _invalid(self, what: str, data: np.ndarray, constraint: str) -> ValueError:
        return ValueError(
            f"Expected {what} (Tensor of shape {tuple(data.shape)}) of distribution {self!r} "
            f"to satisfy the constraint {constraint}, but found invalid values:\n{data}"
        )
