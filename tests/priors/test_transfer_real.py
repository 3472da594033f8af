"""The transfer experiment on the real NAS-Bench-201 table, reduced to seconds."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import OmegaConf

from metanas.priors.restricted import HeldOutTaskError
from metanas.runner.shard_store import read_shards

CONFIG_DIR = Path(__file__).resolve().parents[2] / "experiments"


@pytest.mark.slow
def test_nb201_transfer_tiny_runs_on_the_real_table(real_data: Path, tmp_path: Path) -> None:
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose(
            config_name="config",
            overrides=["experiment=nb201_transfer_tiny", "runs=2", "job.runs_per_shard=2"],
        )
    job_cfg = OmegaConf.to_container(cfg.job, resolve=True)
    job = instantiate(job_cfg)
    assert [s.dataset for s in job.settings] == ["cifar10", "cifar100", "ImageNet16-120"]
    # Held-out CIFAR-10: neither of its tasks is visible to meta-training.
    cifar10 = job.settings[0]
    view = job.training_view(cifar10)
    assert set(view.tasks) == {"cifar100", "ImageNet16-120"}
    for task in ("cifar10-valid", "cifar10"):
        with pytest.raises(HeldOutTaskError):
            view.query(0, task=task, fidelity=200, metric="test_acc")

    job.run(tmp_path)
    summary = pd.read_csv(tmp_path / "transfer_summary.csv")
    assert list(summary.columns[:12]) == [
        "benchmark", "held_out", "method", "family", "runs", "meta_seeds", "cost_unit",
        "km_median_cost_to_optimum", "found_by_budget", "regret_auc", "final_test_acc_mean",
        "final_test_acc_ci95",
    ]
    assert set(summary["benchmark"]) == {"nb201"} and set(summary["cost_unit"]) == {"simulated_s"}
    assert set(summary["held_out"]) == {"cifar10", "cifar100", "ImageNet16-120"}
    assert set(summary["method"]) == {
        "rs", "reinforce", "meta_reinforce", "meta_rea", "meta_bo", "meta_dkgp", "zero_shot",
        "warm_rea", "warm_tpe", "bounding_box", "quantile_prior", "hand_prior",
    }
    assert set(summary["family"]) == {"baseline", "transfer", "meta"}
    meta = summary["family"] == "meta"
    assert (summary.loc[meta, "meta_seeds"] == 2).all()
    assert (summary.loc[~meta, "meta_seeds"] == 0).all() and (summary["runs"] == 2).all()
    assert summary["found_by_budget"].between(0, 1).all()
    assert (summary["regret_auc"] >= 0).all()
    # Not reached (empty) exactly where fewer than half the runs found the optimum.
    reached = summary["km_median_cost_to_optimum"].notna()
    assert (reached == (summary["found_by_budget"] >= 0.5)).all()
    assert (summary.loc[reached, "km_median_cost_to_optimum"] > 0).all()
    # The table's signal at 12 epochs is a seed mean: the report must not call it noisy.
    table = (tmp_path / "table.md").read_text()
    assert "signal is deterministic" in table and "need >= 5 tasks" in table
    assert "oracle: best test accuracy among 30 (as MetaD2A's code)" in table
    # Zero-shot transfer's first query on held-out CIFAR-100 is the training tasks' best.
    traces = read_shards(tmp_path)
    zero_shot = traces[(traces["strategy"] == "zero_shot") & (traces["dataset"] == "cifar100")]
    assert (zero_shot.groupby("run")["arch_index"].first() == zero_shot["arch_index"].iloc[0]).all()
    assert (traces.loc[traces["strategy"].str.startswith("meta_"), "meta_seed"] >= 0).all()
    optima = pd.read_csv(tmp_path / "transfer_optima.csv", dtype=str).set_index("dataset")
    # The table's best 200-epoch test accuracies (NB201 paper): CIFAR-10's two best cells tie.
    assert set(optima.loc["cifar10", "optimum_arch_indices"].split(";")) == {"6111", "13714"}
    assert float(optima.loc["cifar100", "optimum_test_value"]) == pytest.approx(73.5133, abs=1e-3)
    assert float(optima.loc["ImageNet16-120", "optimum_test_value"]) == pytest.approx(47.3111, 1e-4)
    # The final accuracy is the test accuracy of the cell with the best *signal* (the
    # incumbent the search would return), not the best test accuracy it evaluated.
    first_best = traces.groupby(["dataset", "strategy", "run"])["signal"].idxmax()
    incumbent = traces.loc[first_best.to_numpy()].set_index(["dataset", "strategy"])
    expected = incumbent.groupby(level=[0, 1])["test_acc"].mean()
    got = summary.set_index(["held_out", "method"])["final_test_acc_mean"]
    pd.testing.assert_series_equal(
        got.sort_index(), expected.rename_axis(["held_out", "method"]).sort_index(),
        check_names=False, atol=1e-4,
    )
