"""Synthetic benchmark and strategy for the runner's mechanics tests (no real data)."""

from __future__ import annotations

import numpy as np
import pytest

from metanas.strategies.base import Strategy, Trial
from tabular_bench.benchmark import Benchmark
from tabular_bench.spaces import CellSearchSpace


class SyntheticBenchmark(Benchmark):
    """A 4^3 space whose accuracies are smooth functions of the code, 3 recorded seeds."""

    def __init__(self) -> None:
        self.space = CellSearchSpace("synthetic", ("a", "b", "c", "d"), 3)
        self.tasks = ("toy-valid", "toy", "toy-transfer")
        self.fidelities = (12, 200)
        self.metrics = ("valid_acc", "test_acc")
        codes = self.space.all_codes().astype(float)
        base = 50 + 10 * codes.sum(axis=1) - 2.0 * (codes[:, 0] - 2) ** 2
        self._values = {
            ("valid_acc", 12): base[:, None] + np.array([-1.0, 0.0, 1.0])[None, :],
            ("valid_acc", 200): (base + 5)[:, None] + np.zeros((1, 3)),
            ("test_acc", 12): (base + 1)[:, None] + np.zeros((1, 3)),
            ("test_acc", 200): (base + 6 - codes[:, 2])[:, None] + np.zeros((1, 3)),
        }
        self._seconds = 10.0 + codes[:, 1] * 5.0

    def _query(self, keys, task, fidelity, metric, rng):
        values = self._values[(metric, fidelity)][keys]
        if task == "toy-transfer":
            values = values - 20
        if rng is None:
            return values.mean(axis=1)
        return values[np.arange(keys.size), rng.integers(0, values.shape[1], keys.size)]

    def _cost(self, keys, task, fidelity):
        return self._seconds[keys] * fidelity / 12

    def index_of(self, keys: np.ndarray) -> np.ndarray:
        return np.asarray(keys, dtype=np.int64) + 1000


class GreedyRandom(Strategy):
    """Random proposals, then mutations of the best; enough to exercise the runner."""

    def _propose(self) -> np.ndarray:
        if len(self.history) < 3:
            return self.space.random_codes(self.rng)[0]
        best = max(self.history, key=lambda tv: tv[1])[0]
        return self.space.mutate(np.asarray(best.code), self.rng)

    def _observe(self, trial: Trial, value: float) -> None:
        pass


SYNTHETIC_PROTOCOLS = {
    "toyproto": {
        "signal": {"metric": "valid_acc", "fidelity": 12, "sample_seed": True},
        "test": {"metric": "test_acc", "fidelity": 200},
        "settings": {
            "toy": {
                "search_task": "toy-valid",
                "test_task": "toy",
                "budget_s": 300,
                "transfer_tasks": ["toy-transfer"],
            },
        },
    },
    "other": {
        "signal": {"metric": "valid_acc", "fidelity": 12},
        "test": {"metric": "test_acc", "fidelity": 200},
        "settings": {"toy": {"search_task": "toy", "test_task": "toy", "budget_s": 500}},
    },
}


@pytest.fixture
def synthetic_benchmark() -> SyntheticBenchmark:
    return SyntheticBenchmark()
