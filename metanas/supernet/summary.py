"""Summaries of few-shot meta-NAS runs: one run's episodes, and many runs in one CSV.

    python -m metanas.supernet.summary runs/omniglot_metanas_* \\
        --out results/metanas/fewshot_summary.csv

The accuracy statistics are recomputed from each run's ``episodes.csv`` (the per-episode
record) by :func:`episode_summary`, the function the job itself uses, so the collected CSV
always follows the current definitions (e.g. :func:`metanas.meta.stats.mean_ci95`); the
rest of a row (method, space, iterations, device, times) comes from the run's
``summary.json``. Cell strings are read in the run's space (``nb201`` for runs written
before ``summary.json`` recorded it); the NB201 look-up columns exist only for NB201 runs
with a benchmark.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from common_io.atomic_io import atomic_write_text
from metanas.meta.stats import mean_ci95
from metanas.supernet.evaluation import NB201_DATASETS, cell_diversity
from tabular_bench.spaces import NB201, CellSearchSpace, space_named

EPISODES_FILE = "episodes.csv"
SUMMARY_FILE = "summary.json"
FIRST_COLUMNS = [
    "method", "setting", "supernet_acc_mean", "supernet_acc_ci95", "derived_acc_mean",
    "derived_acc_ci95", "derived_nb201_cifar10_test_mean", "distinct_cells_share",
    "episodes", "iterations", "device", "wall_time_s",
]


def episode_summary(episodes: pd.DataFrame, space: CellSearchSpace = NB201) -> dict[str, Any]:
    """Accuracy (%, mean and 95% interval), NB201 look-ups (where recorded) and cell
    diversity of a run's meta-test episodes (the columns of ``episodes.csv``), whose cells
    are strings of ``space``."""
    archs = episodes["arch"].tolist()
    codes = np.stack([space.from_string(a) for a in archs])
    out: dict[str, Any] = {}
    for column in ("supernet_acc", "derived_acc"):
        mean, ci95 = mean_ci95(episodes[column].to_numpy(np.float64) * 100)
        out[f"{column}_mean"], out[f"{column}_ci95"] = mean, ci95
    for d in (d for d in NB201_DATASETS if f"nb201_{d}_test" in episodes):
        key = f"derived_nb201_{d.lower().replace('-', '_')}_test_mean"
        out[key] = float(episodes[f"nb201_{d}_test"].mean())
    # most_common breaks ties by first appearance, so the modal cell is reproducible.
    modal, count = Counter(archs).most_common(1)[0]
    return {
        **out, **cell_diversity(codes), "modal_cell": modal,
        "modal_cell_share": count / len(archs), "episodes": len(archs),
    }


def collect(run_dirs: list[Path]) -> pd.DataFrame:
    """One row per run, the required columns first, sorted by method and setting."""
    rows = []
    for run in map(Path, run_dirs):
        paths = [run / SUMMARY_FILE, run / EPISODES_FILE]
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            raise FileNotFoundError(
                f"{', '.join(missing)} missing: run `python -m metanas.run ...` there first"
            )
        summary = {"space": NB201.name, **json.loads(paths[0].read_text())}
        space = space_named(summary["space"])
        rows.append({**summary, **episode_summary(pd.read_csv(paths[1]), space)})
    frame = pd.DataFrame(rows)
    first = [c for c in FIRST_COLUMNS if c in frame.columns]
    rest = [c for c in frame.columns if c not in first]
    return frame[first + rest].sort_values(["method", "setting"]).reset_index(drop=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run folders with summary.json")
    parser.add_argument("--out", type=Path, required=True, help="CSV to write")
    args = parser.parse_args(argv)
    atomic_write_text(args.out, collect(args.runs).round(3).to_csv(index=False))


if __name__ == "__main__":
    main()
