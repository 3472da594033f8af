"""Fixtures for task-distribution tests: an isolated cache and tiny synthetic datasets."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


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
