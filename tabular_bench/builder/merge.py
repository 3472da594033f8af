"""Merge a build's unit files into one table in the store's format (:mod:`tabular_bench.store`).

Rows are the trained cells in key order; fidelities are epochs ``1..E``; seeds are the
protocol's. Metrics per epoch: ``train_loss``, ``train_acc``, ``valid_loss``,
``valid_acc``; ``test_loss`` and ``test_acc`` at the last epoch only (NaN before);
``params_m`` and ``flops_m`` (millions) at every epoch, as syne-tune's NAS-Bench-201
blackbox keeps them among its objectives. ``cost_s[row, e]`` is the mean over seeds of the
training time of the first ``e`` epochs, on the units' clock (CPU seconds of a CPU build,
wall seconds of a GPU build: :func:`~tabular_bench.builder.train.cost_clock`). The
table's space is the protocol's (``protocol.json``'s ``space``, NB201 when absent) and
``archs/index`` holds each cell's official index in it
(:meth:`~tabular_bench.spaces.SearchSpace.official_index`: NB201's published index), so
built and published tables name a cell alike.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from tabular_bench.builder.protocol import space_of_record
from tabular_bench.builder.shards import PROTOCOL_FILE, UNITS_DIR
from tabular_bench.store import Provenance, Table, TaskData, write_table

EPOCH_METRICS = ("train_loss", "train_acc", "valid_loss", "valid_acc")
FINAL_METRICS = ("test_loss", "test_acc")
STATIC_METRICS = ("params_m", "flops_m")
METRICS = EPOCH_METRICS + FINAL_METRICS + STATIC_METRICS


def merge(out_dir: str | Path) -> Table:
    """Read every unit file under ``out_dir`` into a :class:`Table`."""
    out_dir = Path(out_dir)
    protocol_file = out_dir / PROTOCOL_FILE
    files = sorted((out_dir / UNITS_DIR).glob("*/*.json"))
    if not protocol_file.exists() or not files:
        raise FileNotFoundError(
            f"no finished units in {out_dir}: run `python -m metanas.run "
            f"experiment=table_build_cpu job.build_dir={out_dir}` first"
        )
    protocol = json.loads(protocol_file.read_text())
    space = space_of_record(protocol)
    seeds, epochs = list(protocol["seeds"]), int(protocol["epochs"])
    digest = hashlib.sha256()
    records = []
    for path in files:
        text = path.read_bytes()
        digest.update(path.relative_to(out_dir).as_posix().encode() + b"\0" + text)
        records.append(json.loads(text))
    keys = np.unique([r["key"] for r in records])
    row_of = {int(k): i for i, k in enumerate(keys)}
    task_names = sorted({r["task"] for r in records})
    shape = (len(keys), len(seeds), epochs, len(METRICS))
    values = {t: np.full(shape, np.nan, dtype=np.float32) for t in task_names}
    times = {t: np.full((len(keys), len(seeds), epochs), np.nan) for t in task_names}
    for r in records:
        row, seed = row_of[r["key"]], seeds.index(r["seed"])
        block = values[r["task"]][row, seed]
        for m, name in enumerate(EPOCH_METRICS):
            block[:, m] = r[name]
        for m, name in enumerate(FINAL_METRICS, start=len(EPOCH_METRICS)):
            block[-1, m] = r[name]
        for m, name in enumerate(STATIC_METRICS, start=len(EPOCH_METRICS) + len(FINAL_METRICS)):
            block[:, m] = r[name]
        times[r["task"]][row, seed] = r["epoch_time_s"]
    tasks = {}
    for name in task_names:
        trained = ~np.isnan(times[name]).all(axis=(1, 2))
        cost = _cumulative_cost(times[name], trained)
        tasks[name] = TaskData(
            values=values[name],
            metrics=METRICS,
            fidelities=tuple(range(1, epochs + 1)),
            cost_s=cost.astype(np.float32),
            measured=trained,
        )
    return Table(
        space=space.name,
        codes=space.codes(keys),
        strings=np.asarray(space.strings(keys)),
        indices=space.official_index(keys),
        tasks=tasks,
        provenance=Provenance(
            source_file=str(out_dir.resolve()),
            source_sha256=digest.hexdigest(),
            importer="tabular_bench.builder.merge",
        ),
    )


def _cumulative_cost(times: np.ndarray, trained: np.ndarray) -> np.ndarray:
    """Cumulative epoch time, mean over seeds; NaN rows for cells not trained on the task."""
    cost = np.full(times.shape[::2], np.nan)
    cost[trained] = np.nanmean(np.cumsum(times[trained], axis=2), axis=1)
    return cost


def merge_to_file(out_dir: str | Path, table_path: str | Path) -> Path:
    """Merge and write the table atomically."""
    return write_table(merge(out_dir), table_path)
