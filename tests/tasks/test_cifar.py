"""CIFAR readers and splits: tiny files in torchvision's pickle format and in the layout
of the shared PNG copy, the real PNG copy, the published class lists, real JPEG zips."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch

from tasks.cifar import FC100, Cifar10Tasks, CifarFS, read_cifar100, read_cifar100_png
from tasks.cifar100_splits import CIFAR_FS, SUPERCLASSES
from tasks.cifar100_splits import FC100 as FC100_SPLITS
from tasks.errors import CorruptDataError, DataNotFoundError
from tasks.imagefolder import hold_out

# The published splits, kept here apart from tasks/cifar100_splits.py so each checks the other.
# CIFAR-FS: Bertinetto et al. (ICLR 2019), bertinetto/r2d2 `data/cifar-fs/splits/bertinetto/
# {train,val,test}.txt` (as mirrored in tristandeleu/pytorch-meta ac3c48e,
# torchmeta/datasets/assets/cifar100/cifar-fs/*.json).
PUBLISHED_CIFAR_FS = {
    "train": """dolphin seal aquarium_fish ray trout orchid sunflower tulip bottle bowl can cup
        plate apple mushroom orange pear clock keyboard chair couch bee caterpillar cockroach
        bear lion tiger wolf bridge castle house road skyscraper cloud forest mountain elephant
        kangaroo porcupine possum raccoon skunk lobster spider boy girl dinosaur lizard snake
        turtle hamster mouse rabbit shrew squirrel oak_tree palm_tree pine_tree willow_tree bus
        train lawn_mower streetcar tank""",
    "val": """beaver otter flatfish shark lamp television beetle butterfly sea camel cattle crab
        crocodile maple_tree motorcycle tractor""",
    "test": """whale poppy rose sweet_pepper telephone bed table wardrobe leopard plain
        chimpanzee fox snail worm baby man woman bicycle pickup_truck rocket""",
}
# FC100: Oreshkin et al. (NeurIPS 2018), ElementAI/TADAM's split by CIFAR-100 coarse label id.
PUBLISHED_FC100_COARSE_IDS = {
    "train": {1, 2, 3, 4, 5, 6, 9, 10, 15, 17, 18, 19},
    "val": {8, 11, 13, 16},
    "test": {0, 7, 12, 14},
}


def test_cifar_fs_lists_equal_the_published_ones() -> None:
    for split, names in PUBLISHED_CIFAR_FS.items():
        assert [fine for _, fine in CIFAR_FS[split]] == names.split(), split
    assert [len(CIFAR_FS[s]) for s in ("train", "val", "test")] == [64, 16, 20]


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
    # 6 images per class (official train + test pooled), a seeded sixth of each tests
    assert fish.x_train.shape == (15, 3, 32, 32) and fish.x_test.shape == (3, 3, 32, 32)
    assert torch.bincount(fish.y_test).tolist() == [1, 1, 1]


def test_png_copy_and_pickles_give_the_same_distribution(
    tmp_path: Path, tmp_cache: Path, cifar100_writer, cifar100_png_writer
) -> None:
    png = CifarFS(cifar100_png_writer(tmp_path / "png", per_class=6))
    pickled = CifarFS(cifar100_writer(tmp_path / "pickles"))
    for split in ("train", "val", "test"):
        a, b = png.pool(split, dtype=torch.uint8), pickled.pool(split, dtype=torch.uint8)
        assert a.class_names == b.class_names and a.samples_per_class == b.samples_per_class == 6
        labels = a.data[:, :, 0, 0, 0].long()  # the writer stores the fine label in a pixel
        fine = [png.train.class_names.index(n) for n in a.class_names]
        assert (labels == torch.tensor(fine)[:, None]).all()
    assert [t.name for t in png.whole_tasks()] == [t.name for t in pickled.whole_tasks()]


def test_png_copy_reader_checks_completeness(tmp_path: Path, tmp_cache: Path,
                                             cifar100_png_writer) -> None:
    images, superclass = read_cifar100_png(cifar100_png_writer(tmp_path / "ok", per_class=2))
    assert images.images.shape == (200, 3, 32, 32) and superclass["maple_tree"] == "trees"
    assert (images.images[:, 0, 0, 0] == images.labels).all()
    partial = cifar100_png_writer(tmp_path / "partial", per_class=2, drop="otter")
    with pytest.raises(CorruptDataError, match=r"fewer images than the others \(2;.*otter', 1\)"):
        read_cifar100_png(partial)


def test_whole_task_hold_out_is_seeded(tmp_path: Path, tmp_cache: Path,
                                       cifar100_png_writer) -> None:
    root = cifar100_png_writer(tmp_path, per_class=12)
    people = [next(t for t in FC100(root, seed=s).whole_tasks("test") if t.name == "people")
              for s in (0, 0, 1)]
    assert torch.equal(people[0].x_test, people[1].x_test)
    assert people[0].x_test.shape == (10, 3, 32, 32)  # 2 of 12 per class
    pool = FC100(root).pool("test", dtype=torch.uint8)
    assert pool.samples_per_class == 12  # episodes use every image
    with pytest.raises(ValueError, match="test_fraction"):
        FC100(root, test_fraction=1.0)


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


def test_missing_cifar100_names_both_layouts_and_fix(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError,
                       match=r"no CIFAR-100 under.*cifar-100-python.*tar\.gz.*classes\.csv"):
        FC100(tmp_path)
    (tmp_path / "cifar-100-python").mkdir()
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


@pytest.fixture(scope="module")
def real_cifar100(real_data: Path):
    """The shared PNG copy, decoded once (about 10 s) and then read from the cache."""
    root = real_data / "cifar100-png"
    return root, *read_cifar100_png(root)


@pytest.mark.slow
def test_real_png_copy_is_complete_and_matches_published_statistics(real_cifar100) -> None:
    root, images, superclass = real_cifar100
    assert images.images.shape == (60000, 3, 32, 32)
    assert np.bincount(images.labels).tolist() == [600] * 100
    with (root / "classes.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert list(images.class_names) == [r["fine_name"] for r in rows]
    means = images.images.mean(axis=(0, 2, 3)) / 255
    np.testing.assert_allclose(means, [0.5074, 0.4867, 0.4411], atol=2e-4)
    expected = {f: c for c, members in SUPERCLASSES.items() for f in members}
    assert superclass == expected


@pytest.mark.slow
def test_real_fc100_split_is_tadams_coarse_ids(real_cifar100) -> None:
    root, _, _ = real_cifar100
    with (root / "classes.csv").open() as handle:
        coarse_name = {int(r["coarse_id"]): r["coarse_name"] for r in csv.DictReader(handle)}
    for split, ids in PUBLISHED_FC100_COARSE_IDS.items():
        assert set(FC100_SPLITS[split]) == {coarse_name[i] for i in ids}, split


@pytest.mark.slow
def test_real_cifar_fs_and_fc100(real_cifar100) -> None:
    root = real_cifar100[0]
    cifar_fs = CifarFS(root)
    pools = cifar_fs.pools(dtype=torch.uint8)
    assert {s: (p.num_classes, p.samples_per_class) for s, p in pools.items()} == {
        "train": (64, 600), "val": (16, 600), "test": (20, 600)}
    for split, names in PUBLISHED_CIFAR_FS.items():
        assert set(pools[split].class_names) == set(names.split())
    batch = pools["test"].sample(torch.Generator().manual_seed(0), meta_batch=2, ways=5,
                                 shots=5, queries=15)
    assert batch.x_query.shape == (2, 75, 3, 32, 32) and 0.3 < float(batch.x_query.mean()) < 0.7
    tasks = FC100(root).whole_tasks()
    assert len(tasks) == 20 and {t.meta_split for t in tasks} == {"train", "val", "test"}
    for task in tasks:
        assert set(task.class_names) == set(SUPERCLASSES[task.name])
        assert task.x_train.shape == (2500, 3, 32, 32) and task.x_test.shape == (500, 3, 32, 32)
        assert torch.bincount(task.y_test).tolist() == [100] * 5


@pytest.mark.slow
def test_real_hold_out_is_seeded(real_cifar100) -> None:
    _, images, _ = real_cifar100
    first, again, other = (hold_out(images, 1 / 6, seed)[1] for seed in (0, 0, 1))
    assert np.array_equal(first.images, again.images)
    assert not np.array_equal(first.images, other.images)
