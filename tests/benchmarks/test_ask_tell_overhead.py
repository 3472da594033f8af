"""Per ask+tell overhead of every strategy, as a ratio to random search in the same run.

The objective is a table look-up, so the time is the strategy's own. Optuna's samplers are
timed per ask at a given history length (their cost grows with it): the history is filled by
their own random start-up (``n_startup_trials``), then model-based asks are timed.
With ``--benchmark-disable`` (the default) each test runs once, on short loops.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from metanas.runner.strategy_registry import load_strategies
from tabular_bench.spaces import NB201

VALUES = np.random.default_rng(0).uniform(80, 95, size=NB201.size).tolist()
FAST = ["rs", "rea", "reinforce", "local_search"]


def _loop(factory, pairs: int, seed: int = 0) -> None:
    _ask_tell(factory(space=NB201, seed=seed), pairs)


def _ask_tell(strategy, pairs: int) -> None:
    for _ in range(pairs):
        trial = strategy.ask()
        strategy.tell(trial, VALUES[trial.key])


def _us_per_pair(factory, pairs: int, repeats: int) -> float:
    best = float("inf")
    for seed in range(repeats):
        start = time.perf_counter()
        _loop(factory, pairs, seed)
        best = min(best, time.perf_counter() - start)
    return best / pairs * 1e6


@pytest.mark.parametrize("name", FAST)
def test_ask_tell_overhead(benchmark, name: str) -> None:
    factories = load_strategies(sorted({"rs", name}))
    pairs, repeats = (300, 1) if benchmark.disabled else (3000, 5)
    rs_us = _us_per_pair(factories["rs"], pairs, repeats)
    benchmark.pedantic(_loop, args=(factories[name], pairs), rounds=repeats, iterations=1)
    us = _us_per_pair(factories[name], pairs, repeats)
    benchmark.extra_info.update(
        us_per_ask_tell=us, rs_us_per_ask_tell=rs_us, ratio_to_rs=us / rs_us
    )
    print(f"\n{name}: {us:.1f} us per ask+tell; rs {rs_us:.1f} us; ratio {us / rs_us:.2f}")
    assert us > 0


@pytest.mark.parametrize("history", [50, 100, 200])
@pytest.mark.parametrize("name", ["bo_tpe", "bo_gp"])
def test_optuna_ask_tell_overhead(benchmark, name: str, history: int) -> None:
    factory = load_strategies([name])[name]
    asks = 1 if benchmark.disabled else 5
    rs_us = _us_per_pair(load_strategies(["rs"])["rs"], 300, 3)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the GP's tiny tensors are slowest on a shared multi-thread pool
    try:
        strategy = factory(space=NB201, seed=0, n_startup_trials=history)
        _ask_tell(strategy, history + 1)  # +1: the first model-based ask warms torch up
        timings = []

        def one_ask_tell() -> None:
            start = time.perf_counter()
            _ask_tell(strategy, 1)
            timings.append(time.perf_counter() - start)

        benchmark.pedantic(one_ask_tell, rounds=asks, iterations=1)  # history grows by asks
    finally:
        torch.set_num_threads(threads)
    us = min(timings) * 1e6
    benchmark.extra_info.update(
        history=history, us_per_ask_tell=us, rs_us_per_ask_tell=rs_us, ratio_to_rs=us / rs_us
    )
    print(f"\n{name} at {history} trials: {us / 1e3:.1f} ms per ask+tell; "
          f"rs {rs_us:.1f} us; ratio {us / rs_us:.0f}")
    assert us > 0
