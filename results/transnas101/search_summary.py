"""results/transnas101/summary.csv from the two transnas_search run folders (one per space).

Each row: the chosen network's value of the task's metric at the budget, mean and std over
runs (the run's ``summary.csv``, whose ``test_acc`` columns hold the protocol's reported
metric, here the validation metric the strategy saw), with the metric's name and unit.

    python results/transnas101/search_summary.py runs/transnas_search/micro \
        runs/transnas_search/macro > results/transnas101/summary.csv
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

from tabular_bench.benchmark import metric_spec


def rows(run_dir: Path) -> pd.DataFrame:
    summary = pd.read_csv(run_dir / "summary.csv")
    settings = {s["dataset"]: s for s in json.loads((run_dir / "settings.json").read_text())}
    config = (run_dir / ".hydra" / "overrides.yaml").read_text()
    name = next(w.split("=")[1] for w in config.split() if w.startswith("benchmark="))
    metric = summary["dataset"].map(lambda d: settings[d]["test_metric"])
    return pd.DataFrame({
        "space": name, "dataset": summary["dataset"], "strategy": summary["strategy"],
        "runs": summary["runs"], "final_mean": summary["test_acc_mean"],
        "final_std": summary["test_acc_std"], "metric": metric,
        "unit": metric.map(lambda m: metric_spec(m).unit), "queries_mean": summary["queries_mean"],
    })


if __name__ == "__main__":
    frame = pd.concat([rows(Path(p)) for p in sys.argv[1:]], ignore_index=True)
    frame.to_csv(sys.stdout, index=False, float_format="%.4f")
