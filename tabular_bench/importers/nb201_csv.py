"""Import the shared NAS-Bench-201 CSV (``nb201/nb201_all.csv.gz``) into a :class:`Table`.

Tasks, as in NAS-Bench-201 (accuracies in percent, fidelities 12 and 200 epochs):

* ``cifar10-valid``: ``valid_acc``, per seed at 200 epochs, seed mean at 12; trained on
  25k of CIFAR-10's 50k training images, so an epoch costs half the recorded 50k-image
  ``cifar10/train_time_epoch_s``.
* ``cifar10`` (trained on all 50k): ``test_acc``, seed means.
* ``cifar100``, ``ImageNet16-120``: ``valid_acc`` per seed at 200 epochs and mean at 12;
  ``test_acc`` means.

Cost of one evaluation = epochs x per-epoch training time. The CSV has no per-seed values
at 12 epochs and no per-seed test accuracies, so drawing a seed there returns the mean.
"""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import numpy as np

from tabular_bench.data_dir import DataNotFoundError
from tabular_bench.spaces.nb201 import NB201
from tabular_bench.store import Provenance, Table, TaskData, file_sha256

NB201_ORIGIN = (
    "the NAS-Bench-201 / NATS-Bench topology results (https://github.com/D-X-Y/NATS-Bench): "
    "the shared table nb201_all.csv.gz is an export of NATS-tss-v1_0-3ffb9-simple. With "
    "that archive, pass its directory instead (tabular_bench.loaders.nb201(path=DIR)) or "
    "convert it once: python -m tabular_bench.importers nats DIR nb201.h5"
)
FIDELITIES = (12, 200)
_DATASET_OF_TASK = {
    "cifar10-valid": "cifar10",
    "cifar10": "cifar10",
    "cifar100": "cifar100",
    "ImageNet16-120": "ImageNet16-120",
}
_METRICS_OF_TASK = {
    "cifar10-valid": ("valid_acc",),
    "cifar10": ("test_acc",),
    "cifar100": ("valid_acc", "test_acc"),
    "ImageNet16-120": ("valid_acc", "test_acc"),
}
_TRAIN_FRACTION = {"cifar10-valid": 0.5}
"""Share of the recorded epoch's images the task trains on (25k of 50k for cifar10-valid)."""


def import_csv(path: str | Path) -> Table:
    """Read the shared CSV into a table whose rows follow the official index."""
    path = Path(path)
    columns, lines = _read_columns(path)
    index = np.asarray(columns["index"], dtype=np.int64)
    if not np.array_equal(index, np.arange(index.size)):
        raise ValueError(f"{path}: rows must be in official index order 0..n-1")
    codes = _digits(columns["code"], NB201.num_edges, path, lines)
    strings = np.asarray(columns["arch"])
    expected = NB201.strings(NB201.keys(codes))
    if list(strings) != expected:
        bad = int(np.flatnonzero(strings != np.asarray(expected))[0])
        raise ValueError(
            f"{path}:{lines[bad]}: arch {strings[bad]!r} does not match code {codes[bad]}"
        )
    tasks = {task: _task(columns, task, len(index)) for task in _DATASET_OF_TASK}
    provenance = Provenance(
        source_file=str(path.resolve()),
        source_sha256=file_sha256(path),
        importer="tabular_bench.importers.nb201_csv",
    )
    return Table(NB201.name, codes, strings, index, tasks, provenance)


def _read_columns(path: Path) -> tuple[dict[str, list[str]], list[int]]:
    """Columns by header name, and the file line number of each data row (for errors)."""
    if not path.is_file():
        raise DataNotFoundError(f"no NAS-Bench-201 CSV at {path}; it comes from {NB201_ORIGIN}")
    opener = gzip.open if path.suffix == ".gz" else open
    rows, lines = [], []
    try:
        with opener(path, "rt", newline="") as f:
            reader = csv.reader(f)
            header = next(reader)
            for row in reader:
                if len(row) != len(header):
                    raise ValueError(
                        f"{path}:{reader.line_num}: {len(row)} fields, but the header has "
                        f"{len(header)}; the file is truncated or corrupt"
                    )
                rows.append(row)
                lines.append(reader.line_num)
    except (OSError, EOFError, StopIteration, csv.Error) as err:
        raise ValueError(f"cannot read NAS-Bench-201 CSV {path}: {err}") from err
    missing = {"index", "arch", "code"} - set(header)
    if missing:
        raise ValueError(f"{path} lacks columns {sorted(missing)}; is it nb201_all.csv.gz?")
    return {name: [row[i] for row in rows] for i, name in enumerate(header)}, lines


def _task(columns: dict[str, list[str]], task: str, n: int) -> TaskData:
    dataset, metrics = _DATASET_OF_TASK[task], _METRICS_OF_TASK[task]
    seeds = _column(columns, f"{dataset}/valid_acc_200_seeds")
    counts = np.array([cell.count(";") + 1 for cell in seeds])
    rows = np.repeat(np.arange(n), counts)
    slots = np.arange(rows.size) - np.repeat(np.cumsum(counts) - counts, counts)
    per_seed = np.asarray(";".join(seeds).split(";"), dtype=np.float64)
    values = np.full((n, counts.max(), len(FIDELITIES), len(metrics)), np.nan, dtype=np.float32)
    for m, metric in enumerate(metrics):
        if metric == "valid_acc":
            values[rows, slots, 1, m] = per_seed
            values[:, 0, 0, m] = _floats(columns, f"{dataset}/valid_acc_12")
        else:
            values[:, 0, 0, m] = _floats(columns, f"{dataset}/test_acc_12")
            values[:, 0, 1, m] = _floats(columns, f"{dataset}/test_acc_200")
    epoch_s = _floats(columns, f"{dataset}/train_time_epoch_s") * _TRAIN_FRACTION.get(task, 1.0)
    cost = epoch_s[:, None] * np.asarray(FIDELITIES, dtype=np.float64)[None, :]
    return TaskData(
        values=values,
        metrics=metrics,
        fidelities=FIDELITIES,
        cost_s=cost.astype(np.float32),
        measured=np.ones(n, dtype=bool),
    )


def _digits(cells: list[str], width: int, path: Path, lines: list[int]) -> np.ndarray:
    """``["0123", ...]`` -> int64 op indices shaped ``(n, width)``, each checked."""
    valid = set("".join(str(op) for op in range(NB201.num_ops)))
    for cell, line in zip(cells, lines):
        if len(cell) != width or not set(cell) <= valid:
            raise ValueError(
                f"{path}:{line}: code {cell!r} is not {width} op digits in "
                f"0..{NB201.num_ops - 1} ({', '.join(NB201.op_names)})"
            )
    digits = np.frombuffer("".join(cells).encode(), dtype=np.uint8).reshape(-1, width)
    return digits.astype(np.int64) - ord("0")


def _column(columns: dict[str, list[str]], name: str) -> list[str]:
    if name not in columns:
        raise ValueError(f"NAS-Bench-201 CSV lacks column {name!r}")
    return columns[name]


def _floats(columns: dict[str, list[str]], name: str) -> np.ndarray:
    return np.asarray(_column(columns, name), dtype=np.float64)
