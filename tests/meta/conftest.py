"""Tiny synthetic episodes and pools for unit tests of mechanics (never for reported numbers)."""

from __future__ import annotations

import pytest
import torch

from tasks.base import TaskDistribution
from tasks.episodes import EpisodeBatch, FewShotPool


def synthetic_batch(
    *, meta_batch: int, ways: int, shots: int, queries: int, side: int = 28, seed: int = 0
) -> EpisodeBatch:
    """Random images with class-major labels, shaped like ``FewShotPool.sample``'s output."""
    gen = torch.Generator().manual_seed(seed)
    xs = torch.rand(meta_batch, ways * shots, 1, side, side, generator=gen)
    xq = torch.rand(meta_batch, ways * queries, 1, side, side, generator=gen)
    labels = torch.arange(ways)
    return EpisodeBatch(
        x_support=xs,
        y_support=labels.repeat_interleave(shots).expand(meta_batch, -1),
        x_query=xq,
        y_query=labels.repeat_interleave(queries).expand(meta_batch, -1),
        classes=labels.expand(meta_batch, -1),
    )


class SyntheticTasks(TaskDistribution):
    """Learnable 28x28 classes (a class-specific bright square plus noise) in two splits."""

    def __init__(self, *, classes: int = 12, samples: int = 6, seed: int = 0) -> None:
        gen = torch.Generator().manual_seed(seed)
        data = torch.rand(classes, samples, 1, 28, 28, generator=gen) * 0.3
        for c in range(classes):
            row, col = divmod(c, 4)
            data[c, :, :, row * 7:(row + 1) * 7, col * 7:(col + 1) * 7] += 0.7
        self._data = {"train": data[: classes // 2], "test": data[classes // 2:]}

    @property
    def splits(self) -> tuple[str, ...]:
        return ("train", "test")

    def split_images(self, split: str):
        raise NotImplementedError("SyntheticTasks builds its pools directly")

    def whole_tasks(self, meta_split: str | None = None):
        raise NotImplementedError("SyntheticTasks has no whole tasks")

    def pool(self, split: str, *, device="cpu", dtype=torch.float32) -> FewShotPool:
        self.check_split(split)
        data = self._data[split].to(device)
        return FewShotPool(data, split=split, class_names=[str(i) for i in range(len(data))])


@pytest.fixture(name="synthetic_batch")
def synthetic_batch_fixture():
    """The :func:`synthetic_batch` factory."""
    return synthetic_batch


@pytest.fixture(name="synthetic_tasks")
def synthetic_tasks_fixture() -> SyntheticTasks:
    return SyntheticTasks()
