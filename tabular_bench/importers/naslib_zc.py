"""Import NASLib's zero-cost benchmark files (``zc_*.json``) into a :class:`Table`.

NASLib (automl/NASLib, ``naslib/data/``) publishes, per search space, ``{task: {arch: record}}``
where ``arch`` is a tuple written as a string and each record holds ``val_accuracy`` (the
task's final validation metric), ``flops`` and ``params`` (M) and zero-cost proxy scores
(``{"score", "time"}``). Each space's format (:data:`FORMATS`) says how its tuples map to
our codes and what its ``val_accuracy`` measures:

* TransNAS-Bench-101 (``zc_transbench101_{micro,macro}.json``), metric per task as NASLib
  reads it from the official API: ``valid_top1`` (class_scene, class_object, jigsaw, %),
  ``valid_acc`` (segmentsemantic pixel accuracy, %), ``valid_ssim`` (autoencoder, normal),
  ``valid_neg_loss`` (room_layout, negative L2 loss); fidelity :data:`FINAL_EPOCH`.
* NAS-Bench-201 (``naslib_zc_nasbench201.json``): ``valid_acc`` (%) after 200 epochs.

Stored metrics: the task metric first, then ``valid_norm`` (the task metric min-max scaled
over the task's records: 0 the worst network of the file, 1 the best), ``flops``, ``params``
and ``zc_<proxy>`` for every proxy. ``valid_norm`` is what a protocol that crosses tasks
reads (leave-one-task-out transfer): one metric name with one scale on tasks that measure
accuracy, SSIM or loss. NASLib writes ``-1e8`` where a proxy failed (``epe_nas`` on TransNAS); those
are stored as missing (NaN). The files record no training time, so ``cost_s`` is 1 per
evaluation and search budgets count queries. A network absent from a task's records is
unmeasured there (``measured`` False).
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tabular_bench.benchmark import metric_spec
from tabular_bench.spaces import NB201, TRANSNAS_MACRO, TRANSNAS_MICRO, SearchSpace
from tabular_bench.store import Provenance, Table, TaskData, file_sha256

FINAL_EPOCH = -1
"""Fidelity of a value recorded at the end of a task's own schedule (the official
TransNAS-Bench API's ``mode="final"``); the files do not say how many epochs that is."""
FAILED = -1e8
"""NASLib's score of a proxy that failed to compute."""
ORIGIN = "NASLib's zero-cost release (automl/NASLib, naslib/data/zc_*.json)"

NORMALISED = "valid_norm"
"""The task's validation metric scaled to [0, 1] over the task's records (1 = best)."""

_TRANSNAS_METRIC = {
    "class_scene": "valid_top1",
    "class_object": "valid_top1",
    "jigsaw": "valid_top1",
    "segmentsemantic": "valid_acc",
    "autoencoder": "valid_ssim",
    "normal": "valid_ssim",
    "room_layout": "valid_neg_loss",
}


@dataclass(frozen=True)
class ZeroCostFormat:
    """How one space's ``zc_*.json`` reads: its space, its tuples, its task metrics."""

    space: SearchSpace
    to_codes: Callable[[np.ndarray], np.ndarray]
    metric_of_task: Callable[[str], str]
    fidelity: int


def _transnas_metric(task: str) -> str:
    try:
        return _TRANSNAS_METRIC[task]
    except KeyError:
        raise ValueError(
            f"unknown TransNAS-Bench-101 task {task!r}; known: {', '.join(_TRANSNAS_METRIC)}"
        ) from None


FORMATS = {
    "nb201": ZeroCostFormat(NB201, NB201.from_naslib, lambda task: "valid_acc", 200),
    "transnas_micro": ZeroCostFormat(
        TRANSNAS_MICRO, TRANSNAS_MICRO.from_naslib, _transnas_metric, FINAL_EPOCH
    ),
    "transnas_macro": ZeroCostFormat(
        TRANSNAS_MACRO, lambda archs: archs, _transnas_metric, FINAL_EPOCH
    ),
}


def import_zero_cost(path: str | Path, *, space: str) -> Table:
    """Read a NASLib ``zc_*.json`` of ``space`` (a :data:`FORMATS` key) into a table."""
    if space not in FORMATS:
        raise ValueError(
            f"no NASLib zero-cost format for space {space!r}; known: {sorted(FORMATS)}"
        )
    fmt, path = FORMATS[space], Path(path)
    try:
        raw = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(f"cannot read NASLib zero-cost file {path}: {err}") from err
    if not isinstance(raw, dict) or not raw or not all(isinstance(v, dict) for v in raw.values()):
        raise ValueError(f"{path}: expected {{task: {{arch: record}}}} as in {ORIGIN}")
    arch_keys = sorted({a for records in raw.values() for a in records})
    try:
        archs = np.array([ast.literal_eval(a) for a in arch_keys], dtype=np.int64)
        keys = fmt.space.keys(fmt.to_codes(archs))
    except (ValueError, SyntaxError) as err:
        raise ValueError(f"{path}: arch keys are not {fmt.space.name} tuples: {err}") from err
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    if np.unique(keys).size != keys.size:
        raise ValueError(f"{path}: two arch tuples name the same {fmt.space.name} network")
    row_of_arch = {arch_keys[i]: row for row, i in enumerate(order)}
    tasks = {
        task: _task_data(records, row_of_arch, fmt.metric_of_task(task), fmt.fidelity, path)
        for task, records in raw.items()
    }
    return Table(
        space=fmt.space.name,
        codes=fmt.space.codes(keys),
        strings=np.asarray(fmt.space.strings(keys)),
        indices=fmt.space.official_index(keys),
        tasks=tasks,
        provenance=Provenance(
            source_file=path.name,
            source_sha256=file_sha256(path),
            importer=f"naslib_zc:{space}",
        ),
    )


def _task_data(
    records: dict, row_of_arch: dict[str, int], metric: str, fidelity: int, path: Path
) -> TaskData:
    proxies = sorted(
        {k for r in records.values() for k, v in r.items() if isinstance(v, dict)}
        - {"flops", "params"}
    )
    metrics = (metric, NORMALISED, "flops", "params", *(f"zc_{p}" for p in proxies))
    values = np.full((len(row_of_arch), 1, 1, len(metrics)), np.nan, dtype=np.float32)
    for arch, record in records.items():
        if "val_accuracy" not in record:
            raise ValueError(f"{path}: record {arch} has no val_accuracy")
        row = [record["val_accuracy"], np.nan] + [
            record.get(name, {}).get("score", np.nan) for name in ("flops", "params", *proxies)
        ]
        values[row_of_arch[arch], 0, 0] = np.asarray(row, dtype=np.float64)
    values[values == FAILED] = np.nan
    measured = ~np.isnan(values[:, 0, 0, 0])
    values[:, 0, 0, 1] = _min_max(values[:, 0, 0, 0], metric)
    return TaskData(
        values=values,
        metrics=metrics,
        fidelities=(fidelity,),
        cost_s=np.ones((len(row_of_arch), 1), dtype=np.float32),
        measured=measured,
        cost_unit="queries",
    )


def _min_max(values: np.ndarray, metric: str) -> np.ndarray:
    """``values`` scaled to [0, 1] over the recorded ones, 1 the best (by the metric's
    direction); NaN stays NaN, and a task whose records all tie scores 1 (all are best)."""
    low, high = np.nanmin(values), np.nanmax(values)
    if not high > low:
        return np.where(np.isnan(values), np.nan, 1.0)
    scaled = (values - low) / (high - low)
    return scaled if metric_spec(metric).higher_is_better else 1.0 - scaled
