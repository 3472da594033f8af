"""Strategy factories by name, from ``experiments/strategy/<name>.yaml``.

Each file is a Hydra node ``{_target_: metanas.strategies.<module>.<Class>, _partial_:
true, ...}``; instantiating it gives a factory that the runner calls with ``space=`` and
``seed=``. The root config composes every file under ``strategy_settings.<name>``, so a
run's strategy settings are in its ``.hydra/config.yaml`` and can be overridden on the
command line (``strategy_settings.rea.sample_size=5``); an experiment passes that node as
``settings``. Adding a strategy is one module, one yaml file and one line in
``experiments/config.yaml``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from hydra.utils import instantiate
from omegaconf import OmegaConf

from metanas.strategies.base import Strategy

STRATEGY_DIR = Path(__file__).resolve().parents[2] / "experiments" / "strategy"

StrategyFactory = Callable[..., Strategy]


def available_strategies(strategy_dir: Path = STRATEGY_DIR) -> list[str]:
    """Names of the strategy configs in ``strategy_dir``."""
    return sorted(p.stem for p in strategy_dir.glob("*.yaml"))


def load_strategies(
    names: Sequence[str],
    settings: Mapping[str, Any] | None = None,
    strategy_dir: Path = STRATEGY_DIR,
) -> dict[str, StrategyFactory]:
    """Instantiate the factories of ``names`` (in order); unknown names raise first.

    :param settings: name -> strategy node, as composed by Hydra (``strategy_settings``,
        with the command line's overrides; pass it with ``_recursive_: false`` so that only
        the selected strategies are built); ``None`` reads ``strategy_dir``'s files.
    """
    names = list(names)
    if not names:
        raise ValueError("no strategies selected: set strategies=[rs,rea,...]")
    known = available_strategies(strategy_dir) if settings is None else sorted(settings)
    unknown = [n for n in names if n not in known]
    if unknown:
        where = strategy_dir if settings is None else "strategy_settings"
        raise ValueError(
            f"unknown strategy {', '.join(map(repr, unknown))}; available in "
            f"{where}: {', '.join(known) or '(none)'}"
        )
    if len(set(names)) != len(names):
        raise ValueError(f"strategy names repeat in {names}")
    if settings is None:
        return {n: instantiate(OmegaConf.load(strategy_dir / f"{n}.yaml")) for n in names}
    return {n: instantiate(settings[n], _convert_="all") for n in names}
