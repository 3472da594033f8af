"""Import the official TransNAS-Bench-101 file (``transnas-bench_v10141024.pth``).

The file (github.com/yawen-d/TransNASBench, ``api_home/``) is a ``torch.save``-d dict::

    {"metrics_dict": {task: [metric, ...]}, "info_names": [...], "task_list": [...],
     "data": {"macro" | "micro": {arch_string: {task: {"total_epochs": int,
              "model_info": {...}, "metrics": {metric: [value per epoch]}}}}}}

One table per space. Every metric of a task except ``time_elapsed`` is stored at its final
epoch (the API's ``mode="final"``, fidelity :data:`FINAL_EPOCH`), the metric NASLib reads
as the task's validation accuracy first (so tables from this file and from NASLib's
zero-cost file agree on what a search sees). Costs are 1 per evaluation, as for the
zero-cost files, so budgets count queries.
"""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path

import numpy as np

from tabular_bench.importers.naslib_zc import FINAL_EPOCH, _transnas_metric
from tabular_bench.spaces import TRANSNAS_MACRO, TRANSNAS_MICRO
from tabular_bench.store import Provenance, Table, TaskData, file_sha256

SPACES = {"micro": TRANSNAS_MICRO, "macro": TRANSNAS_MACRO}
SKIPPED = frozenset({"time_elapsed"})
ORIGIN = "the TransNAS-Bench-101 release (github.com/yawen-d/TransNASBench, api_home/)"


def import_transnas_api(path: str | Path, *, space: str) -> Table:
    """Read ``space`` (``"micro"`` or ``"macro"``) of the official ``.pth`` into a table."""
    if space not in SPACES:
        raise ValueError(f"TransNAS-Bench-101 spaces are {sorted(SPACES)}, got {space!r}")
    path = Path(path)
    database = _load(path)
    try:
        archs = database["data"][space]
        metrics_of_task = database["metrics_dict"]
    except (KeyError, TypeError) as err:
        raise ValueError(
            f"{path} is not a TransNAS-Bench-101 API file (missing {err}); it comes from {ORIGIN}"
        ) from None
    target = SPACES[space]
    names = list(archs)
    keys = target.keys_from_strings(names)
    order = np.argsort(keys, kind="stable")
    keys, names = keys[order], [names[i] for i in order]
    tasks = {}
    for task in database.get("task_list", list(metrics_of_task)):
        primary = _transnas_metric(task)
        stored = [m for m in metrics_of_task[task] if m not in SKIPPED]
        if primary not in stored:
            raise ValueError(f"{path}: task {task} records {stored}, not {primary}")
        stored.remove(primary)
        metrics = (primary, *stored)
        values = np.full((len(names), 1, 1, len(metrics)), np.nan, dtype=np.float32)
        for row, name in enumerate(names):
            result = archs[name].get(task)
            if result is None:
                continue
            curves = result["metrics"]
            values[row, 0, 0] = [curves[m][-1] if len(curves.get(m, ())) else np.nan
                                 for m in metrics]
        tasks[task] = TaskData(
            values=values,
            metrics=metrics,
            fidelities=(FINAL_EPOCH,),
            cost_s=np.ones((len(names), 1), dtype=np.float32),
            measured=~np.isnan(values[:, 0, 0, 0]),
        )
    return Table(
        space=target.name,
        codes=target.codes(keys),
        strings=np.asarray(target.strings(keys)),
        indices=target.official_index(keys),
        tasks=tasks,
        provenance=Provenance(
            source_file=path.name, source_sha256=file_sha256(path), importer=f"transnas_api:{space}"
        ),
    )


def _load(path: Path) -> dict:
    """The file's dict; plain containers load without unpickling code."""
    import torch

    if not path.is_file():
        raise FileNotFoundError(f"no TransNAS-Bench-101 file at {path}; it comes from {ORIGIN}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        warnings.warn(
            f"{path} holds objects beyond plain containers ({err}); loading it with full "
            "unpickling, as the official API does: only do this with the official file",
            stacklevel=3,
        )
        return torch.load(path, map_location="cpu", weights_only=False)
