"""TabularBenchmark and the Benchmark defaults: look-ups, seed draws, errors, official
index, identity."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tabular_bench.benchmark import Benchmark
from tabular_bench.spaces import NB201, CellSearchSpace
from tabular_bench.store import Table, read_table, write_table
from tabular_bench.tabular import TabularBenchmark


def test_mean_and_cost_lookups(toy_table: Table) -> None:
    bench = TabularBenchmark(toy_table)
    keys = NB201.keys(toy_table.codes)
    task = toy_table.tasks["toy"]
    np.testing.assert_allclose(
        bench.query(keys, task="toy", fidelity=200, metric="test_acc"),
        np.nanmean(task.values[:, :, 1, 1], axis=1),
        rtol=1e-6,
    )
    np.testing.assert_array_equal(
        bench.cost(keys[::-1], task="toy", fidelity=12), task.cost_s[::-1, 0]
    )
    np.testing.assert_array_equal(bench.is_measured(keys, task="toy"), task.measured)
    assert bench.query(int(keys[3]), task="toy", fidelity=12).shape == (1,)


def test_seed_draw_is_reproducible_and_recorded(toy_table: Table) -> None:
    bench = TabularBenchmark(toy_table)
    keys = np.repeat(NB201.keys(toy_table.codes), 40)
    draw = [
        bench.query(keys, task="toy", fidelity=12, rng=np.random.default_rng(s)) for s in (1, 1, 2)
    ]
    np.testing.assert_array_equal(draw[0], draw[1])
    assert not np.array_equal(draw[0], draw[2])
    rows = np.repeat(np.arange(toy_table.num_archs), 40)
    seeds = toy_table.tasks["toy"].values[rows, :, 0, 0]
    assert np.isclose(draw[0][:, None], seeds).any(axis=1).all()  # always a recorded seed
    row1 = draw[0][rows == 1]  # row 1: seeds 1 and 2 recorded, seed 0 missing
    assert set(row1.astype(np.float32).tolist()) == set(seeds[rows == 1][0, 1:].tolist())


def test_official_index_mapping(toy_table: Table) -> None:
    bench = TabularBenchmark(toy_table)
    keys = NB201.keys(toy_table.codes)
    np.testing.assert_array_equal(bench.index_of(keys), toy_table.indices)
    np.testing.assert_array_equal(bench.keys_of(toy_table.indices), keys)
    with pytest.raises(KeyError, match="not in the table"):
        bench.keys_of([0])


def test_errors_name_what_exists(toy_table: Table) -> None:
    bench = TabularBenchmark(toy_table)
    key = int(NB201.keys(toy_table.codes[:1])[0])
    absent = int(np.setdiff1d(np.arange(NB201.size), NB201.keys(toy_table.codes))[0])
    with pytest.raises(KeyError, match="toy"):
        bench.query(key, task="cifar10", fidelity=12)
    with pytest.raises(KeyError, match="metric"):
        bench.query(key, task="toy", fidelity=12, metric="train_loss")
    with pytest.raises(KeyError, match="fidelit"):
        bench.query(key, task="toy", fidelity=50)
    with pytest.raises(KeyError, match="not in this table"):
        bench.query(absent, task="toy", fidelity=12)
    with pytest.raises(ValueError, match="keys lie in"):
        bench.cost(NB201.size, task="toy", fidelity=12)
    with pytest.raises(ValueError, match="integers"):
        bench.query(np.array([float(key)]), task="toy", fidelity=12)
    with pytest.raises(ValueError, match="integers"):
        bench.index_of(float(key))
    with pytest.raises(ValueError, match="space"):
        TabularBenchmark(toy_table, space=type(NB201)(name="other"))


def test_metric_missing_for_one_task(nb201_bench: TabularBenchmark) -> None:
    with pytest.raises(KeyError, match="has metrics"):
        nb201_bench.query(0, task="cifar10-valid", fidelity=200, metric="test_acc")


def test_paper_optima(nb201_bench: TabularBenchmark) -> None:
    """The data README's sanity values: best valid rows and best test accuracies."""
    keys = nb201_bench.keys_of(np.arange(NB201.size))
    expected = {  # task: (valid index, best valid, best test)
        "cifar100": (9930, 73.493, 73.513),
        "ImageNet16-120": (10676, 46.733, 47.311),
    }
    for task, (index, best_valid, best_test) in expected.items():
        valid = nb201_bench.query(keys, task=task, fidelity=200)
        assert nb201_bench.index_of(keys[np.argmax(valid)])[0] == index
        assert valid.max() == pytest.approx(best_valid, abs=1e-3)
        test = nb201_bench.query(keys, task=task, fidelity=200, metric="test_acc")
        assert test.max() == pytest.approx(best_test, abs=1e-3)
    valid = nb201_bench.query(keys, task="cifar10-valid", fidelity=200)
    best = keys[np.argmax(valid)]
    assert nb201_bench.index_of(best)[0] == 6111 and valid.max() == pytest.approx(91.607, abs=1e-3)
    c10 = nb201_bench.query(keys, task="cifar10", fidelity=200, metric="test_acc")
    assert c10[np.argmax(valid)] == pytest.approx(94.373, abs=1e-3)
    assert c10.max() == pytest.approx(94.373, abs=1e-3)


def test_costs_follow_protocol(nb201_table: Table, nb201_bench: TabularBenchmark) -> None:
    key = nb201_bench.keys_of(0)
    # index 0: cifar10/train_time_epoch_s = 14.4422; cifar10-valid trains on half of it
    assert nb201_bench.cost(key, task="cifar10-valid", fidelity=12)[0] == pytest.approx(
        12 * 14.4422 / 2, rel=1e-6
    )
    assert nb201_bench.cost(key, task="cifar10", fidelity=200)[0] == pytest.approx(
        200 * 14.4422, rel=1e-6
    )
    assert nb201_bench.cost(key, task="ImageNet16-120", fidelity=12)[0] == pytest.approx(
        12 * 43.8176, rel=1e-6
    )


def test_identity_ignores_creation_time_and_tracks_values(toy_table: Table, tmp_path: Path):
    bench = TabularBenchmark(toy_table)
    read_back = TabularBenchmark(read_table(write_table(toy_table, tmp_path / "t.h5")))
    assert read_back.identity() == bench.identity()
    assert bench.identity()["class"] == "tabular_bench.tabular.TabularBenchmark"
    assert bench.identity()["source_sha256"] == toy_table.provenance.source_sha256
    later = replace(toy_table, provenance=replace(toy_table.provenance, created="2000-01-01"))
    assert TabularBenchmark(later).identity() == bench.identity()
    task = toy_table.tasks["toy"]
    changed = replace(toy_table, tasks={"toy": replace(task, values=task.values + 1)})
    assert TabularBenchmark(changed).identity()["checksum"] != bench.identity()["checksum"]


class _Constant(Benchmark):
    """The least a benchmark implements: the defaults of the ABC are under test."""

    tasks, fidelities, metrics = ("t",), (1,), ("valid_acc",)

    def __init__(self, space: CellSearchSpace) -> None:
        self.space = space

    def _query(self, keys, task, fidelity, metric, rng):
        return np.zeros(keys.shape)

    def _cost(self, keys, task, fidelity):
        return np.ones(keys.shape)


def test_benchmark_defaults() -> None:
    generic = _Constant(CellSearchSpace("toy", ("a", "b"), 3))
    np.testing.assert_array_equal(generic.index_of(np.array([3, 0], np.uint8)), [3, 0])
    assert generic.index_of(5).dtype == np.int64 and generic.index_of(5).shape == (1,)
    assert generic.is_measured([1, 2], task="t").tolist() == [True, True]
    assert generic.identity() == {"class": f"{__name__}._Constant"}
    with pytest.raises(ValueError, match="lie in"):
        generic.index_of(8)
    with pytest.raises(ValueError, match="integers"):
        generic.is_measured([1.5], task="t")
    assert _Constant(NB201).index_of(13931).tolist() == [0]  # NB201's published order


def test_nb201_index_of_agrees_with_the_space(nb201_bench: TabularBenchmark) -> None:
    keys = np.random.default_rng(0).choice(NB201.size, 500, replace=False)
    np.testing.assert_array_equal(nb201_bench.index_of(keys), NB201.official_index(keys))
