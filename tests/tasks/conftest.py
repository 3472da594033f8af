"""Fixtures for task-distribution tests: an isolated cache and tiny synthetic datasets.

Writers are handed out as fixtures (``tests/tasks`` cannot be a package: it would shadow
the real ``tasks`` package), so tests in several files share one copy of each.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tasks.cifar100_splits import SUPERCLASSES


@pytest.fixture
def tmp_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point ``$METANAS_CACHE`` at an empty folder for one test."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("METANAS_CACHE", str(cache))
    return cache


def png_bytes(pixels: np.ndarray, mode: str) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).convert(mode).save(buffer, format="PNG")
    return buffer.getvalue()


def write_omniglot_zip(path: Path, subset: str, alphabets: dict[str, int], *,
                       drawings: int = 20, seed: int = 0) -> None:
    """A tiny Omniglot zip in the official layout: 1-bit 105x105 PNGs, white background."""
    rng = np.random.default_rng(seed)
    number = 1
    with zipfile.ZipFile(path, "w") as archive:
        for alphabet, characters in alphabets.items():
            for c in range(1, characters + 1):
                for d in range(1, drawings + 1):
                    pixels = np.where(rng.random((105, 105)) < 0.1, 0, 255).astype(np.uint8)
                    name = f"{subset}/{alphabet}/character{c:02d}/{number:04d}_{d:02d}.png"
                    archive.writestr(name, png_bytes(pixels, "1"))
                number += 1


@pytest.fixture
def tiny_omniglot(tmp_path: Path, tmp_cache: Path) -> Path:
    """Omniglot root with tiny official-layout zips: background Alpha (3 characters),
    Beta (2); evaluation Gamma (2)."""
    root = tmp_path / "omniglot"
    root.mkdir()
    write_omniglot_zip(root / "images_background.zip", "images_background",
                       {"Alpha": 3, "Beta": 2})
    write_omniglot_zip(root / "images_evaluation.zip", "images_evaluation", {"Gamma": 2},
                       seed=1)
    return root


@pytest.fixture
def omniglot_zip_writer():
    """:func:`write_omniglot_zip`, for tests that need a differently shaped dataset."""
    return write_omniglot_zip


def write_image_folder(root: Path, classes: dict[str, int], size: int = 8) -> Path:
    """``<root>/<class>/<i>.png``; pixel (0, 0) red channel = class index * 10 + i."""
    for c, (name, count) in enumerate(sorted(classes.items())):
        (root / name).mkdir(parents=True)
        for i in range(count):
            pixels = np.zeros((size, size, 3), dtype=np.uint8)
            pixels[0, 0, 0] = c * 10 + i
            Image.fromarray(pixels).save(root / name / f"{i:03d}.png")
    return root


@pytest.fixture
def image_folder_writer():
    """:func:`write_image_folder`."""
    return write_image_folder


def write_cifar100(root: Path, per_class: tuple[int, int] = (4, 2),
                   reassign: dict[str, str] | None = None) -> Path:
    """``<root>/cifar-100-python/{train,test,meta}`` in torchvision's pickle format; pixel
    (0, 0, 0) of every image holds its fine label so tests can trace images. ``reassign``
    moves classes to other superclasses (a corrupt hierarchy)."""
    fine_names = sorted(f for members in SUPERCLASSES.values() for f in members)
    coarse_names = sorted(SUPERCLASSES)
    coarse_of = {f: c for c, members in SUPERCLASSES.items() for f in members} | (reassign or {})
    folder = root / "cifar-100-python"
    folder.mkdir(parents=True)
    _dump(folder / "meta", {"fine_label_names": fine_names, "coarse_label_names": coarse_names})
    for name, count in zip(("train", "test"), per_class):
        fine = np.repeat(np.arange(100), count)
        data = np.zeros((len(fine), 3 * 32 * 32), dtype=np.uint8)
        data[:, 0] = fine
        _dump(folder / name, {
            "filenames": [f"{i}.png" for i in range(len(fine))],
            "batch_label": f"{name} batch",
            "fine_labels": fine.tolist(),
            "coarse_labels": [coarse_names.index(coarse_of[fine_names[f]]) for f in fine],
            "data": data,
        })
    return root


def write_cifar100_png(root: Path, per_class: int = 6, drop: str | None = None) -> Path:
    """``<root>/{classes-00-49.zip, classes-50-99.zip, classes.csv}`` laid out like the
    shared PNG copy; pixel (0, 0) red of every image holds its fine label. ``drop`` leaves
    one image of that class out (a partial copy)."""
    fine_names = sorted(f for members in SUPERCLASSES.values() for f in members)
    coarse_names = sorted(SUPERCLASSES)
    coarse_of = {f: c for c, members in SUPERCLASSES.items() for f in members}
    root.mkdir(parents=True, exist_ok=True)
    lines = ["fine_id,fine_name,coarse_id,coarse_name"]
    for fine_id, name in enumerate(fine_names):
        coarse = coarse_of[name]
        lines.append(f"{fine_id},{name},{coarse_names.index(coarse)},{coarse}")
    (root / "classes.csv").write_text("\n".join(lines) + "\n")
    for zip_name, ids in (("classes-00-49.zip", range(50)), ("classes-50-99.zip", range(50, 100))):
        with zipfile.ZipFile(root / zip_name, "w", zipfile.ZIP_STORED) as archive:
            for fine_id in ids:
                count = per_class - (fine_names[fine_id] == drop)
                for i in range(count):
                    pixels = np.full((32, 32, 3), 128, dtype=np.uint8)
                    pixels[0, 0, 0] = fine_id
                    archive.writestr(f"{fine_names[fine_id]}/{i:03d}.png", png_bytes(pixels, "RGB"))
    return root


@pytest.fixture
def cifar100_png_writer():
    """:func:`write_cifar100_png`."""
    return write_cifar100_png


def write_cifar10(root: Path, per_class: int = 3) -> Path:
    """``<root>/cifar-10-batches-py`` in torchvision's pickle format; every pixel of an
    image holds its label."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
             "truck"]
    _dump(folder / "batches.meta", {"label_names": names, "num_cases_per_batch": 30})
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        labels = np.repeat(np.arange(10), per_class)
        data = np.repeat(labels[:, None], 3072, axis=1).astype(np.uint8)
        _dump(folder / name, {"batch_label": name, "labels": labels.tolist(), "data": data,
                              "filenames": [f"{i}.png" for i in range(len(labels))]})
    return root


def _dump(path: Path, obj: dict) -> None:
    with path.open("wb") as handle:
        pickle.dump(obj, handle, protocol=2)


@pytest.fixture
def cifar100_writer():
    """:func:`write_cifar100`."""
    return write_cifar100


@pytest.fixture
def cifar10_writer():
    """:func:`write_cifar10`."""
    return write_cifar10


def corrupt_zip_member(path: Path, member: str) -> None:
    """Flip bytes in the middle of ``member``'s stored data, leaving the zip directory
    intact, so opening works and reading that member fails its CRC check."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    raw = bytearray(path.read_bytes())
    header = info.header_offset
    name_length = int.from_bytes(raw[header + 26:header + 28], "little")
    extra_length = int.from_bytes(raw[header + 28:header + 30], "little")
    middle = header + 30 + name_length + extra_length + info.compress_size // 2
    raw[middle:middle + 4] = bytes(b ^ 0xFF for b in raw[middle:middle + 4])
    path.write_bytes(bytes(raw))


@pytest.fixture
def zip_corrupter():
    """:func:`corrupt_zip_member`."""
    return corrupt_zip_member
