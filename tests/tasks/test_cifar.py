"""CIFAR readers and splits: tiny files in torchvision's exact pickle format, real JPEG zips."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from tasks.cifar import FC100, Cifar10Tasks, CifarFS, read_cifar100
from tasks.cifar100_splits import CIFAR_FS, SUPERCLASSES
from tasks.cifar100_splits import FC100 as FC100_SPLITS
from tasks.errors import CorruptDataError, DataNotFoundError

FINE = sorted(f for members in SUPERCLASSES.values() for f in members)
COARSE = sorted(SUPERCLASSES)
COARSE_OF = {f: c for c, members in SUPERCLASSES.items() for f in members}


def dump(path: Path, obj: dict) -> None:
    with path.open("wb") as handle:
        pickle.dump(obj, handle, protocol=2)


def write_cifar100(root: Path, per_class: tuple[int, int] = (4, 2), coarse_of=COARSE_OF) -> Path:
    """``<root>/cifar-100-python/{train,test,meta}`` as torchvision reads them; pixel
    (0, 0, 0) of every image holds its fine label so tests can trace images."""
    folder = root / "cifar-100-python"
    folder.mkdir(parents=True)
    dump(folder / "meta", {"fine_label_names": FINE, "coarse_label_names": COARSE})
    for name, count in zip(("train", "test"), per_class):
        fine = np.repeat(np.arange(100), count)
        data = np.zeros((len(fine), 3 * 32 * 32), dtype=np.uint8)
        data[:, 0] = fine
        dump(folder / name, {
            "filenames": [f"{i}.png" for i in range(len(fine))],
            "batch_label": f"{name} batch",
            "fine_labels": fine.tolist(),
            "coarse_labels": [COARSE.index(coarse_of[FINE[f]]) for f in fine],
            "data": data,
        })
    return root


def write_cifar10(root: Path, per_class: int = 3) -> Path:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
             "truck"]
    dump(folder / "batches.meta", {"label_names": names, "num_cases_per_batch": 30})
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        labels = np.repeat(np.arange(10), per_class)
        data = np.repeat(labels[:, None], 3072, axis=1).astype(np.uint8)
        dump(folder / name, {"batch_label": name, "labels": labels.tolist(), "data": data,
                             "filenames": [f"{i}.png" for i in range(len(labels))]})
    return root


def test_cifar_fs_splits(tmp_path: Path) -> None:
    dist = CifarFS(write_cifar100(tmp_path))
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
            expected = FINE.index(pools["test"].class_names[batch.classes[b, label]])
            assert (traced[b, label * 2:(label + 1) * 2] == expected).all()


def test_cifar_fs_whole_tasks_stay_in_one_split(tmp_path: Path) -> None:
    tasks = CifarFS(write_cifar100(tmp_path)).whole_tasks()
    assert all(t.meta_split is not None and t.num_classes >= 2 for t in tasks)
    fish = next(t for t in tasks if t.name == "fish@train")
    assert fish.class_names == ("aquarium_fish", "ray", "trout")
    assert fish.x_train.shape == (12, 3, 32, 32) and fish.x_test.shape == (6, 3, 32, 32)


def test_fc100_superclass_splits_and_tasks(tmp_path: Path) -> None:
    dist = FC100(write_cifar100(tmp_path))
    pools = dist.pools(dtype=torch.uint8)
    assert {s: p.num_classes for s, p in pools.items()} == {"train": 60, "val": 20, "test": 20}
    for split, superclasses in FC100_SPLITS.items():
        assert {COARSE_OF[n] for n in pools[split].class_names} == set(superclasses)
    tasks = dist.whole_tasks()
    assert len(tasks) == 20 and all(t.num_classes == 5 for t in tasks)
    assert len(dist.whole_tasks("train")) == 12 and len(dist.whole_tasks("test")) == 4
    people = next(t for t in tasks if t.name == "people")
    assert people.meta_split == "test"
    assert sorted(people.y_train.unique().tolist()) == [0, 1, 2, 3, 4]


def test_cifar100_reader_keeps_fine_labels(tmp_path: Path) -> None:
    train, test, superclass = read_cifar100(write_cifar100(tmp_path))
    assert train.images.shape == (400, 3, 32, 32) and len(test.labels) == 200
    assert (train.images[:, 0, 0, 0] == train.labels).all()
    assert superclass["maple_tree"] == "trees"


def test_wrong_hierarchy_is_reported(tmp_path: Path) -> None:
    swapped = dict(COARSE_OF, apple="trees")
    with pytest.raises(CorruptDataError, match=r"hierarchy.*apple.*trees.*fruit_and_vegetables"):
        CifarFS(write_cifar100(tmp_path, coarse_of=swapped))


def test_missing_cifar100_names_file_and_fix(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match=r"cifar-100-python/meta.*cifar-100-python.tar"):
        FC100(tmp_path)


def test_corrupt_pickle_is_reported(tmp_path: Path) -> None:
    root = write_cifar100(tmp_path)
    (root / "cifar-100-python" / "train").write_bytes(b"garbage")
    with pytest.raises(CorruptDataError, match=r"cifar-100-python/train"):
        CifarFS(root)


def test_cifar10_pickles_into_5_class_tasks(tmp_path: Path, tmp_cache: Path) -> None:
    dist = Cifar10Tasks(write_cifar10(tmp_path))
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
