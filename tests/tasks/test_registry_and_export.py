"""Every yaml in experiments/tasks builds through Hydra; learn2learn export yields episodes."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import torch

from tasks import FewShotPool, TaskDistribution, available, make
from tasks.learn2learn_export import to_learn2learn

# Overrides that make each config cheap to build: real data where reading it is cheap
# (Omniglot and CIFAR-100 from the decoded cache, a few CIFAR-10 JPEGs per class), tiny
# files otherwise (ImageFolder needs a root).
REAL_DATA_CONFIGS = {"omniglot_lake", "omniglot_maml", "omniglot_reptile", "cifar10_split5",
                     "cifar_fs", "fc100"}


def cheap_overrides(name: str, tmp_path: Path, writers: dict) -> dict:
    if name in ("omniglot_lake", "omniglot_maml", "omniglot_reptile", "cifar_fs", "fc100"):
        return {}
    if name == "cifar10_split5":
        return {"max_per_class": 4}
    if name == "imagefolder":
        classes = {f"k{i:02d}": 5 for i in range(25)}  # 15/5/5 classes
        return {"train_root": str(writers["folder"](tmp_path / "folder", classes))}
    pytest.fail(f"experiments/tasks/{name}.yaml is new: give it cheap overrides here")


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.slow) if n in REAL_DATA_CONFIGS else n
    for n in available()
])
def test_every_config_builds_pools_and_whole_tasks(
    name: str, tmp_path: Path, request: pytest.FixtureRequest, image_folder_writer,
) -> None:
    # Real data is read through the usual cache (shared with the other real-data tests);
    # tiny files get a cache of their own.
    request.getfixturevalue("real_data" if name in REAL_DATA_CONFIGS else "tmp_cache")
    overrides = cheap_overrides(
        name, tmp_path, {"folder": image_folder_writer}
    )
    dist = make(name, **overrides)
    assert isinstance(dist, TaskDistribution)
    assert dist.splits[0] == "train" and dist.splits[-1] == "test"
    for split in dist.splits:
        assert dist.pool(split, dtype=torch.uint8).num_classes >= 5  # a 5-way episode fits
    tasks = dist.whole_tasks()
    assert tasks and all(t.num_classes >= 2 for t in tasks)
    assert {t.meta_split for t in tasks} <= {*dist.splits, None}


def test_make_builds_from_yaml_with_overrides(tiny_omniglot: Path) -> None:
    dist = make("omniglot_reptile", root=str(tiny_omniglot), num_train=4, verify_counts=False)
    assert dist.splits == ("train", "test") and len(dist.split_characters["train"]) == 4


def test_unknown_name_lists_available() -> None:
    with pytest.raises(KeyError, match="omniglot_maml"):
        make("omniglott")


@pytest.mark.parametrize("name", ["../experiment/nb201_tiny", "../config", "/etc/passwd",
                                  "tasks/omniglot_lake", ""])
def test_a_path_is_not_a_distribution_name(name: str) -> None:
    with pytest.raises(KeyError, match=r"not a task distribution name.*omniglot_lake"):
        make(name)


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
