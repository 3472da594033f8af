"""Collect the ``summary.json`` of few-shot meta-NAS runs into one CSV.

    python -m metanas.supernet.summary runs/omniglot_metanas_* \\
        --out results/metanas/fewshot_summary.csv
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

FIRST_COLUMNS = [
    "method", "setting", "supernet_acc_mean", "supernet_acc_ci95", "derived_acc_mean",
    "derived_acc_ci95", "derived_nb201_cifar10_test_mean", "distinct_cells_share",
    "episodes", "iterations", "device", "wall_time_s",
]


def collect(run_dirs: list[Path]) -> pd.DataFrame:
    """One row per run, the required columns first, sorted by method and setting."""
    rows = []
    for run in run_dirs:
        path = Path(run) / "summary.json"
        if not path.exists():
            raise FileNotFoundError(f"{path} missing: run `python -m metanas.run ...` there first")
        rows.append(json.loads(path.read_text()))
    frame = pd.DataFrame(rows)
    rest = [c for c in frame.columns if c not in FIRST_COLUMNS]
    return frame[FIRST_COLUMNS + rest].sort_values(["method", "setting"]).reset_index(drop=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run folders with summary.json")
    parser.add_argument("--out", type=Path, required=True, help="CSV to write")
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    collect(args.runs).round(3).to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
