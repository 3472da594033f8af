"""Task distributions by name: ``experiments/tasks/<name>.yaml`` built with Hydra.

Each yaml holds a ``_target_`` (the class) and its arguments, so adding a distribution
is one module plus one yaml and nothing here changes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tasks.base import TaskDistribution

CONFIG_DIR = Path(__file__).resolve().parent.parent / "experiments" / "tasks"


def available() -> list[str]:
    """Names of the configured task distributions."""
    return sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))


def make(name: str, **overrides: Any) -> TaskDistribution:
    """Instantiate ``experiments/tasks/<name>.yaml``, with ``overrides`` of its arguments."""
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    known = available()
    if not isinstance(name, str) or not name or Path(name).name != name or name in (".", ".."):
        raise KeyError(f"{name!r} is not a task distribution name (a file stem in "
                       f"{CONFIG_DIR}, no path); available: {known}")
    path = CONFIG_DIR / f"{name}.yaml"
    if name not in known:
        raise KeyError(f"unknown task distribution {name!r}; available: {known} "
                       f"(add {path} with a _target_ to register one)")
    config = OmegaConf.merge(OmegaConf.load(path), overrides)
    dist = instantiate(config, _convert_="all")
    if not isinstance(dist, TaskDistribution):
        raise TypeError(f"{path} built a {type(dist).__name__}, not a TaskDistribution: its "
                        "_target_ must name a TaskDistribution class")
    return dist
