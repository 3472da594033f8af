"""A :class:`Benchmark` that reads its answers from a :class:`~tabular_bench.store.Table`.

Look-ups are vectorised: a key -> row array the size of the space turns any batch of keys
into rows with one gather. Seed means and the recorded seeds are prepared once per task on
its first query, so loading stays fast and a query is a few NumPy indexing operations.

A table that holds only part of its space (TransNAS-Bench-101's zero-cost files, a build's
sample) is searched either over its measured networks only (:func:`measured_only`) or over
the whole space completed by a surrogate
(:class:`~tabular_bench.surrogate.SurrogateBenchmark`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from tabular_bench.benchmark import Benchmark
from tabular_bench.spaces import SearchSpace, SubsetSpace, space_named
from tabular_bench.store import Table, TaskData, read_table


@dataclass(frozen=True)
class _Prepared:
    """Per-task arrays in query-friendly form."""

    data: TaskData
    mean: np.ndarray
    """``(n, fidelities, metrics)`` mean over recorded seeds (NaN when none)."""
    packed: np.ndarray
    """``(n, fidelities, metrics, seeds)`` recorded seeds first, NaN after."""
    count: np.ndarray
    """``(n, fidelities, metrics)`` number of recorded seeds."""


class TabularBenchmark(Benchmark):
    """Objectives of the architectures of one table.

    :param space: ``None`` takes the registered space the table names
        (:func:`~tabular_bench.spaces.space_named`); a subset of it restricts the search.
    """

    def __init__(self, table: Table, space: SearchSpace | None = None) -> None:
        space = space_named(table.space) if space is None else space
        if table.space != space.family:
            raise ValueError(f"table is for space {table.space!r}, not {space.family!r}")
        self.space = space
        self.table = table
        keys = space.keys(table.codes)
        self._row_of_key = np.full(space.size, -1, dtype=np.int64)
        self._row_of_key[keys] = np.arange(table.num_archs)
        self._index_of_key = np.full(space.size, -1, dtype=np.int64)
        self._index_of_key[keys] = table.indices
        self._key_of_index = np.full(int(table.indices.max()) + 1, -1, dtype=np.int64)
        self._key_of_index[table.indices] = keys
        self._prepared: dict[str, _Prepared] = {}
        self.tasks = tuple(table.tasks)
        self.fidelities = tuple(sorted({f for t in table.tasks.values() for f in t.fidelities}))
        self.metrics = tuple(dict.fromkeys(m for t in table.tasks.values() for m in t.metrics))

    # -- construction ----------------------------------------------------------------
    @classmethod
    def from_file(cls, path: str | Path, space: SearchSpace | None = None) -> TabularBenchmark:
        """Load an HDF5 table written by :func:`tabular_bench.store.write_table`; its space
        comes from the table's ``space`` attribute unless given."""
        return cls(read_table(path), space)

    # -- official index ----------------------------------------------------------------
    def index_of(self, keys: np.ndarray | int) -> np.ndarray:
        """Official index of each key, as the table stores it (``archs/index``)."""
        return self._index_of_key[self._rows(keys)[1]]

    def keys_of(self, indices: np.ndarray | int) -> np.ndarray:
        """Key of each official index."""
        indices = np.atleast_1d(np.asarray(indices, dtype=np.int64))
        bad = (indices < 0) | (indices >= self._key_of_index.size)
        keys = self._key_of_index[np.where(bad, 0, indices)]
        bad |= keys < 0
        if bad.any():
            raise KeyError(f"official indices {indices[bad][:5].tolist()} are not in the table")
        return keys

    def cost_unit(self, task: str) -> str:
        return self._task(task).data.cost_unit

    def is_measured(self, keys: np.ndarray | int, *, task: str) -> np.ndarray:
        rows = self._rows(keys)[0]
        return self._task(task).data.measured[rows]

    def value_range(self, *, task: str, fidelity: int, metric: str) -> tuple[float, float]:
        """Range of the recorded seed means (the table's rows, not the whole space)."""
        prepared = self._task(task)
        f, m = self._fidelity(prepared, task, fidelity), self._metric(prepared, task, metric)
        values = prepared.mean[:, f, m]
        if np.isnan(values).all():
            raise KeyError(f"no recorded {metric} at fidelity {fidelity} on {task}")
        return float(np.nanmin(values)), float(np.nanmax(values))

    def identity(self) -> dict[str, str]:
        """Class, the table's source and its array checksum (``created`` is left out, so a
        table imported in memory and the same table read back from its cache agree)."""
        return {
            **super().identity(),
            "source_sha256": self.table.provenance.source_sha256,
            "checksum": self.table.checksum,
        }

    # -- hooks -------------------------------------------------------------------------
    def _query(
        self,
        keys: np.ndarray,
        task: str,
        fidelity: int,
        metric: str,
        rng: np.random.Generator | None,
    ) -> np.ndarray:
        prepared = self._task(task)
        f, m = self._fidelity(prepared, task, fidelity), self._metric(prepared, task, metric)
        rows = self._rows(keys)[0]
        count = prepared.count[rows, f, m]
        if (count == 0).any():
            missing = keys[count == 0][:5].tolist()
            raise KeyError(
                f"no recorded {metric} at {fidelity} epochs on {task} for keys {missing}"
            )
        if rng is None:
            return prepared.mean[rows, f, m].astype(np.float64)
        seeds = (rng.random(rows.size) * count).astype(np.int64)
        return prepared.packed[rows, f, m, seeds].astype(np.float64)

    def _cost(self, keys: np.ndarray, task: str, fidelity: int) -> np.ndarray:
        prepared = self._task(task)
        rows = self._rows(keys)[0]
        return prepared.data.cost_s[rows, self._fidelity(prepared, task, fidelity)].astype(
            np.float64
        )

    # -- helpers -----------------------------------------------------------------------
    def _rows(self, keys: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
        """Rows and validated keys; ``KeyError`` for keys outside the space or table."""
        keys = np.atleast_1d(self.space.validate_keys(keys))
        rows = self._row_of_key[keys]
        if (rows < 0).any():
            missing = keys[rows < 0][:5].tolist()
            raise KeyError(
                f"architectures with keys {missing} are not in this table ({self.table.num_archs}"
                f" of the {self.space.size} of {self.space.name!r}): search its measured "
                "networks only (tabular_bench.tabular.measured_only, or completion: measured "
                "in the benchmark config) or complete it with SurrogateBenchmark "
                "(completion: surrogate)"
            )
        return rows, keys

    def _task(self, task: str) -> _Prepared:
        """Prepared arrays of ``task``, built on first use (keeps loading fast)."""
        if task not in self.table.tasks:
            raise KeyError(f"unknown task {task!r}; this benchmark has {self.tasks}")
        if task not in self._prepared:
            self._prepared[task] = _prepare(self.table.tasks[task])
        return self._prepared[task]

    @staticmethod
    def _fidelity(prepared: _Prepared, task: str, fidelity: int) -> int:
        if fidelity not in prepared.data.fidelities:
            raise KeyError(
                f"task {task!r} has fidelities {prepared.data.fidelities}, not {fidelity!r}"
            )
        return prepared.data.fidelities.index(fidelity)

    @staticmethod
    def _metric(prepared: _Prepared, task: str, metric: str) -> int:
        if metric not in prepared.data.metrics:
            raise KeyError(f"task {task!r} has metrics {prepared.data.metrics}, not {metric!r}")
        return prepared.data.metrics.index(metric)


def measured_only(
    table: Table, *, tasks: tuple[str, ...] | None = None, space: SearchSpace | None = None
) -> TabularBenchmark:
    """The table's networks measured on every one of ``tasks`` (default: all), as a space.

    The subset's keys number those networks; traces still show the full space's official
    index. A search over it never meets an unmeasured network.
    """
    parent = space_named(table.space) if space is None else space
    tasks = tuple(table.tasks) if tasks is None else tuple(tasks)
    unknown = set(tasks) - set(table.tasks)
    if unknown:
        raise KeyError(f"unknown tasks {sorted(unknown)}; the table has {list(table.tasks)}")
    rows = np.flatnonzero(np.logical_and.reduce([table.tasks[t].measured for t in tasks]))
    if rows.size == 0:
        raise ValueError(f"no network of the table is measured on all of {tasks}")
    rows = rows[np.argsort(parent.keys(table.codes[rows]), kind="stable")]
    subset = SubsetSpace(parent, parent.keys(table.codes[rows]), name=f"{parent.name}:measured")
    sub = Table(
        space=table.space,
        codes=table.codes[rows],
        strings=table.strings[rows],
        indices=table.indices[rows],
        tasks={
            name: replace(
                data, values=data.values[rows], cost_s=data.cost_s[rows],
                measured=data.measured[rows],
            )
            for name, data in table.tasks.items() if name in tasks
        },
        provenance=table.provenance,
    )
    return TabularBenchmark(sub, subset)


def _prepare(data: TaskData) -> _Prepared:
    values = np.moveaxis(data.values, 1, -1)  # (n, fidelities, metrics, seeds)
    recorded = ~np.isnan(values)
    count = recorded.sum(axis=-1)
    if (recorded[..., 1:] <= recorded[..., :-1]).all():  # importers write seeds first
        packed = values
    else:
        order = np.argsort(~recorded, axis=-1, kind="stable")
        packed = np.take_along_axis(values, order, axis=-1)
    return _Prepared(data=data, mean=data.seed_mean(), packed=packed, count=count)
