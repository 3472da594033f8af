"""Per-run results and the summary table, rebuilt from traces (never stored incrementally).

Because the summary is a pure function of the shards, a run killed and restarted ends
with the same summary as an uninterrupted one.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from metanas.runner.shard_store import read_shards

SUMMARY_FILE = "summary.csv"
FINALS_FILE = "finals.csv"
RUN_KEYS = ["protocol", "dataset", "strategy", "run"]
GROUP_KEYS = ["protocol", "dataset", "strategy"]


def test_columns(traces: pd.DataFrame) -> list[str]:
    """Best-so-far test accuracy columns: the dataset's own, then transfer tasks."""
    return [c for c in traces.columns if c.startswith("best_test_acc")]


def final_rows(traces: pd.DataFrame) -> pd.DataFrame:
    """The last traced query of each run: the incumbent at the budget, with run totals.

    Raises if the same run appears twice with different traces (shards of different
    configurations under one folder); identical duplicates (one run stored twice) are
    dropped.
    """
    traces = traces.drop_duplicates()
    counts = traces.groupby([*RUN_KEYS, "step"], sort=False).size()
    if (counts > 1).any():
        dup = counts[counts > 1].index[0]
        raise ValueError(
            f"run {dict(zip([*RUN_KEYS, 'step'], dup))} appears with different traces: the "
            "folder mixes runs of different configurations; report them separately"
        )
    last = traces.loc[traces.groupby(RUN_KEYS, sort=False)["step"].idxmax()]
    last = last.assign(queries=last["step"] + 1).rename(columns={"cum_cost": "spent_s"})
    keep = [*RUN_KEYS, "seed", "queries", "spent_s", "best_signal", "best_arch_index"]
    return last[keep + test_columns(traces)].sort_values(RUN_KEYS).reset_index(drop=True)


def summarize(finals: pd.DataFrame) -> pd.DataFrame:
    """Mean and std (ddof=0, as NB201's tables) over runs per protocol/dataset/strategy."""
    out = finals.groupby(GROUP_KEYS, sort=True).agg(
        runs=("run", "size"), queries_mean=("queries", "mean"), spent_s_mean=("spent_s", "mean")
    )
    for col in test_columns(finals):
        name = col.removeprefix("best_")
        grouped = finals.groupby(GROUP_KEYS, sort=True)[col]
        out[f"{name}_mean"] = grouped.mean()
        out[f"{name}_std"] = grouped.std(ddof=0)
    return out.reset_index()


def rebuild_summary(results_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Read every shard below ``results_dir``; write summary.csv and finals.csv there.

    :return: (traces, finals, summary).
    """
    traces = read_shards(results_dir)
    finals = final_rows(traces)
    summary = summarize(finals)
    finals.to_csv(results_dir / FINALS_FILE, index=False, float_format="%.4f")
    summary.to_csv(results_dir / SUMMARY_FILE, index=False, float_format="%.4f")
    return traces, finals, summary
