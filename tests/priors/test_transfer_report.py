"""Definitions of the transfer report on hand-made traces."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metanas.priors.transfer_report import (
    PART_B_END,
    PART_B_START,
    metad2a_rows,
    paired_tests,
    part_b_markdown,
    replace_section,
    run_metrics,
    summarise,
)

OPTIMA = pd.DataFrame(
    {"dataset": ["d"], "optimum_test_acc": [90.0], "optimum_arch_indices": ["7;8"]}
)


def _trace(method: str, run: int, archs: list[int], tests: list[float]) -> pd.DataFrame:
    n = len(archs)
    return pd.DataFrame(
        {
            "dataset": "d",
            "strategy": method,
            "run": run,
            "step": np.arange(n),
            "arch_index": archs,
            "test_acc": tests,
            "best_test_acc": np.maximum.accumulate(tests),
        }
    )


def test_queries_to_optimum_counts_ties_and_censors_at_the_budget() -> None:
    traces = pd.concat(
        [
            _trace("a", 0, [1, 8, 7], [80.0, 90.0, 90.0]),  # tied optimum 8 at query 2
            _trace("a", 1, [1, 2, 3, 4], [80.0, 89.6, 85.0, 70.0]),  # never: 4 queries
        ]
    )
    m = run_metrics(traces, OPTIMA, first=2).set_index("run")
    assert m.loc[0, "queries_to_optimum"] == 2 and m.loc[0, "optimum_found"]
    assert m.loc[1, "queries_to_optimum"] == 4 and not m.loc[1, "optimum_found"]
    assert m.loc[1, "queries_to_within_0.5"] == 2
    assert m.loc[1, "final_test_acc"] == 89.6
    assert m.loc[1, "first_k_best_test_acc"] == 89.6 and m.loc[0, "first_k_best_test_acc"] == 90.0
    s = summarise(run_metrics(traces, OPTIMA, first=2), {"a": "baseline"}).iloc[0]
    assert s["optimum_never_share"] == 0.5 and s["queries_to_optimum_median"] == 3.0


def test_paired_tests_use_the_best_baseline_and_pair_by_run() -> None:
    frames = []
    for run in range(12):
        frames.append(_trace("slow", run, [1] * 20 + [7], [80.0] * 20 + [90.0]))
        frames.append(_trace("fast", run, [1] * 10 + [7], [80.0] * 10 + [90.0]))
        frames.append(_trace("meta", run, [1] * (run % 2) + [7], [80.0] * (run % 2) + [90.0]))
    metrics = run_metrics(pd.concat(frames), OPTIMA, first=2)
    summary = summarise(metrics, {"slow": "baseline", "fast": "baseline", "meta": "meta"})
    tests = paired_tests(metrics, summary)
    row = tests.iloc[0]
    assert row["best_baseline"] == "fast" and row["pairs"] == 12
    assert row["median_ratio"] == pytest.approx(1.5 / 11)
    assert row["wilcoxon_p_fifth_one_sided"] < 0.05 and bool(row["fifth_claim_met"])


def test_replace_section_keeps_the_rest_of_the_table() -> None:
    text = "# t\n\n## Part A\nA's numbers\n"
    once = replace_section(text, "B v1")
    twice = replace_section(once + "\ntrailer\n", "B v2")
    assert "A's numbers" in twice and "trailer" in twice
    assert "B v1" not in twice and twice.count(PART_B_START) == twice.count(PART_B_END) == 1


def test_part_b_text_comes_from_the_recorded_setup_and_keeps_half_medians() -> None:
    # Two runs reach the optimum at queries 27 and 28: the median is 27.5, not "28".
    traces = pd.concat([
        _trace("m", 0, [1] * 26 + [7], [80.0] * 26 + [90.0]),
        _trace("m", 1, [1] * 27 + [7], [80.0] * 27 + [90.0]),
        *(_trace("b", run, [1] * 40, [80.0] * 40) for run in (0, 1)),
    ])
    optima = OPTIMA.assign(budget_s=[12345.0])
    setup = {
        "families": {"b": "baseline", "m": "meta"},
        "metad2a": {"top_k": 7, "runs": 2, "published": {"d": 91.25}},
        "protocol": "proto",
        "space": "toyspace",
        "settings": {"d": {"signal_metric": "valid_acc", "signal_fidelity": 3,
                           "sample_seed": True, "test_metric": "test_acc",
                           "test_fidelity": 50}},
    }
    metrics = run_metrics(traces, optima, first=7)
    summary = summarise(metrics, setup["families"])
    ranked = pd.DataFrame({"dataset": ["d", "d"], "ranking": ["policy"] * 2,
                           "meta_seed": [0, 1], "best_test_acc": [90.0, 89.0],
                           "selected_test_acc": [88.0, 87.0]})
    metad2a = metad2a_rows(metrics, ranked, setup, setup["families"])
    text = part_b_markdown(summary, paired_tests(metrics, summary), metad2a, optima, setup)
    assert "| d | m | meta | 2 | 28 | 27.5 |" in text
    assert "`toyspace` under the `proto` protocol" in text
    assert "3-epoch `valid_acc`, one recorded training seed drawn per query;" in text
    assert "d 12,345" in text and "best 50-epoch `test_acc`" in text
    assert "oracle: best test accuracy among 7 (as MetaD2A's code) | by validation |" in text
    assert "| 7 cells |" in text and "first 7 queries" in text
    assert "| 89.50 ± 6.35 | 87.50 ± 6.35 |" in text  # oracle and validation-picked columns
    assert "reports 91.25 (d)" in text
    for stale in ("NATS", "20,000", "30 cells", "94.37", "73.51", "200-epoch"):
        assert stale not in text, stale
