"""Every registered strategy (experiments/strategy/*.yaml) honours the ask/tell contract.

Transfer strategies (those taking ``source=``) read a synthetic restricted view of two
training tasks, as the transfer job gives them the real training datasets. The last test
runs every strategy, and the transfer experiment's meta methods on a tiny meta-trained
prior, on both TransNAS-Bench-101 spaces.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from hydra.utils import instantiate
from omegaconf import OmegaConf
from priors.synthetic import SyntheticBenchmark

from metanas.priors.deep_kernel import KernelMetaConfig
from metanas.priors.meta_policy import PolicyMetaConfig
from metanas.priors.meta_predictor import PredictorMetaConfig
from metanas.priors.meta_train import PriorSignal, meta_train_prior
from metanas.priors.prior import MetaPrior
from metanas.priors.restricted import RestrictedBenchmark
from metanas.priors.source import TransferSource, needs_source
from metanas.priors.zero_cost_prior import load_with_proxies
from metanas.runner.strategy_registry import available_strategies, load_strategies
from metanas.strategies.base import Strategy, Trial
from strategies.synthetic import additive_table, run
from tabular_bench.spaces import CellSearchSpace
from tabular_bench.spaces.transnas import TransNASMacroSpace, TransNASMicroSpace

NAMES = available_strategies()
# NAS-Bench-201's shape (6 edges, 5 ops) with op names of known kinds (the hand prior ranks
# ops by kind) and none of its semantics.
SPACE = CellSearchSpace("toy", ("none", "skip", "conv_1x1", "conv_3x3", "pool_3x3"), 6)
VALUES = additive_table(SPACE)


def source(seed: int = 0) -> TransferSource:
    """Two training tasks of a synthetic table, behind the restricted view."""
    view = RestrictedBenchmark(SyntheticBenchmark(seed=seed, space=SPACE), ["t1", "t2"])
    return TransferSource(view, ("t1", "t2"), PriorSignal(metric="valid_acc", fidelity=200))


class ProxySyntheticBenchmark(SyntheticBenchmark):
    """The synthetic table plus two zero-cost proxies (noisy functions of the task's values,
    free to read on every task) for the zero-cost strategies (zc_*)."""

    metrics = (*SyntheticBenchmark.metrics, "zc_nwot", "zc_synflow")

    def _query(self, keys, task, fidelity, metric, rng):
        if not metric.startswith("zc_"):
            return super()._query(keys, task, fidelity, metric, rng)
        noise = np.random.default_rng(len(metric)).normal(0.0, 2.0, size=self.space.size)
        return self._values[task][keys] + noise[keys]


SOURCES = {0: source(0), 1: source(1)}
# Proxy scores of every task of the same synthetic tables (held out: t3).
PROXY_TABLES = {d: ProxySyntheticBenchmark(seed=d, space=SPACE) for d in SOURCES}
# Past every strategy's random start-up (BO and REA: 10) and local search's first move; the
# GP sampler costs ~0.2 s an ask, so it stops after a few model-based proposals.
STEPS = {"bo_gp": 13}
DEFAULT_STEPS = 30


def steps(name: str) -> int:
    return STEPS.get(name, DEFAULT_STEPS)


def make(name: str, seed: int, data: int = 0) -> Strategy:
    """Strategy ``name``; a transfer strategy reads the training tasks of table ``data``."""
    factory = load_with_proxies([name], PROXY_TABLES[data])[name]
    extra = {"source": SOURCES[data]} if needs_source(factory) else {}
    return factory(space=SPACE, seed=seed, **extra)


@cache
def trajectory(name: str, seed: int, data: int = 0) -> tuple[int, ...]:
    return tuple(run(make(name, seed, data), VALUES, steps(name)))


CLASSIC = ("rs", "rea", "reinforce", "bo_tpe", "bo_gp", "local_search")
TRANSFER = ("zero_shot", "warm_rea", "warm_tpe", "bounding_box", "quantile_prior", "hand_prior")


def test_every_issue_strategy_has_a_config() -> None:
    assert set(CLASSIC) | set(TRANSFER) <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
class TestStrategyConformance:
    def test_config_builds_a_strategy(self, name: str) -> None:
        strategy = make(name, seed=0)
        assert isinstance(strategy, Strategy)
        assert strategy.space is SPACE and strategy.seed == 0

    def test_proposals_are_valid_cells(self, name: str) -> None:
        strategy = make(name, seed=3)
        for number in range(steps(name)):
            trial = strategy.ask()
            assert trial.number == number
            code = SPACE.validate_code(trial.code)
            assert 0 <= trial.key < SPACE.size
            assert trial.key == SPACE.key(code)
            strategy.tell(trial, float(VALUES[trial.key]))
        assert len(strategy.history) == steps(name)

    def test_same_seed_same_trajectory(self, name: str) -> None:
        assert tuple(run(make(name, seed=0), VALUES, steps(name))) == trajectory(name, 0)

    def test_same_seed_same_trajectory_in_another_process(self, name: str) -> None:
        assert tuple(trajectories_from_subprocess()[name]) == trajectory(name, 0)

    def test_different_seeds_different_trajectories(self, name: str) -> None:
        strategy = make(name, seed=0)
        if getattr(strategy, "uses_seed", True):
            assert trajectory(name, 0) != trajectory(name, 1)
        else:  # a seed-free order (zero-shot): the seed changes nothing, the data does
            assert trajectory(name, 0) == trajectory(name, 1)
            assert needs_source(load_strategies([name])[name])
            assert trajectory(name, 0, data=1) != trajectory(name, 0)

    def test_unknown_or_repeated_tell_raises(self, name: str) -> None:
        strategy = make(name, seed=0)
        trial = strategy.ask()
        with pytest.raises(ValueError, match="not asked"):
            strategy.tell(Trial(trial.number + 1, trial.code, trial.key), 1.0)
        strategy.tell(trial, 1.0)
        with pytest.raises(ValueError, match="already told"):
            strategy.tell(trial, 1.0)

    @pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
    def test_non_finite_value_raises(self, name: str, bad: float) -> None:
        strategy = make(name, seed=0)
        with pytest.raises(ValueError, match="finite"):
            strategy.tell(strategy.ask(), bad)

    def test_tells_in_any_order(self, name: str) -> None:
        """Asking ahead and telling in a shuffled order never breaks a strategy."""
        strategy = make(name, seed=0)
        order = np.random.default_rng(0)
        # Batches longer than any start-up and any neighbourhood (GP: kept short, it is slow).
        batches = (12, 3) if name == "bo_gp" else (12, 30, 5)
        for batch in batches:
            trials = [strategy.ask() for _ in range(batch)]
            for i in order.permutation(batch):
                strategy.tell(trials[i], float(VALUES[trials[i].key]))
        for trial in (strategy.ask() for _ in range(5)):
            SPACE.validate_code(trial.code)
        assert len(strategy.history) == sum(batches)


_CHILD = """
import json, sys
sys.path.insert(0, {tests!r})
from strategies.test_conformance import NAMES, trajectory
print(json.dumps({{n: trajectory(n, 0) for n in NAMES}}))
"""


@cache
def trajectories_from_subprocess() -> dict[str, list[int]]:
    """Seed-0 trajectories of every strategy computed by a fresh interpreter."""
    script = _CHILD.format(tests=str(Path(__file__).resolve().parents[1]))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # as the in-process one_torch_thread fixture
    out = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True, env=env,
        timeout=300,
    )
    return json.loads(out.stdout.splitlines()[-1])


# -- every issue strategy on every benchmark space the harness has -----------------------
# NAS-Bench-201 is the space above (its shape); TransNAS-Bench-101's micro cells and macro
# networks (a subset of six-slot codes) are its other tables. Values are synthetic: this
# tests mechanics (valid proposals, seeded reproducibility), never search quality.
TRANSNAS = {"transnas_micro": TransNASMicroSpace(), "transnas_macro": TransNASMacroSpace()}
TRANSFER_EXPERIMENT = (
    Path(__file__).resolve().parents[2] / "experiments" / "experiment" / "nb201_transfer.yaml"
)
TINY_META = {
    "policy": PolicyMetaConfig(meta_iterations=2, inner_steps=10),
    "predictor": PredictorMetaConfig(hidden=(8,), meta_iterations=3, support=5, query=10),
    "kernel": KernelMetaConfig(hidden=(8,), embedding=4, meta_iterations=5, batch=10),
}
SPACE_STEPS = 20


def meta_methods() -> dict[str, object]:
    """The meta methods exactly as the transfer experiment configures them."""
    config = OmegaConf.load(TRANSFER_EXPERIMENT)
    nodes = OmegaConf.to_container(config.job.meta_methods, resolve=True)
    return {name: instantiate(node) for name, node in nodes.items()}


META = meta_methods()


@cache
def space_setup(space_name: str) -> tuple[np.ndarray, TransferSource, MetaPrior]:
    """Synthetic values, a transfer source and a tiny meta-trained prior in that space."""
    space = TRANSNAS[space_name]
    view = RestrictedBenchmark(SyntheticBenchmark(seed=0, space=space), ["t1", "t2"])
    signal = PriorSignal(metric="valid_acc", fidelity=200)
    prior = meta_train_prior(view, ["t1", "t2"], signal=signal, reinforce_kwargs={},
                             encodings=["one_hot"], seed=0, **TINY_META)
    return additive_table(space), TransferSource(view, ("t1", "t2"), signal), prior


def make_in_space(name: str, space_name: str, seed: int) -> Strategy:
    _, transfer_source, prior = space_setup(space_name)
    if name in META:
        return META[name](space=TRANSNAS[space_name], seed=seed, prior=prior)
    factory = load_strategies([name])[name]
    extra = {"source": transfer_source} if needs_source(factory) else {}
    return factory(space=TRANSNAS[space_name], seed=seed, **extra)


@pytest.mark.slow
@pytest.mark.parametrize("space_name", sorted(TRANSNAS))
@pytest.mark.parametrize("name", [*CLASSIC, *TRANSFER, *META])
def test_every_strategy_runs_on_the_transnas_spaces(name: str, space_name: str) -> None:
    space = TRANSNAS[space_name]
    values = space_setup(space_name)[0]
    steps = min(STEPS.get(name, SPACE_STEPS), SPACE_STEPS)
    strategy = make_in_space(name, space_name, seed=0)
    keys = []
    for _ in range(steps):
        trial = strategy.ask()
        code = space.validate_code(trial.code)
        assert space.key_of(tuple(code.tolist())) == trial.key, "proposal outside the space"
        strategy.tell(trial, float(values[trial.key]))
        keys.append(trial.key)
    assert tuple(run(make_in_space(name, space_name, seed=0), values, steps)) == tuple(keys)
