"""A benchmark over the whole space from a partial table: measured where trained, else predicted.

One :class:`~tabular_bench.surrogate.model.CellPredictor` per (task, fidelity, metric) and
one for cost per (task, fidelity) are fitted on the seed means of the measured cells, on
first use, and clipped to the range the table records. :meth:`SurrogateBenchmark.is_measured`
tells the two kinds of answer apart. :meth:`~tabular_bench.benchmark.Benchmark.index_of` is
the space's official order, which covers predicted cells too; the constructor checks that
the table's indices follow it.
"""

from __future__ import annotations

import numpy as np

from tabular_bench.benchmark import Benchmark
from tabular_bench.spaces import SearchSpace, space_named
from tabular_bench.store import Table
from tabular_bench.surrogate.model import CellPredictor
from tabular_bench.tabular import TabularBenchmark


class SurrogateBenchmark(Benchmark):
    """Every architecture of the table's space: table values where measured, surrogate
    predictions elsewhere.

    :param table: a partial table (any subset of the space, e.g. a build's sample).
    :param seed: seed of the predictors.
    :param space: ``None`` takes the registered space the table names.
    """

    def __init__(self, table: Table, *, seed: int = 0, space: SearchSpace | None = None) -> None:
        space = space_named(table.space) if space is None else space
        self.tabular = TabularBenchmark(table, space)
        self.space = space
        self.tasks = self.tabular.tasks
        self.fidelities = self.tabular.fidelities
        self.metrics = self.tabular.metrics
        self.seed = seed
        self._table_keys = space.keys(table.codes)
        if not np.array_equal(table.indices, space.official_index(self._table_keys)):
            raise ValueError(
                f"the table's archs/index is not {space.name}'s official index (a table "
                "merged before indices were stored held keys there): re-merge it with "
                "`python -m tabular_bench.builder merge OUT_DIR TABLE.h5` or re-import it"
            )
        self._measured = np.zeros((len(self.tasks), space.size), dtype=bool)
        for t, name in enumerate(self.tasks):
            self._measured[t, self._table_keys] = table.tasks[name].measured
        self._predictors: dict[tuple, CellPredictor] = {}

    def value_range(self, *, task: str, fidelity: int, metric: str) -> tuple[float, float]:
        """The table's recorded range (predictions are clipped to it)."""
        return self.tabular.value_range(task=task, fidelity=fidelity, metric=metric)

    def cost_unit(self, task: str) -> str:
        return self.tabular.cost_unit(task)

    def is_measured(self, keys: np.ndarray | int, *, task: str) -> np.ndarray:
        keys = self._check(keys, task, self.fidelities[0])
        return self._measured[self.tasks.index(task), keys]

    def identity(self) -> dict[str, str]:
        """Class, the table's identity and the predictors' seed."""
        table = {f"table_{k}": v for k, v in self.tabular.identity().items()}
        return {**super().identity(), **table, "seed": str(self.seed)}

    def _query(
        self,
        keys: np.ndarray,
        task: str,
        fidelity: int,
        metric: str,
        rng: np.random.Generator | None,
    ) -> np.ndarray:
        return self._answer(
            keys, task, fidelity, metric,
            lambda k: self.tabular.query(k, task=task, fidelity=fidelity, metric=metric, rng=rng),
        )

    def _cost(self, keys: np.ndarray, task: str, fidelity: int) -> np.ndarray:
        return self._answer(
            keys, task, fidelity, None,
            lambda k: self.tabular.cost(k, task=task, fidelity=fidelity),
        )

    def _answer(self, keys: np.ndarray, task: str, fidelity: int, metric: str | None,
                lookup) -> np.ndarray:
        measured = self.is_measured(keys, task=task)
        out = np.empty(keys.shape, dtype=np.float64)
        if measured.any():
            out[measured] = lookup(keys[measured])
        if not measured.all():
            predictor = self._predictor(task, fidelity, metric)
            out[~measured] = predictor.predict(self.space.codes(keys[~measured]))
        return out

    def _predictor(self, task: str, fidelity: int, metric: str | None) -> CellPredictor:
        """The fitted predictor of ``metric`` (``None``: cost), built on first use."""
        slot = (task, fidelity, metric)
        if slot not in self._predictors:
            train = self._table_keys[self._measured[self.tasks.index(task), self._table_keys]]
            if metric is None:
                values = self.tabular.cost(train, task=task, fidelity=fidelity)
            else:
                values = self.tabular.query(train, task=task, fidelity=fidelity, metric=metric)
            self._predictors[slot] = CellPredictor(seed=self.seed, space=self.space).fit(
                self.space.codes(train), values
            )
        return self._predictors[slot]
