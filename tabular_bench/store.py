"""Benchmark tables in memory (:class:`Table`) and on disk (HDF5).

On-disk schema (``SCHEMA_VERSION`` 2), modelled on syne-tune's blackbox layout::

    /                      attrs: schema_version (int), space (e.g. "nb201"),
                                  tasks (task names in table order),
                                  source_file, source_sha256, importer, created (ISO 8601),
                                  checksum (sha256 of every array below and of the space,
                                  task, metric and fidelity attributes, see _checksum)
    /archs/code            (n, E) int8     op index per edge, rows in table order
    /archs/string          (n,)   bytes    official architecture string (ASCII)
    /archs/index           (n,)   int32    official index of each row: the space's published
                                           order (NAS-Bench-201's for nb201; the key for a
                                           space without one, see CellSearchSpace.official_index)
    /tasks/<task>/values   (n, n_seeds, n_fidelities, n_metrics) float32, NaN = missing
                           attrs: metrics (e.g. ["valid_acc", "test_acc"]),
                                  fidelities (epochs, e.g. [12, 200])
    /tasks/<task>/cost_s   (n, n_fidelities) float32  simulated seconds of one evaluation
                           (training to that many epochs): the source's wall-clock
                           times, or a CPU build's CPU seconds
                           attrs: cost_unit ("queries" where the source records no
                                  training time and every evaluation costs 1; absent
                                  means "simulated_s")
    /tasks/<task>/measured (n,) bool   False where a surrogate, not training, gave the row

Accuracies are in percent. Where a source records only the mean over seeds, the mean is
stored as seed 0 and the other seeds are NaN. Writes are atomic
(:func:`common_io.atomic_io.atomic_write`); reads verify the checksum, so a truncated
or corrupt file raises :class:`TableCorruptError` instead of returning wrong numbers.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

import h5py
import numpy as np

from common_io.atomic_io import atomic_write

SCHEMA_VERSION = 2
COST_UNITS = ("simulated_s", "queries")


class TableCorruptError(OSError):
    """A table file is unreadable, truncated or fails its checksum."""


@dataclass(frozen=True)
class Provenance:
    """Where a table came from."""

    source_file: str
    source_sha256: str
    importer: str
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))


@dataclass(frozen=True)
class TaskData:
    """One task's objectives: ``values[arch, seed, fidelity, metric]``."""

    values: np.ndarray
    metrics: tuple[str, ...]
    fidelities: tuple[int, ...]
    cost_s: np.ndarray
    measured: np.ndarray
    cost_unit: str = COST_UNITS[0]
    """What ``cost_s`` counts: simulated seconds, or ``queries`` (a source without training
    times charges 1 per evaluation, and budgets and reports must say so)."""

    def __post_init__(self) -> None:
        if self.cost_unit not in COST_UNITS:
            raise ValueError(f"cost_unit must be one of {COST_UNITS}, got {self.cost_unit!r}")
        n, _, n_fid, n_met = self.values.shape
        if n_fid != len(self.fidelities) or n_met != len(self.metrics):
            raise ValueError(
                f"values shape {self.values.shape} does not match fidelities "
                f"{self.fidelities} and metrics {self.metrics}"
            )
        if self.cost_s.shape != (n, n_fid) or self.measured.shape != (n,):
            raise ValueError(
                f"cost_s {self.cost_s.shape} / measured {self.measured.shape} must be "
                f"({n}, {n_fid}) / ({n},)"
            )

    def seed_mean(self) -> np.ndarray:
        """Mean over recorded seeds, ``(n, fidelities, metrics)`` float64; NaN where none."""
        recorded = ~np.isnan(self.values)
        count = recorded.sum(axis=1)
        total = np.where(recorded, self.values, 0.0).sum(axis=1, dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, total / count, np.nan)


@dataclass(frozen=True)
class Table:
    """Architectures of one space and their objectives per task."""

    space: str
    codes: np.ndarray
    strings: np.ndarray
    """Official architecture strings, ``str`` or ASCII ``bytes`` (as read from disk)."""
    indices: np.ndarray
    tasks: dict[str, TaskData]
    provenance: Provenance

    def __post_init__(self) -> None:
        n = self.codes.shape[0]
        if self.strings.shape != (n,) or self.indices.shape != (n,):
            raise ValueError("codes, strings and indices must describe the same rows")
        for name, task in self.tasks.items():
            if task.values.shape[0] != n:
                raise ValueError(f"task {name!r} has {task.values.shape[0]} rows, not {n}")

    @property
    def num_archs(self) -> int:
        return int(self.codes.shape[0])

    @cached_property
    def checksum(self) -> str:
        """sha256 of the stored arrays (the file's ``checksum`` attribute once written)."""
        return _checksum(_arrays(self), _layout(self.space, self.tasks))


def write_table(table: Table, path: str | Path) -> Path:
    """Write ``table`` to ``path`` atomically; returns the path."""
    arrays = _arrays(table)

    def write(tmp: Path) -> None:
        with h5py.File(tmp, "w") as f:
            f.attrs["schema_version"] = SCHEMA_VERSION
            f.attrs["space"] = table.space
            f.attrs["tasks"] = list(table.tasks)
            for key, value in vars(table.provenance).items():
                f.attrs[key] = value
            f.attrs["checksum"] = _checksum(arrays, _layout(table.space, table.tasks))
            for name, array in arrays.items():
                f.create_dataset(name, data=array)
            for name, task in table.tasks.items():
                group = f[f"tasks/{name}"]
                group.attrs["metrics"] = list(task.metrics)
                group.attrs["fidelities"] = np.asarray(task.fidelities, dtype=np.int64)
                if task.cost_unit != COST_UNITS[0]:
                    group.attrs["cost_unit"] = task.cost_unit

    return atomic_write(path, write)


def read_table(path: str | Path) -> Table:
    """Read and verify a table written by :func:`write_table`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"no table file at {path}; create one with "
            f"`python -m tabular_bench.importers nb201-csv <csv> {path}`"
        )
    try:
        with h5py.File(path, "r") as f:
            version = int(f.attrs["schema_version"])
            if version != SCHEMA_VERSION:
                raise TableCorruptError(
                    f"{path} has table schema {version}, this code reads {SCHEMA_VERSION}: "
                    f"re-import it ({_REIMPORT_HINT})"
                )
            arrays = {name: f[name][()] for name in _dataset_names(f)}
            task_attrs = {
                name: (
                    tuple(str(m) for m in g.attrs["metrics"]),
                    tuple(int(e) for e in g.attrs["fidelities"]),
                    str(g.attrs.get("cost_unit", COST_UNITS[0])),
                )
                for name, g in ((t, f[f"tasks/{t}"]) for t in f.attrs["tasks"])
            }
            space = str(f.attrs["space"])
            stored_checksum = str(f.attrs["checksum"])
            provenance = Provenance(**{k: str(f.attrs[k]) for k in Provenance.__dataclass_fields__})
    except (OSError, KeyError, ValueError) as err:
        if isinstance(err, TableCorruptError):
            raise
        raise TableCorruptError(
            f"cannot read table {path} ({err}); the file is truncated or corrupt: "
            f"delete it and re-import ({_REIMPORT_HINT})"
        ) from err
    layout = {
        "space": space,
        "tasks": {t: _task_layout(m, e, unit) for t, (m, e, unit) in task_attrs.items()},
    }
    if _checksum(arrays, layout) != stored_checksum:
        raise TableCorruptError(
            f"checksum mismatch in {path}: the file is corrupt; delete it and re-import "
            f"({_REIMPORT_HINT})"
        )
    tasks = {
        name: TaskData(
            values=arrays[f"tasks/{name}/values"],
            metrics=metrics,
            fidelities=fidelities,
            cost_s=arrays[f"tasks/{name}/cost_s"],
            measured=arrays[f"tasks/{name}/measured"],
            cost_unit=cost_unit,
        )
        for name, (metrics, fidelities, cost_unit) in task_attrs.items()
    }
    return Table(
        space=space,
        codes=arrays["archs/code"],
        strings=arrays["archs/string"],
        indices=arrays["archs/index"].astype(np.int64),
        tasks=tasks,
        provenance=provenance,
    )


def file_sha256(path: str | Path) -> str:
    """sha256 of a file's bytes (provenance and cache keys)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_REIMPORT_HINT = "python -m tabular_bench.importers {nb201-csv|nats} SRC DST.h5"


def _arrays(table: Table) -> dict[str, np.ndarray]:
    arrays = {
        "archs/code": np.asarray(table.codes, dtype=np.int8),
        "archs/string": np.asarray(table.strings).astype("S"),
        "archs/index": np.asarray(table.indices, dtype=np.int32),
    }
    for name, task in table.tasks.items():
        arrays[f"tasks/{name}/values"] = np.asarray(task.values, dtype=np.float32)
        arrays[f"tasks/{name}/cost_s"] = np.asarray(task.cost_s, dtype=np.float32)
        arrays[f"tasks/{name}/measured"] = np.asarray(task.measured, dtype=bool)
    return arrays


def _dataset_names(f: h5py.File) -> list[str]:
    names = ["archs/code", "archs/string", "archs/index"]
    for task in f.attrs["tasks"]:
        names += [f"tasks/{task}/{part}" for part in ("values", "cost_s", "measured")]
    return names


def _layout(space: str, tasks: dict[str, TaskData]) -> dict:
    """The attributes that say what the arrays mean (an edited ``fidelities`` changes results)."""
    return {
        "space": space,
        "tasks": {t: _task_layout(d.metrics, d.fidelities, d.cost_unit) for t, d in tasks.items()},
    }


def _task_layout(metrics: tuple[str, ...], fidelities: tuple[int, ...], cost_unit: str) -> list:
    """One task's layout entry; the default cost unit adds nothing, so tables written
    before units existed keep their checksum."""
    entry: list = [list(metrics), [int(e) for e in fidelities]]
    return entry if cost_unit == COST_UNITS[0] else [*entry, cost_unit]


def _checksum(arrays: dict[str, np.ndarray], layout: dict) -> str:
    """sha256 over the layout attributes (task order included), then every array's name,
    dtype, shape and bytes, in name order."""
    digest = hashlib.sha256()
    digest.update(json.dumps(layout).encode())
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.view(np.uint8).reshape(-1))
    return digest.hexdigest()
