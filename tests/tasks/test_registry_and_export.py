"""Every yaml in experiments/tasks builds through Hydra; learn2learn export yields episodes."""

from __future__ import annotations

import importlib
import random
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf

from tasks import FewShotPool, TaskDistribution, available, make
from tasks.learn2learn_export import to_learn2learn
from tasks.registry import CONFIG_DIR


@pytest.mark.parametrize("name", available())
def test_every_config_targets_a_task_distribution(name: str) -> None:
    config = OmegaConf.load(CONFIG_DIR / f"{name}.yaml")
    module, _, cls = config["_target_"].rpartition(".")
    target = getattr(importlib.import_module(module), cls)
    assert issubclass(target, TaskDistribution)


def test_make_builds_from_yaml_with_overrides(tiny_omniglot: Path) -> None:
    dist = make("omniglot_reptile", root=str(tiny_omniglot), num_train=4, verify_counts=False)
    assert dist.splits == ("train", "test") and len(dist.split_characters["train"]) == 4


def test_unknown_name_lists_available() -> None:
    with pytest.raises(KeyError, match="omniglot_maml"):
        make("omniglott")


@pytest.mark.slow  # importing learn2learn alone takes ~5-20 s on a busy 2-core machine
def test_learn2learn_taskset_yields_episodes() -> None:
    data = torch.arange(12 * 7, dtype=torch.float32).view(12, 7, 1, 1, 1).expand(-1, -1, 1, 3, 3)
    pool = FewShotPool(data.contiguous(), split="train", class_names=[str(i) for i in range(12)])
    taskset = to_learn2learn(pool, ways=5, shots=2, queries=3)
    random.seed(0)  # learn2learn samples with the global `random` module
    for _ in range(5):
        x, y = taskset.sample()
        assert x.shape == (25, 1, 3, 3) and y.dtype == torch.int64
        assert sorted(y.tolist()) == sorted(list(range(5)) * 5)
        origin = (x[:, 0, 0, 0] // 7).long()
        for label in range(5):
            classes = origin[y == label].unique()
            assert len(classes) == 1  # one pool class per label
            assert len(x[y == label, 0, 0, 0].unique()) == 5  # distinct samples
