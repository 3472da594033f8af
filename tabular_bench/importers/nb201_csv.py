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

from common_io.data_dir import DataNotFoundError
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


def import_csv(path: str | Path, *, complete: bool = True) -> Table:
    """Read the shared CSV into a table whose rows follow the official index.

    Every field is checked (blank or non-numeric fields and accuracies outside [0, 100]
    raise naming file, line and column), so a damaged file never reaches the cache.

    :param complete: require all of NB201's cells (a cut file must not load as a
        smaller space); False only for hand-made test files.
    """
    path = Path(path)
    columns, lines = _read_columns(path)
    index = _floats(columns, "index", path, lines).astype(np.int64)
    if not np.array_equal(index, np.arange(index.size)):
        raise ValueError(f"{path}: rows must be in official index order 0..n-1")
    if complete and index.size != NB201.size:
        raise ValueError(
            f"{path}: {index.size:,} rows, but NAS-Bench-201 has {NB201.size:,} cells; the "
            f"file is truncated: fetch it again ({NB201_ORIGIN})"
        )
    codes = _digits(columns["code"], NB201.num_edges, path, lines)
    strings = np.asarray(columns["arch"])
    expected = NB201.strings(NB201.keys(codes))
    if list(strings) != expected:
        bad = int(np.flatnonzero(strings != np.asarray(expected))[0])
        raise ValueError(
            f"{path}:{lines[bad]}: arch {strings[bad]!r} does not match code {codes[bad]}"
        )
    tasks = {task: _task(columns, task, path, lines) for task in _DATASET_OF_TASK}
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
        with opener(path, "rt", newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None:
                raise ValueError(f"{path} is empty: fetch it again ({NB201_ORIGIN})")
            for row in reader:
                if len(row) != len(header):
                    raise ValueError(
                        f"{path}:{reader.line_num}: {len(row)} fields, but the header has "
                        f"{len(header)}; the file is truncated or corrupt"
                    )
                rows.append(row)
                lines.append(reader.line_num)
    except UnicodeDecodeError as err:
        raise ValueError(
            f"cannot read NAS-Bench-201 CSV {path}: not UTF-8 text (byte "
            f"{err.object[err.start]:#x}); is it the right file?"
        ) from None
    except (OSError, EOFError, csv.Error) as err:
        raise ValueError(f"cannot read NAS-Bench-201 CSV {path}: {err}") from err
    missing = {"index", "arch", "code"} - set(header)
    if missing:
        raise ValueError(f"{path} lacks columns {sorted(missing)}; is it nb201_all.csv.gz?")
    return {name: [row[i] for row in rows] for i, name in enumerate(header)}, lines


def _task(columns: dict[str, list[str]], task: str, path: Path, lines: list[int]) -> TaskData:
    n = len(lines)
    dataset, metrics = _DATASET_OF_TASK[task], _METRICS_OF_TASK[task]
    name = f"{dataset}/valid_acc_200_seeds"
    seeds = _column(columns, name)
    counts = np.array([cell.count(";") + 1 for cell in seeds])
    rows = np.repeat(np.arange(n), counts)
    slots = np.arange(rows.size) - np.repeat(np.cumsum(counts) - counts, counts)
    per_seed = _numbers(";".join(seeds).split(";"), name, path, [lines[r] for r in rows])
    _check_accuracy(per_seed, name, path, [lines[r] for r in rows])

    def accuracy(column: str) -> np.ndarray:
        values = _floats(columns, column, path, lines)
        _check_accuracy(values, column, path, lines)
        return values

    values = np.full((n, counts.max(), len(FIDELITIES), len(metrics)), np.nan, dtype=np.float32)
    for m, metric in enumerate(metrics):
        if metric == "valid_acc":
            values[rows, slots, 1, m] = per_seed
            values[:, 0, 0, m] = accuracy(f"{dataset}/valid_acc_12")
        else:
            values[:, 0, 0, m] = accuracy(f"{dataset}/test_acc_12")
            values[:, 0, 1, m] = accuracy(f"{dataset}/test_acc_200")
    name = f"{dataset}/train_time_epoch_s"
    epoch_s = _floats(columns, name, path, lines)
    if not (np.isfinite(epoch_s) & (epoch_s > 0)).all():
        bad = int(np.flatnonzero(~(np.isfinite(epoch_s) & (epoch_s > 0)))[0])
        raise ValueError(
            f"{path}:{lines[bad]}: column {name!r} is {epoch_s[bad]!r}; training times must "
            "be positive seconds"
        )
    epoch_s = epoch_s * _TRAIN_FRACTION.get(task, 1.0)
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


def _floats(
    columns: dict[str, list[str]], name: str, path: Path, lines: list[int]
) -> np.ndarray:
    return _numbers(_column(columns, name), name, path, lines)


def _numbers(cells: list[str], name: str, path: Path, lines: list[int]) -> np.ndarray:
    """Parse ``cells`` as floats; a blank or non-numeric one raises naming line and column."""
    try:
        return np.asarray(cells, dtype=np.float64)
    except ValueError:
        for cell, line in zip(cells, lines):
            try:
                float(cell)
            except ValueError:
                what = "is blank" if not cell.strip() else f"holds {cell!r}, not a number"
                raise ValueError(f"{path}:{line}: column {name!r} {what}") from None
        raise


def _check_accuracy(values: np.ndarray, name: str, path: Path, lines: list[int]) -> None:
    """Accuracies are percentages: anything outside [0, 100] would become a false optimum."""
    bad = np.flatnonzero(~((values >= 0) & (values <= 100)))
    if bad.size:
        raise ValueError(
            f"{path}:{lines[bad[0]]}: column {name!r} is {values[bad[0]]:g}, outside [0, 100] "
            "(accuracies are percentages)"
        )
