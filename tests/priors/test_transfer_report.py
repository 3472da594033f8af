"""Definitions of the transfer report on hand-made traces (statistics from metanas.stats)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metanas.priors.transfer_report import (
    KEY_COLUMNS,
    TABLES_END,
    TABLES_START,
    best_of_family,
    comparisons,
    metad2a_rows,
    part_b_markdown,
    ranks,
    read_job,
    regret_at_fractions,
    replace_section,
    summarise,
    task_targets,
)

ISSUE_COLUMNS = [
    "benchmark", "held_out", "method", "family", "runs", "meta_seeds", "cost_unit",
    "km_median_cost_to_optimum", "found_by_budget", "regret_auc", "final_test_acc_mean",
    "final_test_acc_ci95",
]
# One task: optimum 90, worst 50, median 80 (regret scale 10), budget 100 cost units.
OPTIMA = pd.DataFrame({
    "dataset": ["d"], "test_task": ["d"], "budget": [100.0], "optimum_test_value": [90.0],
    "worst_test_value": [50.0], "median_test_value": [80.0], "optimum_arch_indices": ["7;8"],
})


def _setup(families: dict[str, str], unit: str = "%", cost_unit: str = "simulated_s") -> dict:
    return {
        "families": families,
        "metad2a": {"top_k": 2, "runs": 10, "published": {"d": 91.25}},
        "meta_seeds": 2,
        "protocol": "proto",
        "space": "toyspace",
        "cost_unit": cost_unit,
        "test_metric": {"name": "test_x", "label": "test x", "unit": unit,
                        "higher_is_better": True},
        "settings": {"d": {"signal_metric": "valid_acc", "signal_fidelity": 3,
                           "sample_seed": True, "signal_seeded": False,
                           "test_metric": "test_acc", "test_fidelity": 50}},
    }


def _trace(method: str, run: int, tests: list[float], *, cost: float = 10.0,
           meta_seed: int = -1) -> pd.DataFrame:
    """A run querying cells of the given test values, ``cost`` each; the signal ranks them
    as the test values do, so the incumbent is the best so far."""
    n = len(tests)
    return pd.DataFrame({
        "dataset": "d", "strategy": method, "run": run, "step": np.arange(n),
        "arch_index": np.arange(n) + 100, "test_acc": tests,
        "best_test_acc": np.maximum.accumulate(tests), "cum_cost": cost * np.arange(1, n + 1),
        "meta_seed": meta_seed,
    })


def test_summary_has_the_issue_columns_and_censors_never_reaching_runs() -> None:
    setup = _setup({"base": "baseline", "meta": "meta"})
    traces = pd.concat([
        # base: 1 of 3 runs evaluates the optimum (at cost 20): KM median not reached.
        _trace("base", 0, [80.0, 90.0]),
        _trace("base", 1, [80.0, 85.0]),
        _trace("base", 2, [70.0, 89.95]),
        # meta: runs 0-3 on priors 0, 1, 0, 1; three of four reach it at 10, 30, 30.
        _trace("meta", 0, [90.0], meta_seed=0),
        _trace("meta", 1, [80.0, 85.0, 90.0], meta_seed=1),
        _trace("meta", 2, [80.0, 85.0, 90.0], meta_seed=0),
        _trace("meta", 3, [60.0], meta_seed=1),
    ])
    summary = summarise(traces, setup, task_targets(OPTIMA, setup))
    assert list(summary.columns[: len(ISSUE_COLUMNS)]) == ISSUE_COLUMNS
    summary = summary.set_index("method")
    base, meta = summary.loc["base"], summary.loc["meta"]
    assert base["family"] == "baseline" and base["benchmark"] == "toyspace"
    assert np.isnan(base["km_median_cost_to_optimum"])  # > half censored: not reached
    assert base["found_by_budget"] == pytest.approx(1 / 3)
    assert base["found_within_0.1_by_budget"] == pytest.approx(2 / 3)  # 89.95 counts
    assert base["meta_seeds"] == 0 and meta["meta_seeds"] == 2
    # KM over {10, 30, 30, censored at 100}: S drops to 3/4 at 10 and 0.25 at 30.
    assert meta["km_median_cost_to_optimum"] == 30.0
    assert meta["km_median_queries_to_optimum"] == 3.0
    assert meta["final_test_acc_mean"] == pytest.approx((90 + 90 + 90 + 60) / 4)
    # Regret AUC of base run 0 by hand: worst regret 4 on [0, 10), 1 on [10, 20), 0 after.
    auc0 = (10 * 4.0 + 10 * 1.0) / 100
    auc1 = (10 * 4.0 + 10 * 1.0 + 80 * 0.5) / 100
    auc2 = (10 * 4.0 + 10 * 2.0 + 80 * 0.005) / 100
    assert base["regret_auc"] == pytest.approx((auc0 + auc1 + auc2) / 3)
    assert base["cost_unit"] == "simulated_s"


def test_comparisons_pair_by_run_and_use_the_best_of_each_family() -> None:
    setup = _setup({"slow": "baseline", "warm": "transfer", "meta": "meta"})
    frames = []
    for run in range(6):
        frames.append(_trace("slow", run, [80.0] * 5 + [90.0]))          # hits at 60
        frames.append(_trace("warm", run, [80.0, 90.0]))                  # hits at 20
        meta_hit = [90.0] if run < 4 else [80.0] * 9                      # 4 at 10, 2 never
        frames.append(_trace("meta", run, meta_hit, meta_seed=run % 3))
    traces = pd.concat(frames)
    targets = task_targets(OPTIMA, setup)
    tests = comparisons(traces, summarise(traces, setup, targets), targets)
    by_ref = tests.set_index("reference_family")
    row = by_ref.loc["transfer"]
    assert row["reference"] == "warm" and row["pairs"] == 6
    assert (row["sign_meta_first"], row["sign_reference_first"], row["sign_ties"]) == (4, 2, 0)
    assert (row["mcnemar_meta_only"], row["mcnemar_reference_only"]) == (0, 2)
    assert row["km_median_meta"] == 10.0 and row["km_median_reference"] == 20.0
    assert row["final_test_diff_mean"] == pytest.approx(-10 * 2 / 6)
    assert by_ref.loc["baseline", "reference"] == "slow"


def test_metric_generic_words_and_empty_not_reached() -> None:
    setup = _setup({"base": "baseline", "meta": "meta"}, unit="SSIM", cost_unit="queries")
    setup["settings"]["d"].update(signal_fidelity=-1, test_fidelity=-1)  # no fidelities
    traces = pd.concat([
        _trace("base", 0, [80.0, 85.0], cost=1.0),
        _trace("base", 1, [80.0, 85.0], cost=1.0),
        _trace("meta", 0, [90.0], cost=1.0, meta_seed=0),
        _trace("meta", 1, [85.0, 90.0], cost=1.0, meta_seed=1),
    ])
    targets = task_targets(OPTIMA, setup)
    summary = summarise(traces, setup, targets)
    # Not a percentage: the near-optimum targets are shares of the table's range (40).
    assert "found_within_0.5%range_by_budget" in summary.columns
    assert "found_within_0.5_by_budget" not in summary.columns
    table, tests = ranks(regret_at_fractions(traces, targets))
    assert tests is None  # one task
    ranked = pd.DataFrame({"dataset": ["d"] * 2, "ranking": ["policy"] * 2, "meta_seed": [0, 1],
                           "best_test_acc": [90.0, 89.0], "selected_test_acc": [88.0, 87.0]})
    metad2a = metad2a_rows(traces, ranked, setup)
    text = part_b_markdown(summary, comparisons(traces, summary, targets), table, tests,
                           metad2a, OPTIMA, setup)
    assert "budgets in queries: d 100" in text and "(SSIM)" in text
    assert "| d | base | baseline | 2 | 0 | – | 0.00 |" in text  # not reached: empty
    assert "signal is deterministic" in text and "drawn per query" not in text
    assert "need >= 5 tasks; this benchmark has 1 held-out datasets" in text
    assert "oracle: best test accuracy among 2 (as MetaD2A's code) | by validation" in text
    assert "its `valid_acc`, the mean" in text and "best `test_acc`" in text
    for stale in ("NATS", "20,000", "30 cells", "94.37", "points", "simulated", "-epoch"):
        assert stale not in text, stale


def test_metad2a_rows_split_oracle_and_validation_pick() -> None:
    setup = _setup({"zero_shot": "transfer"})
    # First two queries: test 85 then 88 where the signal (= best so far) picks 88.
    traces = pd.concat([_trace("zero_shot", r, [85.0, 88.0, 90.0]) for r in range(3)])
    ranked = pd.DataFrame({"dataset": ["d"] * 3, "ranking": ["policy"] * 3, "meta_seed": [0, 1, 2],
                           "best_test_acc": [90.0, 89.0, 88.0],
                           "selected_test_acc": [88.0, 87.0, 86.0]})
    rows = metad2a_rows(traces, ranked, setup).set_index("method")
    assert rows.loc["prior_policy", "oracle_test_mean"] == pytest.approx(89.0)
    assert rows.loc["prior_policy", "by_validation_test_mean"] == pytest.approx(87.0)
    assert rows.loc["zero_shot", "oracle_test_mean"] == 88.0  # first k = 2 queries only
    assert rows.loc["zero_shot", "metad2a_published"] == 91.25


def test_old_or_lower_is_better_setups_are_refused(tmp_path) -> None:
    import json

    OPTIMA.drop(columns="worst_test_value").to_csv(tmp_path / "transfer_optima.csv")
    (tmp_path / "transfer_setup.json").write_text(json.dumps(_setup({"a": "baseline"})))
    with pytest.raises(ValueError, match="run the transfer experiment again"):
        read_job(tmp_path)
    OPTIMA.to_csv(tmp_path / "transfer_optima.csv")
    setup = _setup({"a": "baseline"})
    setup["test_metric"]["higher_is_better"] = False
    (tmp_path / "transfer_setup.json").write_text(json.dumps(setup))
    with pytest.raises(ValueError, match="lower-is-better"):
        read_job(tmp_path)


def test_replace_section_keeps_the_rest_of_the_table() -> None:
    text = "# t\n\n## Gradient-based meta-NAS\nits numbers\n"
    once = replace_section(text, "B v1")
    twice = replace_section(once + "\ntrailer\n", "B v2")
    assert "its numbers" in twice and "trailer" in twice
    assert "B v1" not in twice and twice.count(TABLES_START) == twice.count(TABLES_END) == 1


def test_key_columns_lead_the_summary() -> None:
    assert list(KEY_COLUMNS) == ISSUE_COLUMNS[:4]


def test_best_of_family_orders_by_found_then_km_median_then_regret() -> None:
    summary = pd.DataFrame({
        "held_out": ["d"] * 4, "family": ["transfer"] * 3 + ["meta"],
        "method": ["low_auc_rarely_found", "found_slow", "found_fast", "m"],
        "found_by_budget": [0.25, 1.0, 1.0, 1.0],
        "km_median_cost_to_optimum": [np.nan, 50.0, 20.0, 1.0],
        "regret_auc": [0.01, 0.1, 0.2, 0.0],
    })
    assert best_of_family(summary, "transfer") == {"d": "found_fast"}
    assert best_of_family(summary, "baseline") == {}
