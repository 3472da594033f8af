"""Fixtures of the tabular_bench tests: the real NB201 benchmark and fakes."""

from __future__ import annotations

import numpy as np
import pytest

from tabular_bench.spaces import NB201
from tabular_bench.store import Provenance, Table, TaskData
from tabular_bench.tabular import TabularBenchmark


@pytest.fixture(scope="session")
def nb201_bench(nb201_table: Table) -> TabularBenchmark:
    return TabularBenchmark(nb201_table)


def synthetic_table(n: int = 50, seed: int = 0) -> Table:
    """A small random table with gaps (NaN seeds), for mechanics only."""
    rng = np.random.default_rng(seed)
    keys = rng.choice(NB201.size, size=n, replace=False)
    values = rng.uniform(10, 95, size=(n, 3, 2, 2)).astype(np.float32)
    values[::3, 2] = np.nan  # some rows have two seeds
    values[1, 0] = np.nan  # row 1 has seeds 1 and 2 only (a gap before recorded ones)
    task = TaskData(
        values=values,
        metrics=("valid_acc", "test_acc"),
        fidelities=(12, 200),
        cost_s=rng.uniform(100, 2000, size=(n, 2)).astype(np.float32),
        measured=rng.random(n) < 0.8,
    )
    return Table(
        space="nb201",
        codes=NB201.codes(keys),
        strings=np.asarray(NB201.strings(keys)),
        indices=rng.permutation(n) + 100,
        tasks={"toy": task},
        provenance=Provenance("synthetic", "0" * 64, "tests"),
    )


@pytest.fixture
def toy_table() -> Table:
    return synthetic_table()
