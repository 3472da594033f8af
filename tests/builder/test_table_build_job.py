"""The table-build job: its experiment config composes, bad settings fail before any
work, and one in-process run on real data writes units and the merged table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from tabular_bench.builder.job import TableBuildJob
from tabular_bench.builder.quality import COLUMNS, has_nb201_cells, nb201_keys, quality, seed_tau
from tabular_bench.builder.shards import write_protocol
from tabular_bench.spaces import TRANSNAS_MACRO, TRANSNAS_MICRO
from tabular_bench.spaces.nb201 import NB201
from tabular_bench.tabular import TabularBenchmark

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"
TINY_PROTOCOL = {"epochs": 1, "batch_size": 64, "channels": 2, "cells_per_stage": 1,
                 "augment": False, "valid_fraction": 0.2, "image_size": 12, "seeds": [1, 2]}


def compose_experiment(*overrides: str):
    with initialize_config_dir(config_dir=str(EXPERIMENTS), version_base="1.3"):
        return compose("config", overrides=["experiment=table_build_cpu", *overrides])


def test_cpu_build_config_is_the_sized_plan() -> None:
    job = instantiate(compose_experiment().job)
    assert isinstance(job, TableBuildJob)
    assert set(job.sources) == {"cifar100", "omniglot"}
    assert len(job.keys) >= 100 and len(job.repeat_keys) >= 20
    assert np.isin(job.keys, NB201.canonical_keys()).all()
    assert len(job.protocol.seeds) == 2 and job.protocol.image_size == 16


@pytest.mark.parametrize(("settings", "message"), [
    ({"tasks": {"a.b": {"distribution": "fc100"}}}, "hold no '.'"),
    ({"tasks": {}}, "tasks is empty"),
    ({"shard": 2, "num_shards": 2}, r"shard must lie in \[0, num_shards=2\)"),
    ({"all_seeds_cells": 101}, "exceeds the 100 chosen cells"),
    ({"protocol": {"epochs": 0}}, "invalid protocol settings"),
    ({"protocol": {"image_size": 14}}, r"invalid protocol settings \['image_size'\]"),
])
def test_bad_settings_fail_at_construction(settings: dict, message: str) -> None:
    base = {"tasks": {"omniglot": {"distribution": "omniglot_lake"}},
            "cells": {"mode": "sample", "sample_size": 100}, "protocol": {}}
    with pytest.raises(ValueError, match=message):
        TableBuildJob(**(base | settings))


@pytest.mark.slow
def test_job_builds_prefixed_tasks_and_merges(real_data: Path, tmp_path: Path) -> None:
    archs = [NB201.to_string(code) for code in ((3, 3, 4, 1, 3, 1), (0, 1, 0, 1, 2, 4))]
    job = TableBuildJob(
        tasks={"omniglot": {"distribution": "omniglot_lake", "limit": 1,
                            "overrides": {"root": str(real_data / "omniglot")}}},
        cells={"mode": "list", "archs": archs}, protocol=TINY_PROTOCOL, all_seeds_cells=1,
        device="cpu",
    )
    job.run(tmp_path)
    units = sorted(p.name for p in (tmp_path / "units").rglob("*.json"))
    assert len(units) == 3  # both cells with seed 1, one of them with seed 2 too
    bench = TabularBenchmark.from_file(tmp_path / "table.h5")
    assert bench.tasks == ("omniglot.Alphabet_of_the_Magi",)
    first = job.load_tasks()[0]
    assert first.x_train.shape[1:] == (1, 12, 12)


def _units(tau_sign: int) -> pd.DataFrame:
    keys = np.arange(6)
    rows = [{"key": k, "task": "omniglot.Greek", "seed": 1, "test_acc": float(k), "wall_s": 2.0,
             "cpu_s": 1.0} for k in keys]
    rows += [{"key": k, "task": "omniglot.Greek", "seed": 2, "test_acc": float(tau_sign * k),
              "wall_s": 4.0, "cpu_s": 1.5} for k in keys[:4]]
    return pd.DataFrame(rows)


class _Reference:
    """Stands in for NAS-Bench-201: a cell's CIFAR-10 accuracy is minus its key."""

    def query(self, keys: np.ndarray, **_: object) -> np.ndarray:
        return -np.asarray(keys, dtype=float)


def test_quality_rows_seed_tau_and_reference_tau() -> None:
    assert seed_tau(_units(1)) == (1.0, 4)
    assert seed_tau(_units(-1)) == (-1.0, 4)
    table = quality(_units(1), _Reference())
    assert list(table.columns) == list(COLUMNS)
    row = table.iloc[0]
    assert (row.distribution, row.cells, row.seeds, row.seed_pairs) == ("omniglot", 6, 2, 4)
    assert row.tau_vs_nb201_cifar10 == pytest.approx(-1.0)
    assert row.unit_seconds == pytest.approx((6 * 2.0 + 4 * 4.0) / 10)  # mean over units
    assert row.unit_cpu_seconds == pytest.approx((6 * 1.0 + 4 * 1.5) / 10)
    assert np.isnan(quality(_units(1)).iloc[0].tau_vs_nb201_cifar10)


def test_quality_compares_micro_cells_with_their_nb201_twins() -> None:
    codes = np.array([[3, 3, 2, 1, 3, 1], [0, 1, 0, 1, 2, 0], [1, 2, 3, 0, 0, 1]])
    np.testing.assert_array_equal(nb201_keys(TRANSNAS_MICRO.keys(codes), TRANSNAS_MICRO),
                                  NB201.keys(codes))
    assert has_nb201_cells(NB201) and not has_nb201_cells(TRANSNAS_MACRO)
    assert nb201_keys(np.arange(3), TRANSNAS_MACRO) is None
    # micro keys 0..5 are NB201 keys 0, 1, 2, 3, 5, 6: the same order, so tau -1 as for NB201
    micro = quality(_units(1), _Reference(), TRANSNAS_MICRO).iloc[0]
    assert micro.tau_vs_nb201_cifar10 == pytest.approx(-1.0)
    assert np.isnan(quality(_units(1), _Reference(), TRANSNAS_MACRO).iloc[0].tau_vs_nb201_cifar10)


def test_prepare_refuses_a_folder_of_another_protocol(tmp_path: Path) -> None:
    settings = {"tasks": {"omniglot": {"distribution": "omniglot_lake"}},
                "cells": {"sample_size": 100}}
    TableBuildJob(**settings, protocol=TINY_PROTOCOL).prepare(tmp_path)  # empty: fine
    write_protocol(tmp_path, TableBuildJob(**settings, protocol=TINY_PROTOCOL).protocol)
    other = TableBuildJob(**settings, protocol=TINY_PROTOCOL | {"epochs": 2})
    with pytest.raises(ValueError, match=r"different configuration \(differing: epochs: "):
        other.prepare(tmp_path)
