"""Random draws taken from a strategy's generator in blocks.

One ``Generator.integers(0, 5, size=6)`` call costs ~10 us of numpy overhead, more than the
rest of an ask; drawing a few hundred at once makes a draw cost well under a microsecond.
The stream stays a pure function of the generator, so trajectories remain seeded.
"""

from __future__ import annotations

import numpy as np

from tabular_bench.spaces import SearchSpace


class BlockDraws:
    """Uniform codes of ``space`` and uniform indices, pre-drawn ``block`` at a time."""

    def __init__(self, space: SearchSpace, rng: np.random.Generator, block: int = 256) -> None:
        self._space = space
        self._rng = rng
        self._block = block
        self._codes = np.empty((0, space.num_edges), dtype=np.int64)
        self._next_code = 0
        self._uniforms: list[float] = []
        self._next_uniform = 0

    def code(self) -> np.ndarray:
        """A uniform random code (a read-only row of the current block)."""
        if self._next_code == len(self._codes):
            self._codes = self._space.random_codes(self._rng, self._block)
            self._codes.flags.writeable = False
            self._next_code = 0
        self._next_code += 1
        return self._codes[self._next_code - 1]

    def index(self, n: int) -> int:
        """A uniform integer in ``[0, n)``."""
        if self._next_uniform == len(self._uniforms):
            self._uniforms = self._rng.random(self._block).tolist()
            self._next_uniform = 0
        u = self._uniforms[self._next_uniform]
        self._next_uniform += 1
        return int(u * n)
