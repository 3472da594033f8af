"""A benchmark view that only answers for the meta-training tasks.

Leave-one-dataset-out is only honest if nothing about the held-out dataset reaches
meta-training. Rather than trusting every meta-learner to filter, meta-training receives
this view: it forwards look-ups of the allowed tasks to the wrapped table and raises
:class:`HeldOutTaskError` for any other task, so a leak fails loudly instead of silently
improving the numbers.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from tabular_bench.benchmark import Benchmark


class HeldOutTaskError(KeyError):
    """A restricted view was asked about a task outside its allowed set."""


class RestrictedBenchmark(Benchmark):
    """Read-only view of ``benchmark`` limited to ``allowed_tasks``.

    :param benchmark: the full table; kept private and never handed out.
    :param allowed_tasks: the tasks meta-training may read (e.g. every task of the two
        training datasets).
    """

    def __init__(self, benchmark: Benchmark, allowed_tasks: Iterable[str]) -> None:
        allowed = tuple(dict.fromkeys(allowed_tasks))
        unknown = [t for t in allowed if t not in benchmark.tasks]
        if unknown:
            raise KeyError(
                f"cannot restrict to unknown tasks {unknown}; the benchmark has {benchmark.tasks}"
            )
        if not allowed:
            raise ValueError("a restricted view needs at least one allowed task")
        self.__inner = benchmark
        self.space = benchmark.space
        self.tasks = allowed
        self.fidelities = benchmark.fidelities
        self.metrics = benchmark.metrics

    def _guard(self, task: str) -> None:
        if task not in self.tasks:
            raise HeldOutTaskError(
                f"task {task!r} is not visible to meta-training (allowed: {self.tasks}); "
                "held-out data must only be read by the search on the held-out dataset"
            )

    def query(
        self,
        keys: np.ndarray | int,
        *,
        task: str,
        fidelity: int,
        metric: str = "valid_acc",
        rng: np.random.Generator | None = None,
    ) -> np.ndarray:
        self._guard(task)
        return super().query(keys, task=task, fidelity=fidelity, metric=metric, rng=rng)

    def cost(self, keys: np.ndarray | int, *, task: str, fidelity: int) -> np.ndarray:
        self._guard(task)
        return super().cost(keys, task=task, fidelity=fidelity)

    def cost_unit(self, task: str) -> str:
        self._guard(task)
        return self.__inner.cost_unit(task)

    def is_measured(self, keys: np.ndarray | int, *, task: str) -> np.ndarray:
        self._guard(task)
        return self.__inner.is_measured(keys, task=task)

    def index_of(self, keys: np.ndarray | int) -> np.ndarray:
        return self.__inner.index_of(keys)

    def identity(self) -> dict[str, str]:
        inner = {f"inner_{k}": v for k, v in self.__inner.identity().items()}
        return {**super().identity(), **inner, "allowed_tasks": ",".join(self.tasks)}

    def _query(
        self,
        keys: np.ndarray,
        task: str,
        fidelity: int,
        metric: str,
        rng: np.random.Generator | None,
    ) -> np.ndarray:
        return self.__inner.query(keys, task=task, fidelity=fidelity, metric=metric, rng=rng)

    def _cost(self, keys: np.ndarray, task: str, fidelity: int) -> np.ndarray:
        return self.__inner.cost(keys, task=task, fidelity=fidelity)
