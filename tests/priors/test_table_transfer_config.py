"""The own-table comparison (experiment=table_transfer) composes into a transfer job whose
folds follow ``holdout``. Mechanics only: a synthetic table named like a build's stands in
for the shipped one (no reported number comes from it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import OmegaConf

from tabular_bench.builder.merge import METRICS
from tabular_bench.spaces import NB201
from tabular_bench.store import Provenance, Table, TaskData, write_table

CONFIG_DIR = Path(__file__).resolve().parents[2] / "experiments"
EPOCHS = 12


def _compose(*overrides: str):
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=["experiment=table_transfer", *overrides])


def _table_like_a_build(tasks: list[str], path: Path, cells: int = 30) -> Path:
    """Random accuracies in the merged layout (metrics per epoch 1..12)."""
    rng = np.random.default_rng(0)
    keys = np.sort(rng.choice(NB201.size, size=cells, replace=False))
    data = {}
    for task in tasks:
        values = np.full((cells, 1, EPOCHS, len(METRICS)), np.nan, dtype=np.float32)
        values[:, 0, -1, METRICS.index("valid_acc")] = rng.uniform(20, 80, cells)
        values[:, 0, -1, METRICS.index("test_acc")] = rng.uniform(20, 80, cells)
        cost = np.cumsum(rng.uniform(0.2, 0.5, (cells, EPOCHS)), axis=1).astype(np.float32)
        data[task] = TaskData(values, METRICS, tuple(range(1, EPOCHS + 1)), cost,
                              np.ones(cells, dtype=bool))
    table = Table("nb201", NB201.codes(keys), np.asarray(NB201.strings(keys)),
                  NB201.official_index(keys), data, Provenance("synthetic", "0" * 64, "tests"))
    return write_table(table, path)


def test_defaults_read_the_shipped_table_and_list_both_distributions() -> None:
    cfg = _compose()
    assert cfg.benchmark._target_ == "tabular_bench.loaders.embedded"
    tasks = list(cfg.protocol.own_table.settings)
    assert len(tasks) == 24 and len({t.split(".")[0] for t in tasks}) == 2
    assert sum(t.startswith("cifar100.") for t in tasks) == 8


@pytest.mark.parametrize("holdout", ["task", "distribution"])
def test_folds_follow_holdout(holdout: str, tmp_path: Path) -> None:
    tasks = list(_compose().protocol.own_table.settings)
    path = _table_like_a_build(tasks, tmp_path / "table.h5")
    cfg = _compose(f"holdout={holdout}", "benchmark._target_=tabular_bench.loaders.table_file",
                   "~benchmark.name", f"+benchmark.path={path}")
    job = instantiate(OmegaConf.to_container(cfg.job, resolve=True), progress=False)
    fold = {s.dataset: s for s in job.settings}
    fish, bengali = fold["cifar100.aquatic_mammals"], fold["omniglot.Bengali"]
    if holdout == "task":
        assert len(job.training_tasks(fish)) == 23
    else:
        assert job.training_tasks(fish) == [t for t in tasks if t.startswith("omniglot.")]
        assert job.training_tasks(bengali) == [t for t in tasks if t.startswith("cifar100.")]
