"""The transfer job on a synthetic table: leak guard, pairing, resume, report columns."""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from metanas.priors.deep_kernel_bo import DeepKernelBO
from metanas.priors.policy_strategies import PriorEvolution, PriorReinforce
from metanas.priors.predictor_bo import PredictorBO
from metanas.priors.restricted import HeldOutTaskError
from metanas.priors.transfer import TransferJob
from metanas.runner.strategy_registry import load_strategies
from priors.synthetic import SyntheticBenchmark

PROTOCOL = {
    "toy": {
        "signal": {"metric": "valid_acc", "fidelity": 12},
        "test": {"metric": "test_acc", "fidelity": 200},
        "settings": {t: {"search_task": t, "budget_s": 250.0} for t in ("t1", "t2", "t3")},
    }
}
META = {
    "meta_seeds": 2,
    "policy": {"meta_iterations": 2, "inner_steps": 10},
    "predictor": {"hidden": [8], "meta_iterations": 3, "support": 5, "query": 10},
    "encodings": ["one_hot"],
    "kernel": {"hidden": [8], "embedding": 4, "meta_iterations": 5, "batch": 10},
}


def _job(benchmark: SyntheticBenchmark, protocols: dict = PROTOCOL, **kwargs: object
         ) -> TransferJob:
    return TransferJob(
        benchmark=benchmark,
        protocols=protocols,
        baselines=load_strategies(["rs", "rea"]),
        meta_methods={
            "meta_reinforce": functools.partial(PriorReinforce),
            "meta_rea": functools.partial(PriorEvolution, population_size=4, sample_size=2),
            "meta_bo": functools.partial(PredictorBO, finetune_steps=2, refit_every=4),
            "meta_dkgp": functools.partial(DeepKernelBO),
        },
        transfer_methods=load_strategies(["zero_shot", "warm_rea", "hand_prior"]),
        meta_training=META,
        runs=4,
        runs_per_shard=2,
        metad2a={"top_k": 5, "runs": 2, "published": {}},
        progress=False,
        **kwargs,
    )


def test_meta_training_never_reads_the_held_out_task() -> None:
    held_out_changed = SyntheticBenchmark(shift=5.0)
    original = SyntheticBenchmark()
    job_a, job_b = _job(original), _job(held_out_changed)
    t3 = next(s for s in job_a.settings if s.dataset == "t3")
    with pytest.raises(HeldOutTaskError):
        job_a.training_view(t3).query(0, task="t3", fidelity=12)
    original.queried_tasks.clear()
    prior_a = job_a.meta_train(t3, 0)
    assert original.queried_tasks == {"t1", "t2"}
    # Changing the held-out table changes nothing that meta-training produces.
    prior_b = job_b.meta_train(t3, 0)
    np.testing.assert_array_equal(prior_a.logits, prior_b.logits)
    assert all(torch.equal(prior_a.predictor[k], prior_b.predictor[k]) for k in prior_a.predictor)
    assert prior_a.training_tasks == ("t1", "t2")


class TwoDistributions(SyntheticBenchmark):
    """Tasks named ``<distribution>.<task>``, as a table build names them."""

    tasks = ("omni.t1", "omni.t2", "cifar.t3")


def test_leave_one_distribution_out_meta_trains_on_the_other_distribution() -> None:
    bench = TwoDistributions()
    protocols = {"toy": {**PROTOCOL["toy"], "settings": {
        t: {"search_task": t, "budget_s": 250.0} for t in bench.tasks}}}
    job = _job(bench, protocols, holdout="distribution")
    fold = {s.dataset: s for s in job.settings}
    assert job.training_tasks(fold["cifar.t3"]) == ["omni.t1", "omni.t2"]
    assert job.training_tasks(fold["omni.t1"]) == ["cifar.t3"]
    # omni.t2 is not held out, but it shares omni.t1's distribution: not readable either.
    with pytest.raises(HeldOutTaskError):
        job.training_view(fold["omni.t1"]).query(0, task="omni.t2", fidelity=12)
    bench.queried_tasks.clear()
    assert job.meta_train(fold["omni.t1"], 0).training_tasks == ("cifar.t3",)
    assert bench.queried_tasks == {"cifar.t3"}
    # The same tasks left out one at a time train on both distributions.
    assert _job(bench, protocols).training_tasks(fold["omni.t1"]) == ["omni.t2", "cifar.t3"]


def test_leave_one_distribution_out_needs_distribution_names() -> None:
    with pytest.raises(ValueError, match="have none: use holdout=task"):
        _job(SyntheticBenchmark(), holdout="distribution")
    with pytest.raises(ValueError, match="holdout must be one of"):
        _job(SyntheticBenchmark(), holdout="dataset")


@pytest.mark.slow
def test_job_runs_pairs_seeds_resumes_and_reports(tmp_path: Path) -> None:
    job = _job(SyntheticBenchmark())
    job.run(tmp_path)
    summary = pd.read_csv(tmp_path / "transfer_summary.csv")
    assert set(summary["held_out"]) == {"t1", "t2", "t3"}
    assert set(summary["family"]) == {"meta", "baseline", "transfer"}
    assert (summary["runs"] == 4).all() and (summary["cost_unit"] == "simulated_s").all()
    assert (summary.loc[summary["family"] == "meta", "meta_seeds"] == 2).all()
    assert (summary.loc[summary["family"] != "meta", "meta_seeds"] == 0).all()
    for column in ("found_by_budget", "regret_auc", "final_test_acc_mean", "final_test_acc_ci95"):
        assert summary[column].notna().all(), column
    traces = pd.concat(pd.read_parquet(p) for p in tmp_path.rglob("runs_*.parquet"))
    seeds = traces.groupby(["dataset", "run"])["seed"].nunique()
    assert (seeds == 1).all(), "run r of every method must share its seed"
    assert (traces.loc[traces["strategy"].str.startswith("meta"), "meta_seed"] >= 0).all()
    tests = pd.read_csv(tmp_path / "transfer_tests.csv")
    # 4 meta methods x 3 held-out tasks x (best transfer, best baseline).
    assert len(tests) == 3 * 4 * 2 and set(tests["reference"]) <= {
        "rs", "rea", "zero_shot", "warm_rea", "hand_prior"}
    table = (tmp_path / "table.md").read_text()
    assert "## Architecture priors meta-learned from benchmark tables" in table

    # Resume: a deleted shard is re-run identically; the summary does not change.
    shard = min(tmp_path.rglob("runs_*.parquet"))
    before = pd.read_parquet(shard)
    shard.unlink()
    _job(SyntheticBenchmark()).run(tmp_path)
    pd.testing.assert_frame_equal(pd.read_parquet(shard), before)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "transfer_summary.csv"), summary)

    # Another meta-training configuration must not reuse the stored priors.
    changed = _job(SyntheticBenchmark())
    changed.meta = dataclasses.replace(changed.meta, meta_seeds=3)
    with pytest.raises(ValueError, match="different configuration"):
        changed.run(tmp_path)


def test_bad_job_input_is_rejected_before_work() -> None:
    bench = SyntheticBenchmark()
    base, meta = {"rs": load_strategies(["rs"])["rs"]}, {"m": PriorReinforce}
    with pytest.raises(ValueError, match="exactly one protocol"):
        TransferJob(
            benchmark=bench,
            protocols={**PROTOCOL, "b": PROTOCOL["toy"]},
            baselines=base,
            meta_methods=meta,
        )
    with pytest.raises(ValueError, match="distinct names"):
        TransferJob(
            benchmark=bench, protocols=PROTOCOL, baselines=base, meta_methods={"rs": PriorReinforce}
        )
    with pytest.raises(ValueError, match=">= 1 meta method"):
        TransferJob(benchmark=bench, protocols=PROTOCOL, baselines=base, meta_methods={"m": None})
    with pytest.raises(ValueError, match="unknown keys"):
        TransferJob(
            benchmark=bench,
            protocols=PROTOCOL,
            baselines=base,
            meta_methods=meta,
            meta_training={"meta_sedes": 3},
        )
