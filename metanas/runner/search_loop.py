"""One budgeted search: ask -> signal -> cost -> tell until the simulated budget is spent.

Budget rule, as in NAS-Bench-201's searches (AutoDL-Projects
``exps/NAS-Bench-201-algos/{RANDOM,R_EA}.py``): the loop runs while the spent time is
below the budget; a query whose cost would take the total past the budget is dropped (not
told, not traced) and the search ends. The chosen cell is the best signal seen so far, the
first one on ties (Python's ``max`` over the history).

Test accuracy never reaches the strategy: the runner reads it from whole-space look-ups,
only to write the traces.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from metanas.runner.orphans import exit_if_orphaned
from metanas.runner.seeding import run_seeds
from metanas.runner.settings import SearchSetting
from metanas.strategies.base import Strategy
from tabular_bench.benchmark import Benchmark
from tabular_bench.spaces import CellSearchSpace


@dataclass(frozen=True)
class SettingTables:
    """Whole-space look-ups of one setting, queried once (vectorised) per job.

    :param signal: seed-mean signal per key.
    :param seeded: True when the benchmark records per-seed signals, so that queries draw
        one seed at random (NB201's ``is_random=True``) instead of reading ``signal``.
    :param test: test accuracy per key on ``setting.test_task``, plus one array per
        transfer task; for traces only.
    """

    space: CellSearchSpace
    signal: np.ndarray
    cost: np.ndarray
    test: dict[str, np.ndarray]
    arch_index: np.ndarray
    seeded: bool


def build_tables(benchmark: Benchmark, setting: SearchSetting) -> SettingTables:
    """Query the whole space for ``setting``.

    Raises if costs are not positive and finite, or if the budget cannot pay for any cell a
    strategy might ask first (every run must tell at least one query).
    """
    keys = np.arange(benchmark.space.size, dtype=np.int64)
    signal_q = {
        "task": setting.search_task,
        "fidelity": setting.signal_fidelity,
        "metric": setting.signal_metric,
    }
    signal = np.asarray(benchmark.query(keys, **signal_q), dtype=np.float64)
    seeded = False
    if setting.sample_seed:
        probe = benchmark.query(keys, **signal_q, rng=np.random.default_rng(0))
        seeded = not np.array_equal(np.asarray(probe, dtype=np.float64), signal)
    cost = np.asarray(
        benchmark.cost(keys, task=setting.search_task, fidelity=setting.signal_fidelity),
        dtype=np.float64,
    )
    if not (np.all(np.isfinite(cost)) and cost.min() > 0):
        raise ValueError(
            f"{setting.name}: simulated costs of {setting.search_task!r} must be positive and "
            f"finite (min {cost.min()}); the budget could never be spent"
        )
    test = {
        task: np.asarray(
            benchmark.query(
                keys, task=task, fidelity=setting.test_fidelity, metric=setting.test_metric
            ),
            dtype=np.float64,
        )
        for task in (setting.test_task, *setting.transfer_tasks)
    }
    if setting.budget_s < cost.max():
        worst = int(cost.argmax())
        cell = benchmark.space.strings(keys[worst : worst + 1])[0]
        raise ValueError(
            f"{setting.name}: budget_s={setting.budget_s:g} is below the most expensive "
            f"query ({cost[worst]:g} simulated s for cell {cell} on {setting.search_task!r}; "
            f"the cheapest costs {cost.min():g} s). A run whose "
            "first cell costs more than the budget would end with no result and drop out of "
            f"the summary: raise budget_s to at least {math.ceil(cost.max())}"
        )
    arch_index = np.asarray(benchmark.index_of(keys), dtype=np.int64)
    return SettingTables(benchmark.space, signal, cost, test, arch_index, seeded)


def search(
    strategy: Strategy,
    setting: SearchSetting,
    tables: SettingTables,
    benchmark: Benchmark | None,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run one search; return the told (keys, signals, costs) in order.

    :param benchmark: needed only when ``tables.seeded`` (one seed drawn per query).
    """
    keys: list[int] = []
    signals: list[float] = []
    costs: list[float] = []
    mean_signal, cost_of = tables.signal, tables.cost
    spent, budget = 0.0, setting.budget_s
    while spent < budget:
        trial = strategy.ask()
        if tables.seeded:
            value = float(
                benchmark.query(
                    trial.key,
                    task=setting.search_task,
                    fidelity=setting.signal_fidelity,
                    metric=setting.signal_metric,
                    rng=rng,
                )[0]
            )
        else:
            value = float(mean_signal[trial.key])
        cost = float(cost_of[trial.key])
        if spent + cost > budget:
            break
        spent += cost
        strategy.tell(trial, value)
        keys.append(trial.key)
        signals.append(value)
        costs.append(cost)
    return np.asarray(keys, np.int64), np.asarray(signals), np.asarray(costs)


@contextmanager
def one_torch_thread() -> Iterator[None]:
    """Run torch-backed strategies (Optuna's GP sampler) on one thread, then restore.

    Parallelism is across worker processes; torch threads inside each worker made the GP
    5-10x slower on 2 cores. Restoring matters when joblib runs a shard in the caller.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def run_searches(
    setting: SearchSetting,
    tables: SettingTables,
    benchmark: Benchmark | None,
    runs: range,
    *,
    base_seed: int,
    seed_name: str,
    make_strategy: Callable[[int, int], Strategy],
) -> list[RunResult]:
    """Run ``runs`` of one setting; ``make_strategy(run, seed)`` builds each run's strategy.

    :param seed_name: the name seeds derive from (the strategy's, or one shared name so
        that methods compared in pairs see the same seeds).
    """
    results = []
    with one_torch_thread():
        for run in runs:
            exit_if_orphaned()  # a worker whose job died starts no further run
            seed, rng = run_seeds(base_seed, setting.protocol, setting.dataset, seed_name, run)
            keys, signals, costs = search(make_strategy(run, seed), setting, tables, benchmark, rng)
            results.append(RunResult(run, seed, keys, signals, costs))
    return results


def incumbent_positions(signals: np.ndarray) -> np.ndarray:
    """Position of the best signal so far at each step (first maximum on ties)."""
    if signals.size == 0:
        return np.zeros(0, dtype=np.int64)
    running = np.maximum.accumulate(signals)
    improved = np.r_[True, signals[1:] > running[:-1]]
    return np.maximum.accumulate(np.where(improved, np.arange(signals.size), 0))


@dataclass(frozen=True)
class RunResult:
    """The told queries of one run, in order."""

    run: int
    seed: int
    keys: np.ndarray
    signals: np.ndarray
    costs: np.ndarray


def trace_frame(
    setting: SearchSetting, strategy_name: str, tables: SettingTables, results: list[RunResult]
) -> pd.DataFrame:
    """Tidy traces of runs: one row per told query, with the incumbent's test accuracy.

    Built once per shard from concatenated arrays (a frame per run costs milliseconds).
    """
    sizes = np.array([r.keys.size for r in results], dtype=np.int64)
    n = int(sizes.sum())
    incumbents = [incumbent_positions(r.signals) for r in results]
    keys = np.concatenate([r.keys for r in results])
    signals = np.concatenate([r.signals for r in results])
    inc_keys = np.concatenate([r.keys[i] for r, i in zip(results, incumbents)])
    inc_signals = np.concatenate([r.signals[i] for r, i in zip(results, incumbents)])
    starts = np.repeat(np.cumsum(sizes) - sizes, sizes)
    frame = {
        "protocol": np.full(n, setting.protocol, dtype=object),
        "dataset": np.full(n, setting.dataset, dtype=object),
        "strategy": np.full(n, strategy_name, dtype=object),
        "run": np.repeat([r.run for r in results], sizes).astype(np.int32),
        "seed": np.repeat([r.seed for r in results], sizes).astype(np.int64),
        "step": (np.arange(n) - starts).astype(np.int32),
        "arch_index": tables.arch_index[keys].astype(np.int32),
        "signal": signals,
        "cost": np.concatenate([r.costs for r in results]),
        "cum_cost": np.concatenate([np.cumsum(r.costs) for r in results]),
        "best_signal": inc_signals,
        "best_arch_index": tables.arch_index[inc_keys].astype(np.int32),
        "best_test_acc": tables.test[setting.test_task][inc_keys],
    }
    for task in setting.transfer_tasks:
        frame[f"best_test_acc_{task}"] = tables.test[task][inc_keys]
    return pd.DataFrame(frame)
