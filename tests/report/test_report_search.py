"""The search report on hand-made traces: time-grid curves, table beside published
numbers, plots written, and a clear error for a folder with nothing to report."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from metanas.report import build_report
from metanas.report.search import curves_on_grid, published_delta
from metanas.runner.shard_store import ShardKey, write_shard


def traces(strategy: str, runs: int) -> pd.DataFrame:
    rows = []
    for run in range(runs):
        for step, cum in enumerate([10.0, 30.0, 60.0]):
            rows.append(
                {
                    "protocol": "p",
                    "dataset": "d",
                    "strategy": strategy,
                    "run": run,
                    "seed": run,
                    "step": step,
                    "arch_index": step,
                    "signal": 50.0 + step,
                    "cost": 10.0,
                    "cum_cost": cum + run,
                    "best_signal": 50.0 + step,
                    "best_arch_index": step,
                    "best_test_acc": 90.0 + step + run,
                }
            )
    return pd.DataFrame(rows)


def test_curves_on_grid_reads_the_incumbent_at_each_time():
    grid = curves_on_grid(traces("rs", 2), {("p", "d"): 100.0})
    run0 = grid[grid["run"] == 0].set_index("time_s")["best_test_acc"]
    times = run0.index.to_numpy()
    expected = np.select([times >= 60, times >= 30, times >= 10], [92.0, 91.0, 90.0], np.nan)
    np.testing.assert_array_equal(run0.to_numpy(), expected)
    run1 = grid[grid["run"] == 1].set_index("time_s")["best_test_acc"]
    assert np.isnan(run1.iloc[0]) and run1.iloc[-1] == 93.0


def test_report_writes_table_summary_and_plots(tmp_path):
    for strategy in ("rs", "rea"):
        write_shard(tmp_path, ShardKey("p", "d", strategy, 0, 2), traces(strategy, 3))
    (tmp_path / "settings.json").write_text(
        json.dumps([{"protocol": "p", "dataset": "d", "budget_s": 100.0, "transfer_tasks": []}])
    )
    (tmp_path / "published.json").write_text(
        json.dumps({"p": {
            "rs": {"label": "RS", "d": [92.5, 0.5]},
            "rea": {"label": "BOHB", "ours_label": "TPE (not BOHB)", "d": [92.0, 1.0]},
        }})
    )
    path = build_report(tmp_path)
    table = path.read_text()
    # SE = sqrt(0.8165**2 / 3 + 0.5**2 / 500) = 0.472: Δ = +0.50 is 1.1 SE
    assert "| `rs` | 3 | 3 | 93.00 ± 0.82 | 92.50 ± 0.50 (Δ +0.50, within 2 SE) |" in table
    assert ("| `rea` TPE (not BOHB) | 3 | 3 | 93.00 ± 0.82 | 92.00 ± 1.00 BOHB "
            "(another method: no Δ) |") in table
    assert "SE: the standard error of that difference" in table
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert summary.set_index("strategy").loc["rea", "test_acc_mean"] == pytest.approx(93.0)
    for png in ("search_curves.png", "search_finals.png"):
        assert (tmp_path / png).stat().st_size > 10_000


def test_report_of_empty_folder_names_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing to report"):
        build_report(tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        build_report(tmp_path / "missing")


def test_published_delta_counts_standard_errors():
    # SE = sqrt(0.8165**2 / 3 + 0.5**2 / 500) = 0.4719; Δ = +1.50 is 3.18 SE
    assert published_delta(93.0, 0.8165, 3, 91.5, 0.5) == " (Δ +1.50, +3.2 SE)"
    assert published_delta(91.0, 0.8165, 3, 91.5, 0.5) == " (Δ -0.50, within 2 SE)"
