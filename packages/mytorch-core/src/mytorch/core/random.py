"""Random number generation: one global generator, seeded by ``manual_seed``, and ``Generator`` objects."""

from __future__ import annotations

import numpy as np


class Generator:
    """A seeded source of random numbers, passable as ``generator=`` where PyTorch accepts one.

    >>> g = Generator().manual_seed(0)
    >>> a = g.np.random(); _ = g.manual_seed(0); a == g.np.random()
    True
    """

    def __init__(self, seed: int | None = None) -> None:
        self._seed = (
            int(seed) if seed is not None else int(np.random.SeedSequence().entropy % 2**63)
        )
        self.np = np.random.default_rng(self._seed)

    def manual_seed(self, seed: int) -> Generator:
        """Reset the generator to the stream that ``seed`` names; returns self."""
        self._seed = int(seed)
        self.np = np.random.default_rng(self._seed)
        return self

    def initial_seed(self) -> int:
        return self._seed

    def seed(self) -> int:
        """Reseed from fresh entropy and return the new seed."""
        return self.manual_seed(int(np.random.SeedSequence().entropy % 2**63)).initial_seed()

    def get_state(self) -> dict:
        return self.np.bit_generator.state

    def set_state(self, state: dict) -> None:
        self.np.bit_generator.state = state


default_generator = Generator(0)


def manual_seed(seed: int) -> Generator:
    """Seed the global generator that every random op (init, dropout, shuffling) uses."""
    return default_generator.manual_seed(seed)


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> dict:
    return default_generator.get_state()


def set_rng_state(state: dict) -> None:
    default_generator.set_state(state)


def rng(generator: Generator | None = None) -> np.random.Generator:
    """The NumPy generator behind ``generator``, or behind the global one."""
    return (generator or default_generator).np
