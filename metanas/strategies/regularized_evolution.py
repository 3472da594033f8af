"""Regularized (aging) evolution, Real et al., AAAI 2019, as run in NAS-Bench-201.

Follows ``exps/NAS-Bench-201-algos/R_EA.py`` of AutoDL-Projects: the first
``population_size`` proposals are uniform random cells; afterwards each proposal mutates the
best of ``sample_size`` population members drawn *with replacement* (ties: first drawn),
changing one edge to a different operation. Every told result joins the population and the
oldest member (earliest told) leaves, so the population holds the last ``population_size``
results.

Difference from NB201: their mutation picks a node, then one of its incoming edges, so edge
``1<-0`` is mutated with probability 1/3 and each of node 3's edges with 1/9; here the edge is
uniform (:meth:`SearchSpace.mutate`), which needs no graph structure and is Real et al.'s
rule.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from metanas.strategies.base import Strategy, Trial
from metanas.strategies.block_draws import BlockDraws
from tabular_bench.spaces import SearchSpace


class RegularizedEvolution(Strategy):
    """Aging evolution with tournament selection.

    :param population_size: members kept (NB201: 10).
    :param sample_size: tournament size, drawn with replacement (NB201: 3).
    """

    def __init__(
        self,
        space: SearchSpace,
        *,
        seed: int,
        population_size: int = 10,
        sample_size: int = 3,
    ) -> None:
        if population_size < 1:
            raise ValueError(f"population_size must be >= 1, got {population_size}")
        if not 1 <= sample_size <= population_size:
            raise ValueError(
                f"sample_size must lie in [1, population_size={population_size}], "
                f"got {sample_size}"
            )
        super().__init__(space, seed=seed)
        self.population_size = population_size
        self.sample_size = sample_size
        self.population: deque[tuple[np.ndarray, float]] = deque(maxlen=population_size)
        self._draws = BlockDraws(space, self.rng)

    def _propose(self) -> np.ndarray:
        # Random while the initial population is being proposed, or while no result has
        # arrived yet (only possible when the runner asks ahead of its tells).
        if self._asked < self.population_size or not self.population:
            return self._draws.code()
        return self.space.mutate(self._tournament(), self.rng)

    def _tournament(self) -> np.ndarray:
        """Code of the best of ``sample_size`` members drawn with replacement."""
        size = len(self.population)
        best_code, best_value = self.population[self._draws.index(size)]
        for _ in range(self.sample_size - 1):
            code, value = self.population[self._draws.index(size)]
            if value > best_value:
                best_code, best_value = code, value
        return best_code

    def _observe(self, trial: Trial, value: float) -> None:
        self.population.append((np.asarray(trial.code, dtype=np.int64), value))
