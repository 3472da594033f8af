"""The one interface every strategy's objective comes from.

A :class:`Benchmark` answers "what would training this cell on this task to this
fidelity have given, and how long would it have taken?". Tabular benchmarks read the
answer from a table; surrogate benchmarks predict it. The public methods validate their
arguments and then call a protected hook, so subclasses only implement look-ups
(the pattern of syne-tune's ``Blackbox``).

Strategies never receive a ``Benchmark``: the runner queries it and hands them the
validation signal. Only reports call :meth:`Benchmark.query` with ``metric="test_acc"``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from tabular_bench.spaces import CellSearchSpace


class Benchmark(ABC):
    """Objectives of a cell space over tasks, fidelities (epochs) and seeds."""

    space: CellSearchSpace
    tasks: tuple[str, ...]
    fidelities: tuple[int, ...]
    metrics: tuple[str, ...]

    # -- public, validating --------------------------------------------------------
    def query(
        self,
        keys: np.ndarray | int,
        *,
        task: str,
        fidelity: int,
        metric: str = "valid_acc",
        rng: np.random.Generator | None = None,
    ) -> np.ndarray:
        """Metric values of the cells ``keys`` (accuracies in percent).

        :param rng: ``None`` returns the mean over seeds; a generator draws one recorded
            seed per query at random, as the NAS-Bench-201 paper's searches do.
        """
        keys = self._check(keys, task, fidelity)
        if metric not in self.metrics:
            raise KeyError(f"unknown metric {metric!r}; this benchmark has {self.metrics}")
        return self._query(keys, task, fidelity, metric, rng)

    def cost(self, keys: np.ndarray | int, *, task: str, fidelity: int) -> np.ndarray:
        """Simulated wall-clock seconds of evaluating each cell at ``fidelity``."""
        return self._cost(self._check(keys, task, fidelity), task, fidelity)

    def is_measured(self, keys: np.ndarray | int, *, task: str) -> np.ndarray:
        """True where the value comes from training, False where a surrogate predicts it.

        Concrete (all measured) so that purely synthetic benchmarks need not override it.
        """
        return np.ones(np.atleast_1d(self.space.validate_keys(keys)).shape, dtype=bool)

    def index_of(self, keys: np.ndarray | int) -> np.ndarray:
        """Official architecture index of each key (what traces and reports show).

        Default: the space's published order (:meth:`CellSearchSpace.official_index`),
        which is the key itself for a space without one.
        """
        return self.space.official_index(np.atleast_1d(keys))

    def identity(self) -> dict[str, str]:
        """What tells this benchmark's values apart from another's, for resume checks.

        A search resumed against a different identity would mix traces of different
        objectives; subclasses add what their values depend on (table checksum, seeds).
        """
        return {"class": f"{type(self).__module__}.{type(self).__qualname__}"}

    # -- hooks ---------------------------------------------------------------------
    @abstractmethod
    def _query(
        self,
        keys: np.ndarray,
        task: str,
        fidelity: int,
        metric: str,
        rng: np.random.Generator | None,
    ) -> np.ndarray:
        """Look up validated ``keys`` (int64 array)."""

    @abstractmethod
    def _cost(self, keys: np.ndarray, task: str, fidelity: int) -> np.ndarray:
        """Simulated cost of validated ``keys``."""

    # -- helpers -------------------------------------------------------------------
    def _check(self, keys: np.ndarray | int, task: str, fidelity: int) -> np.ndarray:
        if task not in self.tasks:
            raise KeyError(f"unknown task {task!r}; this benchmark has {self.tasks}")
        if fidelity not in self.fidelities:
            raise KeyError(
                f"unknown fidelity {fidelity!r}; this benchmark has epochs {self.fidelities}"
            )
        return np.atleast_1d(self.space.validate_keys(keys))
