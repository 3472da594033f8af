"""CIFAR-10/100 task distributions from torchvision's on-disk formats or ImageFolder roots.

* :class:`Cifar10Tasks` -- CIFAR-10 split into class groups (default two 5-class tasks,
  the first five classes for meta-training and the last five for meta-test), from
  ``cifar-10-batches-py`` or an ImageFolder root such as the shared JPEG zips.
* :class:`CifarFS` -- Bertinetto et al. 2019, 64/16/20 CIFAR-100 classes.
* :class:`FC100` -- Oreshkin et al. 2018, CIFAR-100 superclasses 12/4/4; its whole tasks
  are the 20 superclass tasks (5 classes each).

CIFAR-100 comes from the official ``cifar-100-python`` pickles or from the shared lossless
PNG copy (``cifar100-png/``: two ImageFolder zips and ``classes.csv``). Both few-shot
benchmarks split by class and use all 600 images of a class, so the official 500/100
train/test split is not needed (the PNG copy cannot recover it): whole tasks hold out a
seeded ``test_fraction`` of every class's 600 images, whichever source is read.
"""

from __future__ import annotations

import csv
import pickle
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from common_io.data_dir import data_root
from tasks.base import ClassSplitTasks, LabelledImages
from tasks.cifar100_splits import CIFAR_FS, SUPERCLASSES
from tasks.cifar100_splits import FC100 as FC100_SPLITS
from tasks.errors import CorruptDataError, DataNotFoundError
from tasks.imagefolder import chunk_groups, hold_out, read_image_folder

CIFAR10_FOLDER, CIFAR100_FOLDER = "cifar-10-batches-py", "cifar-100-python"
CIFAR100_PNG_ZIPS = ("classes-00-49.zip", "classes-50-99.zip")
CIFAR100_PNG_CLASSES = "classes.csv"
CIFAR100_IMAGES_PER_CLASS = 600
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR100_URL = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"


def _unpickle(path: Path, url: str) -> dict:
    if not path.exists():
        raise DataNotFoundError(
            f"missing {path}: extract {url} into {path.parent.parent} "
            f"(expected layout: {path.parent.name}/{path.name})"
        )
    try:
        with path.open("rb") as handle:
            return pickle.load(handle, encoding="latin1")
    except (pickle.UnpicklingError, EOFError, ValueError) as exc:
        raise CorruptDataError(
            f"{path} is not a readable CIFAR pickle ({exc}): download {url} again"
        ) from exc


def _images(batch: dict, key: str, path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        data = np.asarray(batch["data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        labels = np.asarray(batch[key], dtype=np.int64)
    except (KeyError, ValueError) as exc:
        raise CorruptDataError(
            f"{path} lacks CIFAR fields 'data'/{key!r} of the right shape ({exc})"
        ) from exc
    if len(data) != len(labels):
        raise CorruptDataError(f"{path}: {len(data)} images but {len(labels)} labels")
    return data, labels


def _folder(root: Path, name: str) -> Path:
    """``<root>/<name>``, or ``root`` itself when it is that folder."""
    return root if root.name == name else root / name


def read_cifar10(root: str | Path) -> tuple[LabelledImages, LabelledImages]:
    """Train and test images of torchvision's ``<root>/cifar-10-batches-py``."""
    folder = _folder(Path(root).expanduser(), CIFAR10_FOLDER)
    names = tuple(_unpickle(folder / "batches.meta", CIFAR10_URL)["label_names"])
    parts = []
    for files in ([f"data_batch_{i}" for i in range(1, 6)], ["test_batch"]):
        batches = [_images(_unpickle(folder / f, CIFAR10_URL), "labels", folder / f)
                   for f in files]
        parts.append(LabelledImages(np.concatenate([b[0] for b in batches]),
                                    np.concatenate([b[1] for b in batches]), names))
    return parts[0], parts[1]


def read_cifar100(root: str | Path) -> tuple[LabelledImages, LabelledImages, dict[str, str]]:
    """Train and test images (fine labels) of ``<root>/cifar-100-python`` and the
    class -> superclass map found in the data."""
    folder = _folder(Path(root).expanduser(), CIFAR100_FOLDER)
    meta = _unpickle(folder / "meta", CIFAR100_URL)
    fine, coarse = tuple(meta["fine_label_names"]), tuple(meta["coarse_label_names"])
    parts, superclass = [], {}
    for name in ("train", "test"):
        batch = _unpickle(folder / name, CIFAR100_URL)
        images, labels = _images(batch, "fine_labels", folder / name)
        _, coarse_labels = _images(batch, "coarse_labels", folder / name)
        superclass.update({fine[f]: coarse[c] for f, c in zip(labels, coarse_labels)})
        parts.append(LabelledImages(images, labels, fine))
    return parts[0], parts[1], superclass


def read_cifar100_png(root: str | Path) -> tuple[LabelledImages, dict[str, str]]:
    """All images of the PNG copy in ``root`` (fine labels in ``fine_id`` order) and the
    class -> superclass map of its ``classes.csv``.

    Each zip is decoded once and cached (:func:`~tasks.imagefolder.read_image_folder`).
    """
    root = Path(root).expanduser()
    rows = _read_classes_csv(root / CIFAR100_PNG_CLASSES)
    parts = [read_image_folder(root / name) for name in CIFAR100_PNG_ZIPS]
    names = tuple(n for part in parts for n in part.class_names)
    expected = tuple(fine for fine, _ in rows)
    if names != expected:
        raise CorruptDataError(
            f"{root}: the zips hold classes {names[:3]}...{names[-3:]} ({len(names)}), but "
            f"{CIFAR100_PNG_CLASSES} lists {expected[:3]}...{expected[-3:]} ({len(expected)}): "
            "the copy is partial or mixed up; fetch cifar100-png again"
        )
    offset = len(parts[0].class_names)
    images = LabelledImages(
        np.concatenate([parts[0].images, parts[1].images]),
        np.concatenate([parts[0].labels, parts[1].labels + offset]),
        names,
    )
    counts = np.bincount(images.labels, minlength=len(names))
    full = int(counts.max())
    short = [(names[i], int(c)) for i, c in enumerate(counts) if c != full]
    if short:
        raise CorruptDataError(
            f"{root}: classes with fewer images than the others ({full}; the shared copy has "
            f"{CIFAR100_IMAGES_PER_CLASS}): {short[:5]}; the copy is partial, fetch "
            "cifar100-png again"
        )
    return images, dict(rows)


def _read_classes_csv(path: Path) -> list[tuple[str, str]]:
    """``(fine_name, coarse_name)`` rows of ``classes.csv`` in ``fine_id`` order 0..99."""
    try:
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        ordered = sorted(rows, key=lambda r: int(r["fine_id"]))
        pairs = [(r["fine_name"], r["coarse_name"]) for r in ordered]
        ids = [int(r["fine_id"]) for r in ordered]
    except (KeyError, ValueError, TypeError) as exc:
        raise CorruptDataError(
            f"{path} lacks integer fine_id and fine_name/coarse_name columns ({exc!r}); "
            "fetch cifar100-png again"
        ) from exc
    if ids != list(range(100)):
        raise CorruptDataError(f"{path} must list fine_id 0..99 once each; fetch it again")
    return pairs


def read_cifar100_images(root: Path) -> tuple[LabelledImages, dict[str, str]]:
    """Every CIFAR-100 image under ``root`` (pickles or the PNG copy) and the hierarchy."""
    if _folder(root, CIFAR100_FOLDER).is_dir():
        train, test, superclass = read_cifar100(root)
        return train.concat(test), superclass
    if (root / CIFAR100_PNG_CLASSES).exists():
        return read_cifar100_png(root)
    raise DataNotFoundError(
        f"no CIFAR-100 under {root}: expected {root / CIFAR100_FOLDER} (extract "
        f"{CIFAR100_URL} there) or the PNG copy ({root / CIFAR100_PNG_CLASSES} with "
        f"{' and '.join(CIFAR100_PNG_ZIPS)}); pass root=... or set METANAS_DATA"
    )


def _check_hierarchy(superclass: Mapping[str, str], root: Path) -> None:
    """The published splits name classes by (superclass, class): the data must agree."""
    expected = {f: c for c, members in SUPERCLASSES.items() for f in members}
    wrong = {f: (superclass.get(f), c) for f, c in expected.items() if superclass.get(f) != c}
    if wrong:
        sample = list(wrong.items())[:3]
        raise CorruptDataError(
            f"CIFAR-100 in {root} does not match the official class hierarchy "
            f"(class: (found, expected) superclass) {sample}: use the official "
            f"{CIFAR100_URL}"
        )


class _Cifar100Tasks(ClassSplitTasks):
    """Reads CIFAR-100 and checks its hierarchy; subclasses give the splits and tasks.

    Episodes use all images of a class; whole tasks test on a seeded ``test_fraction`` of
    each class's images (100 of 600 by default, the official proportion) and train on the
    rest.
    """

    def __init__(self, root: str | Path | None,
                 meta_splits: Mapping[str, Sequence[str]],
                 task_groups: Mapping[str, Sequence[str]],
                 test_fraction: float, seed: int) -> None:
        root = Path(root).expanduser() if root is not None else data_root() / "cifar100-png"
        images, superclass = read_cifar100_images(root)
        _check_hierarchy(superclass, root)
        train, test = hold_out(images, test_fraction, seed)
        super().__init__(train, test, meta_splits=meta_splits, task_groups=task_groups)


class CifarFS(_Cifar100Tasks):
    """CIFAR-FS (Bertinetto et al. 2019): 64/16/20 classes, 600 images each.

    Whole tasks: each superclass's classes within one meta-split (groups of >= 2 classes),
    named ``<superclass>@<split>``.

    :param root: the PNG copy (default ``<data>/cifar100-png``) or a folder holding
        ``cifar-100-python``.
    :param test_fraction: share of each class's images that whole tasks test on.
    :param seed: seed of that hold-out.
    """

    def __init__(self, root: str | Path | None = None, *, test_fraction: float = 1 / 6,
                 seed: int = 0) -> None:
        meta_splits = {s: [f for _, f in pairs] for s, pairs in CIFAR_FS.items()}
        groups: dict[str, list[str]] = {}
        for split, pairs in CIFAR_FS.items():
            for coarse, fine in pairs:
                groups.setdefault(f"{coarse}@{split}", []).append(fine)
        super().__init__(root, meta_splits,
                         {g: members for g, members in groups.items() if len(members) >= 2},
                         test_fraction, seed)


class FC100(_Cifar100Tasks):
    """FC100 (Oreshkin et al. 2018): superclasses 12/4/4 (60/20/20 classes).

    Whole tasks: the 20 CIFAR-100 superclasses, each classifying its 5 classes.

    :param root: the PNG copy (default ``<data>/cifar100-png``) or a folder holding
        ``cifar-100-python``.
    :param test_fraction: share of each class's images that whole tasks test on.
    :param seed: seed of that hold-out.
    """

    def __init__(self, root: str | Path | None = None, *, test_fraction: float = 1 / 6,
                 seed: int = 0) -> None:
        meta_splits = {
            split: [f for c in superclasses for f in SUPERCLASSES[c]]
            for split, superclasses in FC100_SPLITS.items()
        }
        super().__init__(root, meta_splits, {c: list(f) for c, f in SUPERCLASSES.items()},
                         test_fraction, seed)


class Cifar10Tasks(ClassSplitTasks):
    """CIFAR-10 split into ``classes_per_task``-class tasks.

    :param root: a folder with ``cifar-10-batches-py`` (torchvision), or an ImageFolder root
        with ``train``/``test`` folders or ``train.zip``/``test.zip`` (default
        ``<data>/cifar10-jpeg``, JPEG quality 75: accuracies differ from standard CIFAR-10).
    :param meta_splits: meta-split -> class names; default first five classes ``train``,
        last five ``test``.
    :param max_per_class: read only this many images per class of an ImageFolder root
        (quick runs and tests).
    """

    def __init__(
        self,
        root: str | Path | None = None,
        *,
        meta_splits: Mapping[str, Sequence[str]] | None = None,
        classes_per_task: int = 5,
        max_per_class: int | None = None,
    ) -> None:
        root = Path(root).expanduser() if root is not None else data_root() / "cifar10-jpeg"
        if _folder(root, CIFAR10_FOLDER).is_dir():
            train, test = read_cifar10(root)
            if max_per_class is not None:
                train, test = (_first_per_class(p, max_per_class) for p in (train, test))
        else:
            train, test = (
                read_image_folder(_image_folder(root, part), max_per_class=max_per_class)
                for part in ("train", "test")
            )
        if meta_splits is None:
            names = train.class_names
            meta_splits = {"train": names[:5], "test": names[5:]}
        super().__init__(train, test, meta_splits=meta_splits,
                         task_groups=chunk_groups(meta_splits, classes_per_task))


def _image_folder(root: Path, part: str) -> Path:
    for candidate in (root / f"{part}.zip", root / part):
        if candidate.exists():
            return candidate
    raise DataNotFoundError(
        f"no CIFAR-10 {part!r} images under {root}: expected {root / CIFAR10_FOLDER} "
        f"(torchvision, from {CIFAR10_URL}), {root / f'{part}.zip'} or {root / part}/ "
        "(ImageFolder <class>/<image>); pass root=... or set METANAS_DATA"
    )


def _first_per_class(images: LabelledImages, count: int) -> LabelledImages:
    keep = np.zeros(len(images.labels), dtype=bool)
    for label in range(len(images.class_names)):
        keep[np.flatnonzero(images.labels == label)[:count]] = True
    return images.subset(keep)
