"""Random search as in NAS-Bench-201 (Dong & Yang, ICLR 2020).

NB201's ``exps/NAS-Bench-201-algos/RANDOM.py`` draws every edge's operation uniformly and
independently for each query and keeps no record of what it has already tried, so repeats
are possible (a run of 100 draws over 15,625 cells repeats some cell with probability ~27 %)
and each repeat is charged again.
This class keeps those semantics so the reproduction is comparable.
"""

from __future__ import annotations

import numpy as np

from metanas.strategies.base import Strategy, Trial
from metanas.strategies.block_draws import BlockDraws
from tabular_bench.spaces import SearchSpace


class RandomSearch(Strategy):
    """Uniform sampling with replacement over the cells of ``space``."""

    def __init__(self, space: SearchSpace, *, seed: int) -> None:
        super().__init__(space, seed=seed)
        self._draws = BlockDraws(space, self.rng)

    def _propose(self) -> np.ndarray:
        return self._draws.code()

    def _observe(self, trial: Trial, value: float) -> None:
        """Random search learns nothing from results; the runner tracks the incumbent."""
