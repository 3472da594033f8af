"""Search settings: which task a search sees, under which budget, and what reports read.

A *protocol* (experiments/protocol/<name>.yaml) names one or more settings, one per
dataset. The runner validates them against the benchmark before any search starts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tabular_bench.benchmark import Benchmark


@dataclass(frozen=True)
class SearchSetting:
    """One (protocol, dataset) search: signal the strategy sees, budget, test look-ups.

    :param search_task: benchmark task whose ``signal_metric`` the strategy is told.
    :param test_task: task whose ``test_metric`` of the incumbent the traces record.
    :param transfer_tasks: further tasks whose test accuracy of the same cell is traced
        (NB201 reports the CIFAR-10 choice on CIFAR-100 and ImageNet16-120).
    :param sample_seed: draw one recorded training seed per query (NB201's
        ``is_random=True``) instead of the seed mean.
    """

    protocol: str
    dataset: str
    search_task: str
    test_task: str
    budget_s: float
    signal_metric: str
    signal_fidelity: int
    test_metric: str
    test_fidelity: int
    sample_seed: bool = False
    transfer_tasks: tuple[str, ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        return f"{self.protocol}/{self.dataset}"

    def validate(self, benchmark: Benchmark) -> None:
        """Raise a ``ValueError`` naming the fix if the benchmark cannot serve this setting."""
        if not self.budget_s > 0:
            raise ValueError(
                f"{self.name}: budget_s must be > 0 simulated seconds, got {self.budget_s}"
            )
        if not math.isfinite(self.budget_s):
            raise ValueError(
                f"{self.name}: budget_s must be finite, got {self.budget_s}: a search runs "
                "until its simulated time is spent, so an infinite budget never ends"
            )
        for task in (self.search_task, self.test_task, *self.transfer_tasks):
            if task not in benchmark.tasks:
                raise ValueError(
                    f"{self.name}: unknown dataset/task {task!r}; the benchmark has "
                    f"{', '.join(benchmark.tasks)}"
                )
        for metric, fidelity in (
            (self.signal_metric, self.signal_fidelity),
            (self.test_metric, self.test_fidelity),
        ):
            if metric not in benchmark.metrics:
                raise ValueError(f"{self.name}: unknown metric {metric!r} ({benchmark.metrics})")
            if fidelity not in benchmark.fidelities:
                raise ValueError(
                    f"{self.name}: unknown fidelity {fidelity!r} ({benchmark.fidelities})"
                )

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def parse_protocols(protocols: Mapping[str, Mapping[str, Any]]) -> list[SearchSetting]:
    """Flatten ``{protocol: {signal, test, settings: {dataset: {...}}}}`` into settings."""
    if not protocols:
        raise ValueError("no protocol selected: set protocol=[nb201] or protocol=[nb201,nats]")
    out = []
    for protocol, spec in protocols.items():
        _check_keys(protocol, spec, required={"signal", "test", "settings"})
        signal, test = spec["signal"], spec["test"]
        _check_keys(
            f"{protocol}.signal", signal, required={"metric", "fidelity"}, optional={"sample_seed"}
        )
        _check_keys(f"{protocol}.test", test, required={"metric", "fidelity"})
        for dataset, setting in spec["settings"].items():
            where = f"{protocol}.settings.{dataset}"
            _check_keys(
                where,
                setting,
                required={"search_task", "budget_s"},
                optional={"test_task", "transfer_tasks"},
            )
            try:
                budget_s = float(setting["budget_s"])
            except (TypeError, ValueError):
                raise ValueError(
                    f"{where}.budget_s must be a number of simulated seconds, "
                    f"got {setting['budget_s']!r}"
                ) from None
            out.append(
                SearchSetting(
                    protocol=protocol,
                    dataset=dataset,
                    search_task=setting["search_task"],
                    test_task=setting.get("test_task", dataset),
                    budget_s=budget_s,
                    signal_metric=signal["metric"],
                    signal_fidelity=int(signal["fidelity"]),
                    sample_seed=bool(signal.get("sample_seed", False)),
                    test_metric=test["metric"],
                    test_fidelity=int(test["fidelity"]),
                    transfer_tasks=tuple(setting.get("transfer_tasks", ())),
                )
            )
    return out


def _check_keys(
    where: str,
    spec: Mapping[str, Any],
    required: set[str],
    optional: frozenset[str] | set[str] = frozenset(),
) -> None:
    """Name a misspelt or missing protocol key: a typo must not silently change a setting."""
    unknown, missing = set(spec) - required - set(optional), required - set(spec)
    if unknown or missing:
        raise ValueError(
            f"protocol {where}: unknown keys {sorted(unknown)}, missing keys {sorted(missing)}; "
            f"expected {sorted(required)} and optionally {sorted(optional)}"
        )


def require_positive_ints(values: Mapping[str, Any]) -> None:
    """Reject run counts and worker numbers below 1 before any work starts."""
    for name, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
