"""``python -m metanas.report`` on each kind of folder the harness writes: a search on a
non-percent table (units, digits and limits from the data), a transfer job, few-shot runs
and a table build; each on a small folder written by the real job code."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import OmegaConf

from metanas.report import REPORT_FILE, SECTIONS, build_report
from metanas.report.__main__ import main as report_main
from metanas.report.search import data_limits
from metanas.runner.search_job import SearchJob
from metanas.runner.strategy_registry import load_strategies
from tabular_bench import loaders

CONFIG_DIR = Path(__file__).resolve().parents[2] / "experiments"
TRANSNAS = "transnas101/zc_transbench101_micro.json"


def _applying(folder: Path) -> list[str]:
    return [s.name for s in SECTIONS if s.applies(folder)]


def test_limits_come_from_the_data() -> None:
    ssim = np.linspace(0.50, 0.56, 50)
    low, high = data_limits(ssim, best=0.57)
    assert 0.49 < low < 0.502 and 0.57 < high < 0.58  # not the fixed -6/+0.3 points
    low, high = data_limits(np.array([-0.62, -0.61]))
    assert low < -0.62 and -0.61 < high < -0.6
    assert data_limits(np.array([np.nan])) == (0.0, 1.0)


def test_search_report_on_a_transnas_ssim_and_loss_search(
    real_data: Path, tmp_path: Path
) -> None:
    bench = loaders.imported("naslib-zc-transnas-micro", TRANSNAS, completion="measured",
                             cache_dir=str(tmp_path / "cache"))
    protocols = OmegaConf.to_container(OmegaConf.load(CONFIG_DIR / "protocol/transnas.yaml"))
    protocols = {k: v for k, v in protocols.items() if k in ("transnas_ssim", "transnas_neg_loss")}
    for spec in protocols.values():
        for setting in spec["settings"].values():
            setting["budget_s"] = 10
    out = tmp_path / "search"
    job = SearchJob(benchmark=bench, protocols=protocols, strategies=load_strategies(["rs"]),
                    runs=3, n_jobs=1, runs_per_shard=3, progress=False)
    job.run(out)
    assert _applying(out) == ["search"]
    report_main([str(out)])
    text = (out / REPORT_FILE).read_text()
    assert "Validation SSIM (`valid_ssim`)" in text
    assert "Validation negative L2 loss (`valid_neg_loss`)" in text
    assert "%" not in text and "Test accuracy" not in text
    # Budgets count queries on a table without training times, not seconds.
    assert "(budget: autoencoder 10 queries, normal 10 queries)" in text and " 10 s" not in text
    # SSIM values get four significant digits, not two decimals.
    row = next(line for line in text.splitlines() if line.startswith("| `rs`"))
    assert len(row.split("|")[4].split("±")[0].strip().split(".")[1]) >= 3
    assert (out / "search_curves.png").stat().st_size > 0


@pytest.mark.slow
def test_transfer_folder_is_reported(real_data: Path, tmp_path: Path) -> None:
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[
            "experiment=nb201_transfer_tiny", "runs=2", "job.runs_per_shard=2",
            "job.baselines.names=[rs]", "job.transfer_methods.names=[zero_shot]",
            "job.meta_methods.meta_bo=null", "job.meta_methods.meta_dkgp=null",
            "job.meta_methods.meta_reinforce=null",
            "job.meta_training.meta_seeds=1", "job.metad2a.runs=1"])
    job = instantiate(OmegaConf.to_container(cfg.job, resolve=True), progress=False)
    job.run(tmp_path)
    (tmp_path / REPORT_FILE).unlink()
    (tmp_path / "transfer_summary.csv").unlink()
    assert _applying(tmp_path) == ["transfer"]  # its shards are not a search's
    build_report(tmp_path)
    assert "priors-from-tables:start" in (tmp_path / REPORT_FILE).read_text()
    summary = pd.read_csv(tmp_path / "transfer_summary.csv")
    assert {"rs", "zero_shot", "meta_rea"} <= set(summary["method"])


def _fewshot_run(root: Path, name: str) -> Path:
    run = root / name
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "overrides.yaml").write_text("- experiment=omniglot_maml_5w1s\n")
    (run / "curve.csv").write_text("iteration,acc,ci95,train_time_s\n0,50.0,2.0,0.0\n"
                                   "500,90.5,1.1,120.0\n")
    return run


def test_fewshot_runs_are_reported(tmp_path: Path) -> None:
    runs = tmp_path / "fewshot"
    single = _fewshot_run(runs, "seed0")
    _fewshot_run(runs, "seed1")
    assert _applying(runs) == ["fewshot"] and _applying(single) == ["fewshot"]
    build_report(runs)
    text = (runs / REPORT_FILE).read_text()
    assert "## Few-shot results" in text and "| maml | omniglot | 5w1s | 500 | 2 |" in text
    own = ("method,setting,transductive,test_acc_mean,test_acc_ci95,episodes,iterations,"
           "meta_batch,seed,device,wall_time_s\nmaml,5w1s,False,97.0,0.3,600,1000,5,0,cpu,10\n")
    (single / "summary.csv").write_text(own)  # the finished run's own result
    build_report(single)  # a run's report goes to report/, its summary.csv stays
    assert (single / "summary.csv").read_text() == own
    report = pd.read_csv(single / "report" / "summary.csv")
    assert report.loc[0, "test_acc_mean"] == 97.0


def test_table_build_is_reported(tmp_path: Path) -> None:
    from tabular_bench.builder.protocol import Protocol
    from tabular_bench.builder.shards import run_shard
    from tabular_bench.builder.train import SplitTask
    from tabular_bench.spaces import NB201

    g = torch.Generator().manual_seed(0)

    def part(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.rand(n, 1, 8, 8, generator=g), torch.randint(0, 3, (n,), generator=g)

    task = SplitTask("toy", 3, *part(24), *part(8), *part(8))
    protocol = Protocol(epochs=1, batch_size=8, channels=2, cells_per_stage=1, augment=False,
                        valid_fraction=0.25, seeds=(1, 2))
    cells = np.array([NB201.key((3, 3, 4, 1, 3, 1)), NB201.key((0, 1, 0, 1, 2, 4)),
                      NB201.key((1, 1, 1, 1, 1, 1))])
    run_shard(tmp_path, cells, [task], protocol, models_in_flight=3, device=torch.device("cpu"))
    assert _applying(tmp_path) == ["table build"]
    build_report(tmp_path)
    quality = pd.read_csv(tmp_path / "quality.csv")
    assert quality.loc[0, "task"] == "toy" and quality.loc[0, "cells"] == 3
    assert "## Table build quality" in (tmp_path / REPORT_FILE).read_text()


def test_unknown_folder_names_every_kind(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text(json.dumps({}))
    with pytest.raises(FileNotFoundError, match="search, transfer, fewshot, table build"):
        build_report(tmp_path)
