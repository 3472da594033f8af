"""Partial tables: search over the measured networks only, or over the whole space with a
clipped surrogate; metric units, directions and per-task normalisation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from metanas.runner.strategy_registry import load_strategies
from tabular_bench.benchmark import metric_spec
from tabular_bench.importers import importer_named
from tabular_bench.spaces import TRANSNAS_MICRO
from tabular_bench.store import Table
from tabular_bench.surrogate import SurrogateBenchmark
from tabular_bench.tabular import TabularBenchmark, measured_only

STRATEGIES = ["rs", "rea", "reinforce", "bo_tpe", "bo_gp", "local_search"]


@pytest.fixture(scope="module")
def micro(real_data: Path) -> Table:
    return importer_named("naslib-zc-transnas-micro")(
        real_data / "transnas101/zc_transbench101_micro.json"
    )


@pytest.mark.parametrize("name", STRATEGIES)
def test_every_strategy_searches_the_measured_networks_only(micro: Table, name: str) -> None:
    bench = measured_only(micro)
    assert bench.space.size == 711 and bench.space.family == "transnas_micro"
    strategy = load_strategies([name])[name](space=bench.space, seed=0)
    steps = 15 if name == "bo_gp" else 60
    for _ in range(steps):
        trial = strategy.ask()
        value = bench.query(trial.key, task="jigsaw", fidelity=-1, metric="valid_top1")[0]
        strategy.tell(trial, float(value))
        assert bench.is_measured(trial.key, task="jigsaw")[0]
        assert np.array_equal(bench.space.code(trial.key), trial.code)
    # traces show the full space's official index of each measured network
    keys = np.arange(bench.space.size)
    assert np.array_equal(bench.index_of(keys), TRANSNAS_MICRO.official_index(
        TRANSNAS_MICRO.keys(bench.space.codes(keys))))


def test_measured_only_on_some_tasks(micro: Table) -> None:
    table = Table(micro.space, micro.codes, micro.strings, micro.indices,
                  {**micro.tasks}, micro.provenance)
    gap = table.tasks["normal"].measured.copy()
    gap[:11] = False
    table.tasks["normal"] = type(table.tasks["normal"])(
        table.tasks["normal"].values, table.tasks["normal"].metrics,
        table.tasks["normal"].fidelities, table.tasks["normal"].cost_s, gap)
    assert measured_only(table).space.size == 700
    assert measured_only(table, tasks=("jigsaw",)).space.size == 711
    with pytest.raises(KeyError, match="unknown tasks"):
        measured_only(table, tasks=("cifar10",))


def test_surrogate_completes_the_space_within_the_recorded_range(micro: Table) -> None:
    bench = SurrogateBenchmark(micro)
    keys = np.arange(TRANSNAS_MICRO.size)
    measured = bench.is_measured(keys, task="jigsaw")
    assert measured.sum() == 711
    values = bench.query(keys, task="jigsaw", fidelity=-1, metric="valid_top1")
    recorded = TabularBenchmark(micro).value_range(task="jigsaw", fidelity=-1, metric="valid_top1")
    assert bench.value_range(task="jigsaw", fidelity=-1, metric="valid_top1") == recorded
    assert recorded[0] <= values.min() and values.max() <= recorded[1]
    table_keys = TRANSNAS_MICRO.keys(micro.codes)
    assert np.array_equal(values[table_keys], TabularBenchmark(micro).query(
        table_keys, task="jigsaw", fidelity=-1, metric="valid_top1"))


def test_metric_units_directions_and_normalisation(micro: Table) -> None:
    bench = TabularBenchmark(micro)
    assert metric_spec("valid_top1").unit == "%"
    assert metric_spec("valid_ssim").unit == "SSIM"
    assert metric_spec("valid_neg_loss").unit == "negative L2 loss"
    assert metric_spec("valid_mIoU").unit == "%"
    assert not metric_spec("flops").higher_is_better and metric_spec("zc_snip").unit == "score"
    with pytest.raises(KeyError, match="METRICS"):
        metric_spec("accuracy")
    keys = TRANSNAS_MICRO.keys(micro.codes)
    for task, metric in (("room_layout", "valid_neg_loss"), ("autoencoder", "valid_ssim")):
        raw = bench.query(keys, task=task, fidelity=-1, metric=metric)
        scaled = bench.normalize(raw, task=task, fidelity=-1, metric=metric)
        assert scaled.min() == 0 and scaled.max() == 1
        assert np.argmax(scaled) == np.argmax(raw)  # higher is better on both
    params = bench.query(keys, task="jigsaw", fidelity=-1, metric="params")
    assert np.argmax(bench.normalize(params, task="jigsaw", fidelity=-1, metric="params")) == \
        np.argmin(params)  # fewer parameters is better


def test_query_refuses_an_int_rng(micro: Table) -> None:
    bench = TabularBenchmark(micro)
    key = int(TRANSNAS_MICRO.keys(micro.codes[:1])[0])
    with pytest.raises(TypeError, match=r"np.random.default_rng\(0\)"):
        bench.query(key, task="jigsaw", fidelity=-1, metric="valid_top1", rng=0)
