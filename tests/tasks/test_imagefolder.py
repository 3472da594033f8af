"""ImageFolderTasks on synthetic folders and zips: reading, splits, errors."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tasks.errors import CorruptDataError, DataNotFoundError
from tasks.imagefolder import ImageFolderTasks, read_image_folder


def write_folder(root: Path, classes: dict[str, int], size: int = 8) -> Path:
    """``<root>/<class>/<i>.png``; pixel (0, 0) red channel = class index * 10 + i."""
    for c, (name, count) in enumerate(sorted(classes.items())):
        (root / name).mkdir(parents=True)
        for i in range(count):
            pixels = np.zeros((size, size, 3), dtype=np.uint8)
            pixels[0, 0, 0] = c * 10 + i
            Image.fromarray(pixels).save(root / name / f"{i:03d}.png")
    return root


def zip_folder(folder: Path, path: Path, prefix: str = "train") -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for file in sorted(folder.rglob("*.png")):
            archive.write(file, f"{prefix}/{file.relative_to(folder)}")
    return path


def test_folder_and_zip_read_the_same(tmp_path: Path, tmp_cache: Path) -> None:
    folder = write_folder(tmp_path / "f", {"cat": 3, "dog": 4})
    from_folder = read_image_folder(folder)
    from_zip = read_image_folder(zip_folder(folder, tmp_path / "train.zip"))
    assert from_folder.class_names == from_zip.class_names == ("cat", "dog")
    assert np.array_equal(from_folder.images, from_zip.images)
    assert from_folder.images.shape == (7, 3, 8, 8)
    assert from_folder.images[3:, 0, 0, 0].tolist() == [10, 11, 12, 13]
    assert read_image_folder(folder, max_per_class=2).images.shape[0] == 4
    assert read_image_folder(folder, mode="L", image_size=4).images.shape == (7, 1, 4, 4)


def test_class_split_tasks_with_held_out_test(tmp_path: Path, tmp_cache: Path) -> None:
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


def test_explicit_meta_splits_and_test_root(tmp_path: Path, tmp_cache: Path) -> None:
    train = write_folder(tmp_path / "train", {"a": 5, "b": 5, "c": 5, "d": 5})
    test = write_folder(tmp_path / "test", {"a": 2, "b": 2, "c": 2, "d": 2})
    dist = ImageFolderTasks(train, test, meta_splits={"train": ["a", "b"], "test": ["c", "d"]},
                            classes_per_task=2)
    assert dist.pool("test").samples_per_class == 7
    assert [t.x_test.shape[0] for t in dist.whole_tasks()] == [4, 4]
    with pytest.raises(ValueError, match="disjoint"):
        ImageFolderTasks(train, test, meta_splits={"train": ["a"], "test": ["a"]})


def test_corrupt_image_and_mixed_sizes(tmp_path: Path, tmp_cache: Path) -> None:
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
