"""A tiny synthetic task distribution and table stand-in for the job's mechanics tests."""

from __future__ import annotations

import numpy as np
import pytest

from tasks.base import LabelledImages, TaskDistribution, WholeTask


class TinyTasks(TaskDistribution):
    """8x8 random images, 8 classes per meta-split, 6 samples each (mechanics only)."""

    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        self.images = {s: rng.integers(0, 256, (48, 1, 8, 8), dtype=np.uint8)
                       for s in self.splits}

    @property
    def splits(self) -> tuple[str, ...]:
        return ("train", "test")

    def split_images(self, split: str) -> LabelledImages:
        return LabelledImages(self.images[split], np.repeat(np.arange(8), 6),
                              tuple(f"{split}{i}" for i in range(8)))

    def whole_tasks(self, meta_split: str | None = None) -> list[WholeTask]:
        return []


class ConstantTable:
    """Answers every NB201 look-up with 50.0 (the job only reads test accuracy from it)."""

    def query(self, keys, *, task: str, fidelity: int, metric: str) -> np.ndarray:
        return np.full(len(keys), 50.0)


@pytest.fixture
def tiny_tasks() -> TinyTasks:
    return TinyTasks()


@pytest.fixture
def constant_table() -> type[ConstantTable]:
    return ConstantTable
