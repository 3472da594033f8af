"""A small synthetic multi-task table for testing the mechanics of meta-learned priors.

Three related tasks share most of their structure (as CIFAR-10/100 and ImageNet16-120
do), so a prior learned on two of them helps on the third; only mechanics are tested
on it, never reported.
"""

from __future__ import annotations

import numpy as np

from tabular_bench.benchmark import Benchmark
from tabular_bench.spaces import CellSearchSpace

TOY_SPACE = CellSearchSpace("toy", ("none", "skip", "conv"), 4)


class SyntheticBenchmark(Benchmark):
    """Accuracy = shared per-edge op effects + a task-specific perturbation.

    :param seed: draws the effects; ``shift`` perturbs the third task only, so a test can
        change the held-out table and check that meta-training does not notice.
    :param space: the cell space (the strategy conformance suite uses an NB201-sized one).
    """

    tasks = ("t1", "t2", "t3")
    fidelities = (12, 200)
    metrics = ("valid_acc", "test_acc")

    def __init__(
        self, seed: int = 0, shift: float = 0.0, space: CellSearchSpace = TOY_SPACE
    ) -> None:
        self.space = space
        rng = np.random.default_rng(seed)
        shared = rng.normal(0.0, 3.0, size=(space.num_edges, space.num_ops))
        onehot = space.one_hot(space.all_codes())
        self._values: dict[str, np.ndarray] = {}
        for i, task in enumerate(self.tasks):
            own = rng.normal(0.0, 0.5, size=shared.shape) + (shift if i == 2 else 0.0) * (
                rng.normal(size=shared.shape)
            )
            self._values[task] = 60.0 + onehot @ (shared + own).ravel()
        self._costs = 10.0 + space.all_codes().sum(axis=1).astype(float)
        self.queried_tasks: set[str] = set()

    def _query(
        self,
        keys: np.ndarray,
        task: str,
        fidelity: int,
        metric: str,
        rng: np.random.Generator | None,
    ) -> np.ndarray:
        self.queried_tasks.add(task)
        value = self._values[task][keys] * (0.8 if fidelity == 12 else 1.0)
        value = value + (0.3 if metric == "test_acc" else 0.0)
        if rng is not None:
            value = value + rng.normal(0.0, 0.2, size=value.shape)
        return value

    def _cost(self, keys: np.ndarray, task: str, fidelity: int) -> np.ndarray:
        self.queried_tasks.add(task)
        return self._costs[keys] * fidelity / 12
