"""Strategies reach a space only through its interface: they run unchanged on spaces whose
codes are not all members (TransNAS-Bench-101 macro) and with other op counts (micro)."""

from __future__ import annotations

import numpy as np
import pytest

from metanas.runner.strategy_registry import load_strategies
from tabular_bench.spaces import TRANSNAS_MACRO, TRANSNAS_MICRO

NAMES = ["rs", "rea", "reinforce", "bo_tpe", "local_search"]


@pytest.mark.parametrize("space", [TRANSNAS_MACRO, TRANSNAS_MICRO], ids=lambda s: s.name)
@pytest.mark.parametrize("name", NAMES)
def test_proposals_are_members_and_seeded(space, name: str) -> None:
    values = np.random.default_rng(1).normal(size=space.size)

    def trajectory(seed: int) -> list[int]:
        strategy = load_strategies([name])[name](space=space, seed=seed)
        keys = []
        for _ in range(40):
            trial = strategy.ask()
            assert space.key_of(trial.code) == trial.key
            strategy.tell(trial, float(values[trial.key]))
            keys.append(trial.key)
        return keys

    first = trajectory(0)
    assert first == trajectory(0)
    assert first != trajectory(1)
