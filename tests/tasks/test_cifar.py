"""CIFAR readers and splits: tiny files in torchvision's exact pickle format, real JPEG zips."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tasks.cifar import FC100, Cifar10Tasks, CifarFS, read_cifar100
from tasks.cifar100_splits import CIFAR_FS, SUPERCLASSES
from tasks.cifar100_splits import FC100 as FC100_SPLITS
from tasks.errors import CorruptDataError, DataNotFoundError


@pytest.fixture
def cifar100_root(tmp_path: Path, cifar100_writer) -> Path:
    """A tiny CIFAR-100: 4 train and 2 test images per class."""
    return cifar100_writer(tmp_path)


def test_cifar_fs_splits(cifar100_root: Path) -> None:
    dist = CifarFS(cifar100_root)
    pools = dist.pools(dtype=torch.uint8)
    assert {s: p.num_classes for s, p in pools.items()} == {"train": 64, "val": 16, "test": 20}
    names = [set(p.class_names) for p in pools.values()]
    assert not (names[0] & names[1] or names[0] & names[2] or names[1] & names[2])
    assert names[2] == {f for _, f in CIFAR_FS["test"]}
    assert pools["val"].samples_per_class == 6  # train + test images, as CIFAR-FS uses 600
    batch = pools["test"].sample(torch.Generator().manual_seed(0), meta_batch=3, ways=5,
                                 shots=2, queries=4)
    traced = (batch.x_support[:, :, 0, 0, 0] * 255).round().long()
    for b in range(3):
        for label in range(5):
            expected = dist.train.class_names.index(
                pools["test"].class_names[batch.classes[b, label]]
            )
            assert (traced[b, label * 2:(label + 1) * 2] == expected).all()


def test_cifar_fs_whole_tasks_stay_in_one_split(cifar100_root: Path) -> None:
    tasks = CifarFS(cifar100_root).whole_tasks()
    assert all(t.meta_split is not None and t.num_classes >= 2 for t in tasks)
    fish = next(t for t in tasks if t.name == "fish@train")
    assert fish.class_names == ("aquarium_fish", "ray", "trout")
    assert fish.x_train.shape == (12, 3, 32, 32) and fish.x_test.shape == (6, 3, 32, 32)


def test_fc100_superclass_splits_and_tasks(cifar100_root: Path) -> None:
    dist = FC100(cifar100_root)
    pools = dist.pools(dtype=torch.uint8)
    assert {s: p.num_classes for s, p in pools.items()} == {"train": 60, "val": 20, "test": 20}
    for split, superclasses in FC100_SPLITS.items():
        assert set(pools[split].class_names) == {f for c in superclasses
                                                 for f in SUPERCLASSES[c]}
    tasks = dist.whole_tasks()
    assert len(tasks) == 20 and all(t.num_classes == 5 for t in tasks)
    assert len(dist.whole_tasks("train")) == 12 and len(dist.whole_tasks("test")) == 4
    people = next(t for t in tasks if t.name == "people")
    assert people.meta_split == "test"
    assert sorted(people.y_train.unique().tolist()) == [0, 1, 2, 3, 4]


def test_cifar100_reader_keeps_fine_labels(cifar100_root: Path) -> None:
    train, test, superclass = read_cifar100(cifar100_root)
    assert train.images.shape == (400, 3, 32, 32) and len(test.labels) == 200
    assert (train.images[:, 0, 0, 0] == train.labels).all()
    assert superclass["maple_tree"] == "trees"


def test_wrong_hierarchy_is_reported(tmp_path: Path, cifar100_writer) -> None:
    root = cifar100_writer(tmp_path, reassign={"apple": "trees"})
    with pytest.raises(CorruptDataError, match=r"hierarchy.*apple.*trees.*fruit_and_vegetables"):
        CifarFS(root)


def test_missing_cifar100_names_file_and_fix(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match=r"cifar-100-python/meta.*cifar-100-python.tar"):
        FC100(tmp_path)


def test_corrupt_pickle_is_reported(cifar100_root: Path) -> None:
    (cifar100_root / "cifar-100-python" / "train").write_bytes(b"garbage")
    with pytest.raises(CorruptDataError, match=r"cifar-100-python/train"):
        CifarFS(cifar100_root)


def test_cifar10_pickles_into_5_class_tasks(tmp_path: Path, tmp_cache: Path,
                                            cifar10_writer) -> None:
    dist = Cifar10Tasks(cifar10_writer(tmp_path))
    pools = dist.pools()
    assert pools["train"].class_names == ("airplane", "automobile", "bird", "cat", "deer")
    assert pools["train"].samples_per_class == 18  # 5 batches x 3 + test 3
    tasks = dist.whole_tasks()
    assert [t.name for t in tasks] == ["train-0", "test-0"]
    assert tasks[1].x_train.shape == (75, 3, 32, 32) and tasks[1].x_test.shape == (15, 3, 32, 32)
    assert (tasks[1].x_train[:, 0, 0, 0] == tasks[1].y_train + 5).all()


@pytest.mark.slow
def test_real_cifar10_jpeg_zips(real_data: Path) -> None:
    dist = Cifar10Tasks(real_data / "cifar10-jpeg", max_per_class=20)
    train, test = dist.pools()["train"], dist.pools()["test"]
    assert train.num_classes == 5 and test.class_names[-1] == "truck"
    assert train.image_shape == (3, 32, 32) and train.samples_per_class == 40
    batch = train.sample(torch.Generator().manual_seed(0), meta_batch=2, ways=5, shots=5,
                         queries=15)
    assert batch.x_query.shape == (2, 75, 3, 32, 32)
    assert 0.2 < float(batch.x_query.mean()) < 0.8  # real photographs, not blank
    tasks = dist.whole_tasks()
    assert len(tasks) == 2 and tasks[0].x_train.shape == (100, 3, 32, 32)
