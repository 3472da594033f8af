"""Local search with random restarts (White, Nolen, Ramesh & Hutter, UAI 2021; NASLib's LS).

A walk starts at a uniform random cell, evaluates all its mutation neighbours (one edge set to
another operation) in random order, and moves to the best neighbour if it beats the current
cell; otherwise the cell is a local optimum and a new walk starts from a fresh random cell.
Within a walk no cell is proposed twice: a neighbour already evaluated in the walk keeps its
first value. Cells from earlier walks may be proposed again (as in NASLib).

The move is decided only when the centre and its whole neighbourhood have been told. If the
runner asks while that decision still waits for results, the strategy proposes a uniform
random cell whose result does not enter the walk. A cell without neighbours (possible in a
subset space, e.g. a table's measured networks) is a local optimum.
"""

from __future__ import annotations

import numpy as np

from metanas.strategies.base import Strategy, Trial
from metanas.strategies.block_draws import BlockDraws
from tabular_bench.spaces import SearchSpace


class LocalSearch(Strategy):
    """Best-improvement hill climbing over mutation neighbourhoods, restarted at optima."""

    def __init__(self, space: SearchSpace, *, seed: int) -> None:
        super().__init__(space, seed=seed)
        self.restarts = 0
        self._draws = BlockDraws(space, self.rng)
        self._centre: int | None = None
        self._queue: list[np.ndarray] = []  # neighbour codes still to propose
        self._walk_values: dict[int, float] = {}  # key -> first told value, this walk
        self._walk_keys: set[int] = set()  # keys proposed in this walk
        self._walk_neighbours: list[int] = []  # keys of the centre's neighbourhood
        self._walk_pending: dict[int, int] = {}  # trial number -> key, this walk

    @property
    def centre(self) -> int | None:
        """Key of the walk's current cell (``None`` before the first ask)."""
        return self._centre

    def _propose(self) -> np.ndarray:
        if self._centre is None:
            return self._start_walk()
        if not self._queue and not self._walk_pending:
            self._decide()
            if self._centre is None:
                return self._start_walk()
        if self._queue:
            return self._claim(self._queue.pop())
        return self._draws.code()  # the decision waits for results: explore meanwhile

    def _observe(self, trial: Trial, value: float) -> None:
        key = self._walk_pending.pop(trial.number, None)
        if key is not None:
            self._walk_values.setdefault(key, value)

    # -- walk mechanics ---------------------------------------------------------------
    def _start_walk(self) -> np.ndarray:
        """Begin a walk at a random cell and queue its neighbourhood."""
        code = self._draws.code()
        self._walk_values.clear()
        self._walk_keys.clear()
        self._walk_pending.clear()
        self._centre = self.space.key(code)
        self._enqueue_neighbours(code)
        return self._claim(code)

    def _claim(self, code: np.ndarray) -> np.ndarray:
        """Record that ``code`` is proposed as the next trial of this walk."""
        key = self.space.key(code)
        self._walk_keys.add(key)
        self._walk_pending[self._asked] = key
        return code

    def _enqueue_neighbours(self, code: np.ndarray) -> None:
        neighbours = self.space.neighbours(code)
        keys = self.space.keys(neighbours).tolist()
        self._walk_neighbours = keys
        order = self.rng.permutation(len(keys)).tolist()
        # The queue is popped from its end, so reverse to propose in ``order``.
        self._queue = [neighbours[i] for i in reversed(order) if keys[i] not in self._walk_keys]

    def _decide(self) -> None:
        """Move to the best improving neighbour, or end the walk at a local optimum."""
        values = self._walk_values
        best_key = max(self._walk_neighbours, key=values.__getitem__, default=None)
        if best_key is not None and values[best_key] > values[self._centre]:
            self._centre = best_key
            self._enqueue_neighbours(self.space.code(best_key))
            if self._queue:
                return
            # Every neighbour of the new centre was seen in this walk: decide again now.
            self._decide()
        else:
            self._centre = None
            self.restarts += 1
