"""The reduced CPU MAML run on real Omniglot learns: >= 80% 5-way 1-shot on meta-test."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import OmegaConf

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"


@pytest.mark.slow
def test_reduced_maml_reaches_80_percent_on_meta_test_characters(real_data, tmp_path) -> None:
    with initialize_config_dir(config_dir=str(EXPERIMENTS), version_base="1.3"):
        cfg = compose(config_name="config", overrides=["experiment=omniglot_maml_5w1s_cpu"])
    job_cfg = OmegaConf.to_container(cfg.job, resolve=True)
    job_cfg["tasks"]["root"] = str(real_data / "omniglot")
    job = instantiate(job_cfg)
    job.run(tmp_path)
    with (tmp_path / "summary.csv").open() as f:
        [row] = list(csv.DictReader(f))
    assert (row["method"], row["setting"]) == ("maml", "5w1s")
    assert float(row["test_acc_mean"]) >= 80.0, row
