"""Strategy factories by name, read from ``experiments/strategy/<name>.yaml``.

Each file is a Hydra node ``{_target_: metanas.strategies.<module>.<Class>, _partial_:
true, ...}``; instantiating it gives a factory that the runner calls with ``space=`` and
``seed=``. Adding a strategy is one module plus one yaml file: nothing here changes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path

from hydra.utils import instantiate
from omegaconf import OmegaConf

from metanas.strategies.base import Strategy

STRATEGY_DIR = Path(__file__).resolve().parents[2] / "experiments" / "strategy"

StrategyFactory = Callable[..., Strategy]


def available_strategies(strategy_dir: Path = STRATEGY_DIR) -> list[str]:
    """Names of the strategy configs in ``strategy_dir``."""
    return sorted(p.stem for p in strategy_dir.glob("*.yaml"))


def load_strategies(
    names: Sequence[str], strategy_dir: Path = STRATEGY_DIR
) -> dict[str, StrategyFactory]:
    """Instantiate the factories of ``names`` (in order); unknown names raise first."""
    names = list(names)
    if not names:
        raise ValueError("no strategies selected: set strategies=[rs,rea,...]")
    known = available_strategies(strategy_dir)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(
            f"unknown strategy {', '.join(map(repr, unknown))}; available in "
            f"{strategy_dir}: {', '.join(known) or '(none)'}"
        )
    if len(set(names)) != len(names):
        raise ValueError(f"strategy names repeat in {names}")
    return {n: instantiate(OmegaConf.load(strategy_dir / f"{n}.yaml")) for n in names}


def describe_factory(factory: StrategyFactory) -> dict[str, object]:
    """A JSON-able identity of a factory (class path and bound keywords), for resume checks."""
    func = factory.func if isinstance(factory, functools.partial) else factory
    kwargs = dict(factory.keywords) if isinstance(factory, functools.partial) else {}
    return {
        "target": f"{func.__module__}.{func.__qualname__}",
        "kwargs": {k: repr(v) for k, v in sorted(kwargs.items())},
    }
