"""Optuna-backed BO learns: it beats random search on a smooth objective."""

from __future__ import annotations

import numpy as np
import pytest

from metanas.strategies.optuna_bo import TPE, GaussianProcessBO
from metanas.strategies.random_search import RandomSearch
from strategies.synthetic import additive_table, run
from tabular_bench.spaces import CellSearchSpace

SMALL = CellSearchSpace("small", ("a", "b", "c", "d"), 6)  # 4,096 cells
VALUES = additive_table(SMALL, seed=3)
# Regret as a quantile: the share of cells better than the best one found.
BETTER_SHARE = 1.0 - (VALUES.argsort().argsort() + 1) / SMALL.size


def mean_regret(factory, budget: int, seeds: range) -> float:
    found = [BETTER_SHARE[run(factory(SMALL, seed=s), VALUES, budget)].min() for s in seeds]
    return float(np.mean(found))


@pytest.mark.parametrize(
    ("factory", "budget", "seeds"),
    [(TPE, 30, range(8)), (GaussianProcessBO, 16, range(4))],
    ids=["tpe", "gp"],
)
def test_bo_beats_random_search_on_an_additive_objective(factory, budget, seeds) -> None:
    bo = mean_regret(factory, budget, seeds)
    rs = mean_regret(RandomSearch, budget, range(200))  # ~1 / (budget + 1)
    assert bo < 0.5 * rs, (bo, rs)


def test_sampler_seed_comes_from_the_strategy_generator() -> None:
    a, b = TPE(SMALL, seed=10**12), TPE(SMALL, seed=10**12)
    assert [a.ask().key for _ in range(12)] == [b.ask().key for _ in range(12)]
