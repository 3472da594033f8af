"""ImageFolderTasks on synthetic folders and zips: reading, splits, errors."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tasks.errors import CorruptDataError, DataNotFoundError
from tasks.imagefolder import ImageFolderTasks, read_image_folder, split_classes


@pytest.fixture
def write_folder(image_folder_writer):
    """``<root>/<class>/<i>.png``; pixel (0, 0) red channel = class index * 10 + i."""
    return image_folder_writer


def zip_folder(folder: Path, path: Path, prefix: str = "train") -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for file in sorted(folder.rglob("*.png")):
            archive.write(file, f"{prefix}/{file.relative_to(folder)}")
    return path


def test_folder_and_zip_read_the_same(tmp_path: Path, tmp_cache: Path, write_folder) -> None:
    folder = write_folder(tmp_path / "f", {"cat": 3, "dog": 4})
    from_folder = read_image_folder(folder)
    from_zip = read_image_folder(zip_folder(folder, tmp_path / "train.zip"))
    assert from_folder.class_names == from_zip.class_names == ("cat", "dog")
    assert np.array_equal(from_folder.images, from_zip.images)
    assert from_folder.images.shape == (7, 3, 8, 8)
    assert from_folder.images[3:, 0, 0, 0].tolist() == [10, 11, 12, 13]
    assert read_image_folder(folder, max_per_class=2).images.shape[0] == 4
    assert read_image_folder(folder, mode="L", image_size=4).images.shape == (7, 1, 4, 4)


def test_class_split_tasks_with_held_out_test(
    tmp_path: Path, tmp_cache: Path, write_folder
) -> None:
    classes = {f"k{i:02d}": 6 + i % 3 for i in range(10)}
    dist = ImageFolderTasks(write_folder(tmp_path / "f", classes), classes_per_task=2,
                            test_fraction=0.5, seed=1)
    pools = dist.pools()
    assert {s: p.num_classes for s, p in pools.items()} == {"train": 6, "val": 2, "test": 2}
    assert set().union(*(p.class_names for p in pools.values())) == set(classes)
    tasks = dist.whole_tasks()
    assert [t.name for t in tasks] == ["train-0", "train-1", "train-2", "val-0", "test-0"]
    for task in tasks:
        train_ids = set(task.x_train[:, 0, 0, 0].tolist())
        assert not train_ids & set(task.x_test[:, 0, 0, 0].tolist())
    again = ImageFolderTasks(tmp_path / "f", classes_per_task=2, test_fraction=0.5, seed=1)
    assert again.meta_splits == dist.meta_splits


def test_explicit_meta_splits_and_test_root(tmp_path: Path, tmp_cache: Path, write_folder) -> None:
    train = write_folder(tmp_path / "train", {"a": 5, "b": 5, "c": 5, "d": 5})
    test = write_folder(tmp_path / "test", {"a": 2, "b": 2, "c": 2, "d": 2})
    dist = ImageFolderTasks(train, test, meta_splits={"train": ["a", "b"], "test": ["c", "d"]},
                            classes_per_task=2)
    assert dist.pool("test").samples_per_class == 7
    assert [t.x_test.shape[0] for t in dist.whole_tasks()] == [4, 4]
    with pytest.raises(ValueError, match="disjoint"):
        ImageFolderTasks(train, test, meta_splits={"train": ["a"], "test": ["a"]})


def test_corrupt_image_and_mixed_sizes(tmp_path: Path, tmp_cache: Path, write_folder) -> None:
    folder = write_folder(tmp_path / "f", {"a": 2, "b": 2})
    Image.fromarray(np.zeros((5, 5, 3), dtype=np.uint8)).save(folder / "b" / "odd.png")
    with pytest.raises(CorruptDataError, match=r"b/odd.png has shape.*image_size"):
        read_image_folder(folder)
    (folder / "b" / "odd.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(CorruptDataError, match=r"b/odd.png.*corrupt"):
        read_image_folder(folder)


def test_missing_root(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="does not exist"):
        read_image_folder(tmp_path / "nowhere")


def test_damaged_zip_member_names_archive_member_and_fix(
    tmp_path: Path, tmp_cache: Path, write_folder, zip_corrupter
) -> None:
    archive = zip_folder(write_folder(tmp_path / "f", {"cat": 2, "dog": 2}), tmp_path / "t.zip")
    zip_corrupter(archive, "train/dog/001.png")
    with pytest.raises(CorruptDataError,
                       match=r"train/dog/001.png in .*t\.zip.*damaged; fetch the zip again"):
        read_image_folder(archive)


def test_unreadable_zip_names_the_fix(tmp_path: Path, tmp_cache: Path) -> None:
    (tmp_path / "t.zip").write_bytes(b"not a zip")
    with pytest.raises(CorruptDataError, match=r"t\.zip is not a readable zip.*fetch"):
        read_image_folder(tmp_path / "t.zip")


@pytest.mark.parametrize("fractions", [{"train": 0.0, "test": 0.0}, {}, {"train": -1, "test": 2}])
def test_split_fractions_must_be_positive(fractions: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="split_fractions must be non-negative"):
        split_classes(["a", "b", "c"], fractions, seed=0)


def test_whole_tasks_reject_unknown_or_empty_meta_split(
    tmp_path: Path, tmp_cache: Path, write_folder
) -> None:
    classes = {f"k{i}": 4 for i in range(8)}
    dist = ImageFolderTasks(write_folder(tmp_path / "f", classes), classes_per_task=2,
                            split_fractions={"train": 0.75, "test": 0.125, "val": 0.125},
                            test_fraction=0.5)
    assert [t.meta_split for t in dist.whole_tasks("train")] == ["train"] * 3
    with pytest.raises(KeyError, match=r"no meta-split 'trian'.*\('train', 'test', 'val'\)"):
        dist.whole_tasks("trian")
    with pytest.raises(ValueError, match=r"no whole task in meta-split 'val'.*classes_per_task"):
        dist.whole_tasks("val")  # one class: too few for a 2-class task
