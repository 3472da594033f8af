"""Ask/tell contract shared by every search strategy.

A strategy proposes cells (:meth:`Strategy.ask`) and learns from the validation signal
the runner reports back (:meth:`Strategy.tell`). It owns its ``numpy.random.Generator``,
and knows nothing of benchmarks, budgets, Hydra or test accuracy: the runner owns all of
those. Objectives are maximised (every table metric is stored so that higher is better).

A proposal outside the space (a sampler drawing every position independently, in a space
where not every code is a member) is replaced by the space's nearest member
(:meth:`SearchSpace.nearest`); the trial carries the member actually evaluated.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from tabular_bench.spaces import SearchSpace


@dataclass(frozen=True, slots=True)
class Trial:
    """One proposed cell. ``number`` counts asks from 0 within a strategy."""

    number: int
    code: tuple[int, ...]
    key: int


class Strategy(ABC):
    """Base class: subclasses implement :meth:`_propose` and :meth:`_observe`."""

    def __init__(self, space: SearchSpace, *, seed: int) -> None:
        self.space = space
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.history: list[tuple[Trial, float]] = []
        self._asked = 0
        self._pending: dict[int, Trial] = {}
        self._key_of = space.key_of  # bound once: ask() runs millions of times

    def ask(self) -> Trial:
        """Propose the next architecture to evaluate."""
        code = tuple(np.asarray(self._propose()).tolist())
        key = self._key_of(code)
        if key is None:
            code = tuple(self.space.nearest(code).tolist())
            key = self._key_of(code)
        trial = Trial(self._asked, code, key)
        self._pending[trial.number] = trial
        self._asked += 1
        return trial

    def tell(self, trial: Trial, value: float) -> None:
        """Report the validation signal of a trial obtained from :meth:`ask`."""
        if trial.number not in self._pending:
            raise ValueError(f"trial {trial.number} was not asked or was already told")
        if not math.isfinite(value):
            raise ValueError(f"trial {trial.number}: objective must be finite, got {value}")
        del self._pending[trial.number]
        self.history.append((trial, float(value)))
        self._observe(trial, float(value))

    @abstractmethod
    def _propose(self) -> np.ndarray:
        """Return the code of the next cell."""

    @abstractmethod
    def _observe(self, trial: Trial, value: float) -> None:
        """Update internal state with a told result."""
