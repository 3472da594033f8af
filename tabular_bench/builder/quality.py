"""How much a built table's rankings can be trusted, task by task, from its unit files.

A ranking that changes with the training seed is noise, not a benchmark. Per task:
the seed-to-seed Kendall tau of final test accuracy over the cells trained with two
seeds, the Kendall tau of the seed-mean against NAS-Bench-201's CIFAR-10 test accuracy
(200 epochs; for a build whose cells are NB201 cells, see :func:`nb201_keys`), and what a
unit cost: wall seconds on the machine that built it, as loaded as it was, and the
process's CPU seconds, which other work on the machine does not inflate.

``python -m tabular_bench.builder quality BUILD_DIR OUT.csv`` writes one row per task.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import kendalltau

from tabular_bench.benchmark import Benchmark
from tabular_bench.builder.protocol import space_of_record
from tabular_bench.builder.shards import PROTOCOL_FILE, UNITS_DIR
from tabular_bench.spaces.base import SearchSpace
from tabular_bench.spaces.cell import CellSearchSpace
from tabular_bench.spaces.nb201 import NB201

COLUMNS = ("distribution", "task", "cells", "seeds", "seed_pairs", "seed_kendall_tau",
           "tau_vs_nb201_cifar10", "unit_seconds", "unit_cpu_seconds")


def read_units(build_dir: str | Path) -> pd.DataFrame:
    """One row per finished unit: ``key, task, seed, valid_acc, test_acc, wall_s, cpu_s``
    (``cpu_s`` NaN for units recorded before it was)."""
    files = sorted((Path(build_dir) / UNITS_DIR).glob("*/*.json"))
    if not files:
        raise FileNotFoundError(f"no unit files under {Path(build_dir) / UNITS_DIR}")
    rows = []
    for path in files:
        record = json.loads(path.read_text())
        rows.append({
            "key": record["key"], "task": record["task"], "seed": record["seed"],
            "valid_acc": record["valid_acc"][-1], "test_acc": record["test_acc"],
            "wall_s": record.get("wall_s", np.nan),
            "cpu_s": record.get("cpu_s", np.nan),
        })
    return pd.DataFrame(rows)


def build_space(build_dir: str | Path) -> CellSearchSpace:
    """The cell space a build's unit keys belong to (its recorded protocol's)."""
    path = Path(build_dir) / PROTOCOL_FILE
    if not path.exists():
        raise FileNotFoundError(f"no {PROTOCOL_FILE} in {build_dir}: not a build folder")
    return space_of_record(json.loads(path.read_text()))


def has_nb201_cells(space: SearchSpace) -> bool:
    """Whether every cell of ``space`` is an NB201 cell: NB201's DAG and only NB201 ops
    (NB201 itself, TransNAS-Bench-101 micro)."""
    return (
        isinstance(space, CellSearchSpace)
        and space.edges == NB201.cell_edges
        and set(space.op_names) <= set(NB201.op_names)
    )


def nb201_keys(keys: np.ndarray, space: SearchSpace) -> np.ndarray | None:
    """NB201 keys of ``space``'s cells ``keys`` (ops matched by name, edge by edge);
    ``None`` unless :func:`has_nb201_cells`."""
    if not has_nb201_cells(space):
        return None
    to_nb201 = np.array([NB201.op_names.index(op) for op in space.op_names])
    return NB201.keys(to_nb201[space.codes(np.asarray(keys, dtype=np.int64))])


def seed_tau(units: pd.DataFrame, metric: str = "test_acc") -> tuple[float, int]:
    """Kendall tau between the two smallest seeds over the cells that have both."""
    seeds = sorted(units["seed"].unique())
    if len(seeds) < 2:
        return float("nan"), 0
    wide = units.pivot_table(index="key", columns="seed", values=metric).dropna(
        subset=seeds[:2])
    if len(wide) < 3:
        return float("nan"), len(wide)
    return float(kendalltau(wide[seeds[0]], wide[seeds[1]]).statistic), len(wide)


def quality(
    units: pd.DataFrame, nb201: Benchmark | None = None, space: SearchSpace = NB201
) -> pd.DataFrame:
    """One row per task with the columns :data:`COLUMNS`.

    :param nb201: the NAS-Bench-201 benchmark; ``None`` leaves ``tau_vs_nb201_cifar10`` NaN.
    :param space: the space of the units' keys (:func:`build_space`); NaN reference tau
        when its cells are not NB201 cells (:func:`nb201_keys`).
    """
    rows = []
    for task, part in units.groupby("task", sort=True):
        tau, pairs = seed_tau(part)
        mean = part.groupby("key")["test_acc"].mean()
        versus = float("nan")
        reference_keys = nb201_keys(mean.index.to_numpy(), space)
        if nb201 is not None and reference_keys is not None and len(mean) >= 3:
            reference = nb201.query(reference_keys, task="cifar10", fidelity=200,
                                    metric="test_acc")
            versus = float(kendalltau(mean.to_numpy(), reference).statistic)
        rows.append({
            "distribution": str(task).split(".", 1)[0], "task": task,
            "cells": part["key"].nunique(), "seeds": part["seed"].nunique(),
            "seed_pairs": pairs, "seed_kendall_tau": tau, "tau_vs_nb201_cifar10": versus,
            "unit_seconds": float(part["wall_s"].mean()),
            "unit_cpu_seconds": float(part["cpu_s"].mean()),
        })
    return pd.DataFrame(rows, columns=list(COLUMNS))
