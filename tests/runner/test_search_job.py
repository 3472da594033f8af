"""Mechanics of the search runner on a synthetic benchmark: budget rule, determinism,
sharding, resume after a failure, and errors raised before any work starts."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SYNTHETIC_PROTOCOLS, GreedyRandom, SyntheticBenchmark

from metanas.report import build_report
from metanas.runner import search_job as search_job_module
from metanas.runner.search_job import SearchJob
from metanas.runner.search_loop import build_tables, incumbent_positions, search
from metanas.runner.settings import parse_protocols
from metanas.runner.shard_store import read_shards
from metanas.strategies.base import Strategy, Trial

STRATEGIES = {"greedy": functools.partial(GreedyRandom)}


def make_job(bench: SyntheticBenchmark, **kwargs) -> SearchJob:
    args = {
        "benchmark": bench,
        "protocols": SYNTHETIC_PROTOCOLS,
        "strategies": STRATEGIES,
        "runs": 6,
        "runs_per_shard": 2,
        "n_jobs": 1,
        "progress": False,
        "report": False,
    }
    args.update(kwargs)
    return SearchJob(**args)


def sorted_traces(out: Path) -> pd.DataFrame:
    keys = ["protocol", "dataset", "strategy", "run", "step"]
    return read_shards(out).sort_values(keys).reset_index(drop=True)


class FixedSequence(Strategy):
    """Proposes keys 0, 1, 2, ... in order; records what it was told."""

    def _propose(self) -> np.ndarray:
        return self.space.code(self._asked)

    def _observe(self, trial: Trial, value: float) -> None:
        pass


def test_budget_rule_drops_the_query_that_would_overshoot(synthetic_benchmark):
    setting = parse_protocols(SYNTHETIC_PROTOCOLS)[1]  # other/toy: mean signal, 500 s
    tables = build_tables(synthetic_benchmark, setting)
    strategy = FixedSequence(synthetic_benchmark.space, seed=0)
    keys, signals, _ = search(strategy, setting, tables, None, np.random.default_rng(0))
    cum = np.cumsum(tables.cost[: keys.size + 1])
    assert cum[keys.size - 1] <= setting.budget_s < cum[keys.size]
    np.testing.assert_array_equal(keys, np.arange(keys.size))
    np.testing.assert_array_equal(signals, tables.signal[keys])
    # The over-budget trial was asked but never told.
    assert strategy._asked == keys.size + 1 and len(strategy.history) == keys.size


def test_incumbent_is_first_best_so_far():
    signals = np.array([1.0, 3.0, 2.0, 3.0, 5.0, 5.0])
    np.testing.assert_array_equal(incumbent_positions(signals), [0, 1, 1, 1, 4, 4])


def test_traces_are_tidy_and_within_budget(synthetic_benchmark, tmp_path):
    make_job(synthetic_benchmark).run(tmp_path)
    traces = sorted_traces(tmp_path)
    assert set(traces.groupby(["protocol", "dataset", "strategy"])["run"].nunique()) == {6}
    budgets = traces["protocol"].map({"toyproto": 300.0, "other": 500.0})
    assert (traces["cum_cost"] <= budgets).all()
    assert traces["arch_index"].min() >= 1000  # official index, not the key
    # best-so-far test accuracy is the test accuracy of the best signal so far
    bench = synthetic_benchmark
    run = traces[(traces["protocol"] == "other") & (traces["run"] == 0)]
    inc = run["arch_index"].to_numpy()[incumbent_positions(run["signal"].to_numpy())] - 1000
    expected = bench.query(inc, task="toy", fidelity=200, metric="test_acc")
    np.testing.assert_allclose(run["best_test_acc"], expected)
    # seeded protocol: signals are single-seed draws (mean +- 1), not the mean
    seeded = traces[traces["protocol"] == "toyproto"]
    mean = bench.query(seeded["arch_index"].to_numpy() - 1000, task="toy-valid", fidelity=12)
    assert set(np.round(seeded["signal"] - mean, 6)) <= {-1.0, 0.0, 1.0}
    assert (seeded["signal"] != mean).any()
    assert (
        "best_test_acc_toy-transfer" in traces
        and traces.loc[traces["protocol"] == "other", "best_test_acc_toy-transfer"].isna().all()
    )


@pytest.mark.slow  # starts loky worker processes
def test_results_do_not_depend_on_n_jobs_or_shard_size(synthetic_benchmark, tmp_path):
    make_job(synthetic_benchmark, n_jobs=1, runs_per_shard=2).run(tmp_path / "a")
    make_job(synthetic_benchmark, n_jobs=2, runs_per_shard=4).run(tmp_path / "b")
    pd.testing.assert_frame_equal(sorted_traces(tmp_path / "a"), sorted_traces(tmp_path / "b"))
    make_job(synthetic_benchmark, base_seed=1).run(tmp_path / "c")
    assert not sorted_traces(tmp_path / "a").equals(sorted_traces(tmp_path / "c"))


def test_seed_split_across_jobs_equals_one_job(synthetic_benchmark, tmp_path):
    make_job(synthetic_benchmark, runs=6).run(tmp_path / "whole")
    make_job(synthetic_benchmark, runs=2, first_run=0).run(tmp_path / "split" / "a")
    make_job(synthetic_benchmark, runs=4, first_run=2).run(tmp_path / "split" / "b")
    pd.testing.assert_frame_equal(
        sorted_traces(tmp_path / "whole"), sorted_traces(tmp_path / "split")
    )


def test_resume_after_failure_inside_a_shard(synthetic_benchmark, tmp_path, monkeypatch):
    make_job(synthetic_benchmark).run(tmp_path / "clean")

    real = search_job_module.trace_frame
    calls = {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 5:  # the fifth shard: its runs are searched, never stored
            raise RuntimeError("simulated crash")
        return real(*args, **kwargs)

    monkeypatch.setattr(search_job_module, "trace_frame", failing)
    with pytest.raises(RuntimeError, match="simulated crash"):
        make_job(synthetic_benchmark).run(tmp_path / "crashed")
    written = list((tmp_path / "crashed").rglob("runs_*.parquet"))
    assert len(written) == 4 and not (tmp_path / "crashed" / "summary.csv").exists()

    monkeypatch.setattr(search_job_module, "trace_frame", real)
    make_job(synthetic_benchmark).run(tmp_path / "crashed")
    pd.testing.assert_frame_equal(
        sorted_traces(tmp_path / "clean"), sorted_traces(tmp_path / "crashed")
    )
    # a third run does no work and leaves the same summary
    before = (tmp_path / "crashed" / "summary.csv").read_text()
    monkeypatch.setattr(search_job_module, "search_frame", None)  # would fail if called
    make_job(synthetic_benchmark).run(tmp_path / "crashed")
    assert (tmp_path / "crashed" / "summary.csv").read_text() == before


def test_rerun_with_other_config_is_refused_naming_the_change(synthetic_benchmark, tmp_path):
    make_job(synthetic_benchmark).run(tmp_path)
    with pytest.raises(ValueError, match=r"different configuration.*base_seed: 0 before, 7 now"):
        make_job(synthetic_benchmark, base_seed=7).run(tmp_path)
    with pytest.raises(ValueError, match="runs_per_shard: 2 before, 3 now"):
        make_job(synthetic_benchmark, runs_per_shard=3).run(tmp_path)
    changed = {"other": {**SYNTHETIC_PROTOCOLS["other"]}}
    changed["other"]["settings"] = {"toy": {"search_task": "toy", "budget_s": 600}}
    with pytest.raises(ValueError, match=r"setting\.budget_s: 500\.0 before, 600\.0 now"):
        make_job(synthetic_benchmark, protocols=changed).run(tmp_path)


def test_job_touches_only_its_own_files_and_shards(synthetic_benchmark, tmp_path):
    """Another run nested in out_dir is neither merged into the summary nor cleaned up."""
    out = tmp_path / "out"
    make_job(synthetic_benchmark, strategies={"older": STRATEGIES["greedy"]}).run(out / "old")
    (out / "other").mkdir()
    draft = out / "other" / ".draft.tmp"
    draft.write_text("the user's file")
    make_job(synthetic_benchmark).run(out)
    build_report(out)
    assert draft.read_text() == "the user's file"
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["strategy"]) == {"greedy"} and set(summary["runs"]) == {6}
    assert "older" not in (out / "table.md").read_text()
    assert set(pd.read_csv(out / "old" / "summary.csv")["strategy"]) == {"older"}


def test_runs_per_strategy_caps_slow_strategies(synthetic_benchmark, tmp_path):
    strategies = {"greedy": STRATEGIES["greedy"], "slow": functools.partial(GreedyRandom)}
    make_job(
        synthetic_benchmark,
        strategies=strategies,
        runs=4,
        runs_per_strategy={"slow": 2, "bo_gp": 1},  # known, not selected: fine
    ).run(tmp_path)
    runs = read_shards(tmp_path).groupby("strategy")["run"].nunique()
    assert runs.to_dict() == {"greedy": 4, "slow": 2}


def bad_protocol(**changes) -> dict:
    setting = {"search_task": "toy-valid", "test_task": "toy", "budget_s": 100, **changes}
    return {
        "p": {
            "signal": {"metric": "valid_acc", "fidelity": 12},
            "test": {"metric": "test_acc", "fidelity": 200},
            "settings": {"toy": setting},
        }
    }


def without_budget() -> dict:
    protocols = bad_protocol()
    del protocols["p"]["settings"]["toy"]["budget_s"]
    return protocols


def signal_typo() -> dict:
    protocols = bad_protocol()
    protocols["p"]["signal"]["sample_sed"] = True  # must not silently fall back to the mean
    return protocols


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"protocols": bad_protocol(budget_s=0)}, "budget_s must be > 0"),
        ({"protocols": bad_protocol(budget_s=-5)}, "budget_s must be > 0"),
        ({"protocols": bad_protocol(search_task="cifar10")}, "unknown dataset/task 'cifar10'"),
        ({"protocols": bad_protocol(test_task="nope")}, "unknown dataset/task 'nope'"),
        ({"protocols": bad_protocol(budget=5)}, r"unknown keys \['budget'\]"),
        ({"n_jobs": 0}, "n_jobs must be an integer >= 1"),
        ({"runs": 0}, "runs must be an integer >= 1"),
        ({"runs_per_strategy": {"greedy": 0}}, "runs_per_strategy.greedy"),
        ({"runs_per_strategy": {"bo_tpx": 3}}, r"unknown strategies \['bo_tpx'\]"),
        ({"base_seed": -1}, "base_seed must be an integer >= 0"),
        ({"protocols": bad_protocol(budget_s=1e-9)}, "below the most expensive query"),
        # costs are 10..25 s: a run drawing a 25 s cell first would have no result
        ({"protocols": bad_protocol(budget_s=15)}, r"raise budget_s to at least 25"),
        ({"protocols": bad_protocol(budget_s=float("inf"))}, "budget_s must be finite"),
        ({"protocols": bad_protocol(budget_s="inf")}, "budget_s must be finite"),
        ({"protocols": bad_protocol(budget_s=float("nan"))}, "budget_s must be > 0"),
        ({"protocols": bad_protocol(budget_s="12k")}, "budget_s must be a number"),
        ({"protocols": without_budget()}, r"missing keys \['budget_s'\]"),
        ({"protocols": signal_typo()}, r"unknown keys \['sample_sed'\]"),
        ({"strategies": {}}, "no strategies selected"),
        ({"protocols": {}}, "no protocol selected"),
    ],
)
def test_bad_input_fails_before_work(synthetic_benchmark, tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_job(synthetic_benchmark, **kwargs).run(tmp_path)
    assert not any(tmp_path.iterdir())


def test_rerun_with_fewer_protocols_keeps_every_setting_reportable(synthetic_benchmark, tmp_path):
    make_job(synthetic_benchmark, runs=2).run(tmp_path)
    only_other = {"other": SYNTHETIC_PROTOCOLS["other"]}
    make_job(synthetic_benchmark, runs=2, protocols=only_other).run(tmp_path)
    build_report(tmp_path)
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert set(summary["protocol"]) == {"toyproto", "other"}
    assert "toyproto" in (tmp_path / "table.md").read_text()
