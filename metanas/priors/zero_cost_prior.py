"""Zero-cost proxies as architecture priors: the controls a meta-learned prior must beat.

A zero-cost proxy (synflow, NASWOT, ...) scores an untrained network from one mini-batch,
so its score on the held-out task costs nothing in the search budget. Two walks:

* :class:`ProxyRank`: evaluate networks in decreasing score of one proxy on the held-out
  task (the "proxy as a search strategy" baseline of NAS-Bench-Suite-Zero, Krishnakumar
  et al. 2022);
* :class:`LearnedProxyCombination`: a ridge rank-regression of the training tasks'
  normalised signal on all proxies (each rank-scaled within its task), fitted on the
  training tasks only, then applied to the held-out task's proxies (NAS-Bench-Suite-Zero
  combines proxies with a model fitted on labelled tasks; a linear model keeps it cheap and
  its weights readable).

What each may read: the training tasks through ``source=`` (the restricted view every
transfer method gets), and the held-out task's proxy scores through ``proxies=`` a
:class:`ProxyScores`, which serves proxy metrics only (a validation or test metric raises).
The transfer job binds ``source``; :func:`load_with_proxies` binds ``proxies``.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

from metanas.priors.source import TransferSource, ranked_keys
from metanas.priors.transfer_baselines import FixedOrderWalk
from metanas.runner.strategy_registry import StrategyFactory, load_strategies
from tabular_bench.benchmark import Benchmark
from tabular_bench.spaces import SearchSpace

FREE_METRICS = ("flops", "params")
"""Metrics besides ``zc_*`` that cost no training (read from the network's definition)."""


def is_proxy(metric: str) -> bool:
    """Whether ``metric`` is free to read on any task (a zero-cost proxy, FLOPs, params)."""
    return metric.startswith("zc_") or metric in FREE_METRICS


class ProxyScores:
    """Proxy scores of every task of a benchmark, and nothing else.

    :param benchmark: the searched benchmark (same space and keys as the search).
    """

    def __init__(self, benchmark: Benchmark) -> None:
        self._benchmark = benchmark
        self.space = benchmark.space
        self.tasks = tuple(benchmark.tasks)
        self.proxies = tuple(m for m in benchmark.metrics if is_proxy(m))
        if not self.proxies:
            raise ValueError(
                f"benchmark of {self.space.name!r} stores no zero-cost proxies (zc_*): import "
                "a table that has them, e.g. importer naslib-zc-transnas-micro"
            )
        self._fidelity = {t: max(benchmark.fidelities) for t in self.tasks}

    def __repr__(self) -> str:
        # Stable across processes: the transfer job compares factory reprs on resume.
        ident = self._benchmark.identity()
        return f"ProxyScores({self.space.name}, {ident.get('checksum', ident['class'])})"

    def scores(self, task: str, proxy: str) -> np.ndarray:
        """Score of every key of the space on ``task``; NaN where the proxy failed."""
        if not is_proxy(proxy):
            raise ValueError(
                f"{proxy!r} is not a zero-cost proxy: ProxyScores serves {self.proxies} only "
                "(the held-out task's validation and test metrics stay hidden)"
            )
        return _scores(self, task, proxy)


@functools.lru_cache(maxsize=256)
def _scores(proxies: ProxyScores, task: str, proxy: str) -> np.ndarray:
    bench, keys = proxies._benchmark, np.arange(proxies.space.size, dtype=np.int64)
    fidelity = proxies._fidelity[task]
    try:
        return bench.query(keys, task=task, fidelity=fidelity, metric=proxy)
    except KeyError:  # some networks lack the score (a failed proxy run): one at a time
        out = np.full(keys.size, np.nan)
        for k in keys:
            with contextlib.suppress(KeyError):
                out[k] = bench.query(k, task=task, fidelity=fidelity, metric=proxy)[0]
        return out


def held_out_task(source: TransferSource, proxies: ProxyScores) -> str:
    """The one task of the benchmark that the source does not train on."""
    rest = [t for t in proxies.tasks if t not in source.tasks and t not in source.view.tasks]
    if len(rest) != 1:
        raise ValueError(
            f"cannot tell the held-out task: tasks outside the training view are {rest}; a "
            "zero-cost prior needs a protocol whose datasets are all tasks of the benchmark"
        )
    return rest[0]


def rank_scale(values: np.ndarray) -> np.ndarray:
    """Ranks scaled to [0, 1] (ties share their mean rank); NaN becomes 0.5 (no opinion)."""
    values = np.asarray(values, dtype=np.float64)
    out = np.full(values.shape, 0.5)
    ok = ~np.isnan(values)
    if ok.sum() > 1:
        out[ok] = (stats.rankdata(values[ok]) - 1) / (ok.sum() - 1)
    return out


def _check(space: SearchSpace, proxies: ProxyScores) -> None:
    if proxies.space.size != space.size:
        raise ValueError(
            f"proxy scores are over {proxies.space.name!r} ({proxies.space.size} networks), "
            f"the search over {space.name!r} ({space.size}): bind the searched benchmark"
        )


class ProxyRank(FixedOrderWalk):
    """Networks in decreasing score of one proxy on the held-out task (NaN last).

    :param proxy: a stored proxy, e.g. ``zc_nwot`` (NASWOT, Mellor et al. 2021).
    """

    def __init__(
        self,
        space: SearchSpace,
        *,
        seed: int,
        source: TransferSource,
        proxies: ProxyScores,
        proxy: str = "zc_nwot",
    ) -> None:
        super().__init__(space, seed=seed)
        _check(space, proxies)
        if proxy not in proxies.proxies:
            raise ValueError(f"unknown proxy {proxy!r}; the table has {proxies.proxies}")
        scores = proxies.scores(held_out_task(source, proxies), proxy)
        self.order = ranked_keys(np.where(np.isnan(scores), -np.inf, scores))


class LearnedProxyCombination(FixedOrderWalk):
    """Networks in decreasing predicted rank from a ridge fit on the training tasks.

    Features are the proxies' within-task ranks (so a proxy's scale on one task does not
    matter on another), the target the within-task rank of the source's signal; one model
    is fitted on all training tasks pooled, then scores the held-out task's proxies.

    :param alpha: ridge penalty on the standardised weights.
    :param exclude: proxies left out (e.g. one that failed on every network).
    """

    def __init__(
        self,
        space: SearchSpace,
        *,
        seed: int,
        source: TransferSource,
        proxies: ProxyScores,
        alpha: float = 1.0,
        exclude: Sequence[str] = (),
    ) -> None:
        super().__init__(space, seed=seed)
        _check(space, proxies)
        self.proxy_names = tuple(p for p in proxies.proxies if p not in set(exclude))
        targets = source.tables()
        x = np.vstack([self._features(proxies, t) for t in source.tasks])
        y = np.concatenate([rank_scale(targets[t]) for t in source.tasks])
        self.weights, self.intercept = ridge(x, y, alpha)
        scores = self._features(proxies, held_out_task(source, proxies)) @ self.weights
        self.order = ranked_keys(scores)

    def _features(self, proxies: ProxyScores, task: str) -> np.ndarray:
        return np.stack([rank_scale(proxies.scores(task, p)) for p in self.proxy_names], axis=1)


def ridge(x: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, float]:
    """Weights and intercept of ``y ~ x`` with an L2 penalty ``alpha`` (centred data)."""
    if alpha < 0:
        raise ValueError(f"ridge penalty must be >= 0, got {alpha}")
    x_mean, y_mean = x.mean(axis=0), y.mean()
    xc = x - x_mean
    weights = np.linalg.solve(xc.T @ xc + alpha * np.eye(x.shape[1]), xc.T @ (y - y_mean))
    return weights, float(y_mean - x_mean @ weights)


def load_with_proxies(names: Sequence[str], benchmark: Benchmark) -> dict[str, StrategyFactory]:
    """:func:`~metanas.runner.strategy_registry.load_strategies`, with ``proxies=`` bound
    (scores of ``benchmark``) for every factory that takes it; the others as loaded."""
    factories = load_strategies(names)
    proxies: ProxyScores | None = None
    out: dict[str, StrategyFactory] = {}
    for name, factory in factories.items():
        if _takes(factory, "proxies"):
            proxies = proxies or ProxyScores(benchmark)
            factory = _bind(factory, proxies=proxies)
        out[name] = factory
    return out


def _bind(factory: functools.partial, **keywords: Any) -> functools.partial:
    """``factory`` with more keywords, as the same partial type (Hydra's ``_partial_``
    factories are a partial subclass; a partial of one would hide the target's class from
    :func:`~common_io.fingerprint.describe_call`)."""
    bound = type(factory)(factory.func, *factory.args, **{**factory.keywords, **keywords})
    bound.__dict__.update(factory.__dict__)
    return bound


def _takes(factory: Any, keyword: str) -> bool:
    func = factory.func if isinstance(factory, functools.partial) else factory
    return keyword in inspect.signature(func).parameters
