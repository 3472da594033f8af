"""The surrogate on the real NAS-Bench-201 table: held-out ranks and measured/predicted flags."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tabular_bench.spaces.nb201 import NB201
from tabular_bench.store import Table, TaskData
from tabular_bench.surrogate import CellPredictor, SurrogateBenchmark, rank_correlations
from tabular_bench.surrogate.validate import split_cells
from tabular_bench.tabular import TabularBenchmark


def _subset(table: Table, rows: np.ndarray) -> Table:
    tasks = {
        name: TaskData(t.values[rows], t.metrics, t.fidelities, t.cost_s[rows], t.measured[rows])
        for name, t in table.tasks.items()
    }
    return replace(table, codes=table.codes[rows], strings=table.strings[rows],
                   indices=table.indices[rows], tasks=tasks)


@pytest.mark.slow
def test_surrogate_benchmark_measured_where_trained_predicted_elsewhere(nb201_table: Table):
    train, held_out = split_cells(nb201_table.num_archs, 0.03, seed=1)
    bench = SurrogateBenchmark(_subset(nb201_table, train), seed=0)
    task, keys = "cifar10-valid", NB201.keys(nb201_table.codes)
    measured_keys, other_keys = keys[train[:50]], keys[held_out]
    assert bench.is_measured(measured_keys, task=task).all()
    assert not bench.is_measured(other_keys, task=task).any()
    truth = nb201_table.tasks[task].seed_mean()[:, 1, 0]  # 200 epochs, valid_acc
    np.testing.assert_allclose(
        bench.query(measured_keys, task=task, fidelity=200), truth[train[:50]], rtol=1e-5
    )
    predicted = bench.query(other_keys, task=task, fidelity=200)
    tau, rho = rank_correlations(truth[held_out], predicted)
    assert tau > 0.6 and rho > 0.8  # measured on 3% of the cells: tau ~0.7, rho ~0.9
    mixed = np.concatenate([measured_keys[:3], other_keys[:3]])
    assert bench.is_measured(mixed, task=task).tolist() == [True] * 3 + [False] * 3
    assert (bench.cost(other_keys[:20], task=task, fidelity=12) > 0).all()


def test_official_index_and_identity(nb201_table: Table) -> None:
    rows = np.arange(0, NB201.size, 7)
    bench = SurrogateBenchmark(_subset(nb201_table, rows), seed=3)
    everything = NB201.keys(nb201_table.codes)  # measured and predicted cells alike
    np.testing.assert_array_equal(bench.index_of(everything), nb201_table.indices)
    identity = bench.identity()
    table_identity = TabularBenchmark(_subset(nb201_table, rows)).identity()
    assert identity["class"] == "tabular_bench.surrogate.benchmark.SurrogateBenchmark"
    assert identity["seed"] == "3" and identity["table_checksum"] == table_identity["checksum"]
    assert SurrogateBenchmark(_subset(nb201_table, rows), seed=4).identity() != identity
    assert SurrogateBenchmark(_subset(nb201_table, rows[1:]), seed=3).identity() != identity


def test_table_indices_must_be_official(nb201_table: Table) -> None:
    stale = replace(_subset(nb201_table, np.arange(50)), indices=np.arange(50) + 1)
    with pytest.raises(ValueError, match="re-merge"):
        SurrogateBenchmark(stale)


def test_predictor_errors_name_the_fix() -> None:
    codes = NB201.random_codes(np.random.default_rng(0), 10)
    with pytest.raises(RuntimeError, match="fit"):
        CellPredictor().predict(codes)
    with pytest.raises(ValueError, match="finite"):
        CellPredictor().fit(codes, np.full(10, np.nan))
    with pytest.raises(ValueError, match="fraction"):
        split_cells(100, 1.5, seed=0)


def test_predictor_learns_a_function_of_the_cell() -> None:
    """Mechanics on a synthetic target: the number of 3x3 convolutions."""
    rng = np.random.default_rng(0)
    codes = NB201.random_codes(rng, 400)
    target = (codes == NB201.op_names.index("nor_conv_3x3")).sum(axis=1).astype(float)
    predictor = CellPredictor(seed=0, n_estimators=100).fit(codes[:200], target[:200])
    tau, _ = rank_correlations(target[200:], predictor.predict(codes[200:]))
    assert tau > 0.8  # the target has only 7 distinct values, so ties cap tau below 1
