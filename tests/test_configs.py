"""Every experiment yaml composes, and every ``_target_`` in it names a callable that
accepts the configured keywords (a renamed class or argument fails here, not at run time).

Objects are not constructed (benchmark nodes load their tables); the NB201 search
experiments, whose constructors are cheap, are instantiated as well.
"""

from __future__ import annotations

import copy
import inspect
from pathlib import Path
from typing import Any

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from hydra.utils import get_method, instantiate
from omegaconf import DictConfig, ListConfig, OmegaConf, open_dict

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"
NAMES = sorted(p.stem for p in (EXPERIMENTS / "experiment").glob("*.yaml"))
CHEAP = {"nb201_tiny"}
HYDRA_KEYS = {"_target_", "_partial_", "_convert_", "_recursive_", "_args_"}


def composed(name: str) -> DictConfig:
    with initialize_config_dir(str(EXPERIMENTS), version_base="1.3"):
        cfg = compose("config", overrides=[f"experiment={name}"], return_hydra_config=True)
    HydraConfig.instance().set_config(copy.deepcopy(cfg))  # `${hydra:...}` resolves as in a run
    OmegaConf.resolve(cfg)
    with open_dict(cfg):
        del cfg["hydra"]
    return cfg


def targets(node: Any, where: str = "") -> list[tuple[str, DictConfig]]:
    """Every node with a ``_target_``, with its dotted key."""
    out = []
    if isinstance(node, DictConfig):
        if "_target_" in node:
            out.append((where or "<root>", node))
        for key, value in node.items():
            out += targets(value, f"{where}.{key}" if where else str(key))
    elif isinstance(node, ListConfig):
        for i, value in enumerate(node):
            out += targets(value, f"{where}[{i}]")
    return out


def test_every_experiment_is_listed():
    assert len(NAMES) >= 20 and "nb201_paper" in NAMES


@pytest.mark.parametrize("name", NAMES)
def test_experiment_composes_and_targets_accept_their_keys(name):
    cfg = composed(name)
    assert "job" in cfg, f"experiment {name} defines no job"
    found = targets(cfg)
    assert any(where == "job" for where, _ in found)
    for where, node in found:
        target = get_method(node._target_)
        keys = [k for k in node if k not in HYDRA_KEYS]
        signature = inspect.signature(target)
        try:
            signature.bind_partial(**dict.fromkeys(keys))
        except TypeError as err:
            pytest.fail(f"{name}: {where} ({node._target_}) rejects its keys {keys}: {err}")
        if not node.get("_partial_", False):
            missing = [
                p.name
                for p in signature.parameters.values()
                if p.default is p.empty
                and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
                and p.name not in keys
            ]
            assert not missing, f"{name}: {where} lacks required keys {missing}"
    assert callable(getattr(get_method(cfg.job._target_), "run", None))


@pytest.mark.parametrize("name", sorted(CHEAP))
def test_cheap_experiments_instantiate(name, real_data):
    job = instantiate(composed(name).job)
    assert job.plan() and callable(job.run)


def test_every_strategy_file_is_composed_and_overridable():
    """Strategy settings are part of the composed config (so of ``.hydra/config.yaml``) and
    a command-line override reaches the factory that a search builds."""
    from metanas.runner.strategy_registry import available_strategies, load_strategies

    with initialize_config_dir(str(EXPERIMENTS), version_base="1.3"):
        cfg = compose("config", overrides=[
            "experiment=nb201_tiny", "out_dir=unused", "strategy_settings.rea.sample_size=5"])
    assert sorted(cfg.strategy_settings) == available_strategies(), (
        "list every experiments/strategy/<name>.yaml in experiments/config.yaml's defaults")
    factories = load_strategies(["rs", "rea"], cfg.strategy_settings)
    assert factories["rea"].keywords["sample_size"] == 5
    assert load_strategies(["rea"])["rea"].keywords["sample_size"] == 3  # the file's value
