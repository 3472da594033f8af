"""Any ImageFolder root (``<root>/<class>/<image>``, a folder or a zip) as task distribution.

The shared JPEG CIFAR-10 (``cifar10-jpeg/train.zip``: ``train/<class>/NNNN.jpg``) is read
straight from its zip. Decoded images are cached under ``$METANAS_CACHE``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from tasks.base import ClassSplitTasks, LabelledImages
from tasks.cache import cached_arrays, fingerprint
from tasks.errors import CorruptDataError, DataNotFoundError
from tasks.zip_images import decode_image, open_zip, read_member

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp")
FETCH_AGAIN = "fetch the zip again"


def _files(root: Path, max_per_class: int | None) -> Iterator[tuple[str, str, bytes | Path]]:
    """Yield ``(class, file name, bytes or path)`` sorted by class then file name, at most
    ``max_per_class`` per class (the rest are never read)."""
    taken: dict[str, int] = defaultdict(int)

    def wanted(label: str) -> bool:
        taken[label] += 1
        return max_per_class is None or taken[label] <= max_per_class

    if root.suffix == ".zip":
        with open_zip(root, FETCH_AGAIN) as archive:
            names = [n for n in archive.namelist() if n.lower().endswith(IMAGE_SUFFIXES)]
            for name in sorted(names, key=lambda n: n.split("/")[-2:]):
                parts = name.split("/")
                if len(parts) < 2:
                    raise CorruptDataError(
                        f"{root}: image {name} is not inside a class folder; the zip must hold "
                        "[<prefix>/]<class>/<image> (ImageFolder layout)"
                    )
                if wanted(parts[-2]):
                    yield parts[-2], parts[-1], read_member(archive, name, FETCH_AGAIN)
        return
    for path in sorted(p for p in root.glob("*/*") if p.suffix.lower() in IMAGE_SUFFIXES):
        if wanted(path.parent.name):
            yield path.parent.name, path.name, path


def _to_pixels(mode: str, size: int | None) -> Callable[[Image.Image], np.ndarray]:
    """Convert to ``mode``, resize to ``size`` squared if needed, return ``(C, H, W)``."""

    def convert(image: Image.Image) -> np.ndarray:
        image = image.convert(mode)
        if size is not None and image.size != (size, size):
            image = image.resize((size, size), resample=Image.Resampling.BILINEAR)
        pixels = np.asarray(image, dtype=np.uint8)
        return pixels[None] if pixels.ndim == 2 else pixels.transpose(2, 0, 1)

    return convert


def _read(root: Path, mode: str, size: int | None, max_per_class: int | None
          ) -> dict[str, np.ndarray]:
    per_class: dict[str, list[np.ndarray]] = defaultdict(list)
    first_shape: tuple[tuple[int, ...], str] | None = None
    convert = _to_pixels(mode, size)
    for label, name, data in _files(root, max_per_class):
        where = f"{root}:{label}/{name}"
        pixels = decode_image(data, where, "replace or delete it", convert)
        if first_shape is None:
            first_shape = (pixels.shape, where)
        elif pixels.shape != first_shape[0]:
            raise CorruptDataError(
                f"{where} has shape {pixels.shape} but {first_shape[1]} has {first_shape[0]}: "
                "pass image_size=<side> to resize every image to one size"
            )
        per_class[label].append(pixels)
    if not per_class:
        raise CorruptDataError(
            f"{root} holds no images in <class>/<image> folders (suffixes {IMAGE_SUFFIXES})"
        )
    names = sorted(per_class)
    return {
        "images": np.stack([p for n in names for p in per_class[n]]),
        "labels": np.repeat(np.arange(len(names)), [len(per_class[n]) for n in names]),
        "class_names": np.array(names),
    }


def read_image_folder(
    root: str | Path, *, mode: str = "RGB", image_size: int | None = None,
    max_per_class: int | None = None,
) -> LabelledImages:
    """Decode ``<root>/<class>/<image>`` (``root`` a folder or a zip), cached after the first call.

    :param mode: PIL mode to convert to (``"RGB"`` or ``"L"``).
    :param image_size: resize to ``image_size`` squared; required if sizes differ.
    :param max_per_class: read only the first images (by file name) of each class.
    """
    root = Path(root).expanduser()
    if not root.exists():
        raise DataNotFoundError(
            f"ImageFolder root {root} does not exist: pass a folder or zip holding "
            "<class>/<image> files"
        )
    key = fingerprint([root], mode, image_size, max_per_class, "imagefolder-v1")
    arrays = cached_arrays(
        f"imagefolder-{root.stem}", key, lambda: _read(root, mode, image_size, max_per_class)
    )
    return LabelledImages(
        arrays["images"], arrays["labels"], tuple(str(n) for n in arrays["class_names"])
    )


def hold_out(images: LabelledImages, fraction: float, seed: int
             ) -> tuple[LabelledImages, LabelledImages]:
    """Split every class's images into train and a seeded ``fraction`` for test."""
    if not 0 < fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {fraction}")
    rng = np.random.default_rng(seed)
    test = np.zeros(len(images.labels), dtype=bool)
    for label in range(len(images.class_names)):
        members = np.flatnonzero(images.labels == label)
        count = max(1, round(fraction * len(members)))
        if count >= len(members):
            raise ValueError(
                f"class {images.class_names[label]!r} has {len(members)} images: too few to "
                f"hold out {fraction:.0%} for testing; add images or pass a test_root"
            )
        test[rng.choice(members, count, replace=False)] = True
    return images.subset(~test), images.subset(test)


def split_classes(names: Sequence[str], fractions: Mapping[str, float], seed: int
                  ) -> dict[str, list[str]]:
    """Assign classes to meta-splits by a seeded shuffle in the given proportions."""
    total = sum(fractions.values())
    if not fractions or total <= 0 or any(share < 0 for share in fractions.values()):
        raise ValueError(
            f"split_fractions must be non-negative with a positive sum, got {dict(fractions)}: "
            "pass e.g. {'train': 0.6, 'val': 0.2, 'test': 0.2}"
        )
    order = list(names)
    np.random.default_rng(seed).shuffle(order)
    splits, start = {}, 0
    for i, (split, share) in enumerate(fractions.items()):
        end = len(order) if i == len(fractions) - 1 else start + round(share / total * len(order))
        splits[split] = order[start:end]
        start = end
    empty = [s for s, members in splits.items() if not members]
    if empty:
        raise ValueError(
            f"meta-splits {empty} get no classes out of {len(order)}: change split_fractions "
            "or pass meta_splits explicitly"
        )
    return splits


def chunk_groups(meta_splits: Mapping[str, Sequence[str]], classes_per_task: int
                 ) -> dict[str, list[str]]:
    """Whole tasks: consecutive ``classes_per_task`` classes within each meta-split
    (a remainder smaller than ``classes_per_task`` is left out)."""
    if classes_per_task < 2:
        raise ValueError(f"classes_per_task must be >= 2, got {classes_per_task}")
    groups = {}
    for split, names in meta_splits.items():
        for i in range(len(names) // classes_per_task):
            groups[f"{split}-{i}"] = list(names[i * classes_per_task:(i + 1) * classes_per_task])
    return groups


class ImageFolderTasks(ClassSplitTasks):
    """Class-split episodes and whole tasks from any ImageFolder root.

    :param train_root: folder or zip with ``<class>/<image>``.
    :param test_root: the same classes' test images; without it ``test_fraction`` of each
        class is held out (seeded) for whole tasks.
    :param meta_splits: meta-split -> class names; default: ``split_fractions`` of the
        classes by a seeded shuffle.
    :param classes_per_task: classes of each whole task (consecutive within a meta-split).
    """

    def __init__(
        self,
        train_root: str | Path,
        test_root: str | Path | None = None,
        *,
        meta_splits: Mapping[str, Sequence[str]] | None = None,
        split_fractions: Mapping[str, float] | None = None,
        classes_per_task: int = 5,
        test_fraction: float = 0.2,
        seed: int = 0,
        mode: str = "RGB",
        image_size: int | None = None,
        max_per_class: int | None = None,
    ) -> None:
        read = {"mode": mode, "image_size": image_size, "max_per_class": max_per_class}
        train = read_image_folder(train_root, **read)  # type: ignore[arg-type]
        if test_root is None:
            train, test = hold_out(train, test_fraction, seed)
        else:
            test = read_image_folder(test_root, **read)  # type: ignore[arg-type]
        if meta_splits is None:
            fractions = split_fractions or {"train": 0.6, "val": 0.2, "test": 0.2}
            meta_splits = split_classes(train.class_names, fractions, seed)
        super().__init__(train, test, meta_splits=meta_splits,
                         task_groups=chunk_groups(meta_splits, classes_per_task))
