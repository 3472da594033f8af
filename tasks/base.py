"""The task-distribution interface: few-shot pools per meta-split and whole tasks.

Two uses share one object. Meta-learners draw episodes from :meth:`TaskDistribution.pool`
(one :class:`~tasks.episodes.FewShotPool` per meta-split: ``train``, ``val``, ``test``).
Benchmark tables train ordinary networks on :meth:`TaskDistribution.whole_tasks`: each a
labelled train/test split of a few classes (an Omniglot alphabet, a CIFAR class group).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from tasks.episodes import FewShotPool


@dataclass(frozen=True)
class LabelledImages:
    """uint8 images ``(N, C, H, W)`` with labels ``0..len(class_names)-1``."""

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.images.ndim != 4 or len(self.images) != len(self.labels):
            raise ValueError(
                f"images must be (N, C, H, W) with one label each, got {self.images.shape} "
                f"and {self.labels.shape}"
            )

    def subset(self, keep: np.ndarray) -> LabelledImages:
        """The images where boolean mask ``keep`` is true, same classes."""
        return LabelledImages(self.images[keep], self.labels[keep], self.class_names)

    def select(self, names: Sequence[str]) -> LabelledImages:
        """The images of classes ``names``, relabelled ``0..len(names)-1`` in that order."""
        index = {name: i for i, name in enumerate(self.class_names)}
        missing = [n for n in names if n not in index]
        if missing:
            raise KeyError(
                f"unknown classes {missing[:5]}{'...' if len(missing) > 5 else ''}; "
                f"known: {list(self.class_names[:10])}..."
            )
        old = np.array([index[n] for n in names], dtype=np.int64)
        relabel = np.full(len(self.class_names), -1, dtype=np.int64)
        relabel[old] = np.arange(len(old))
        keep = np.isin(self.labels, old)
        return LabelledImages(
            self.images[keep], relabel[self.labels[keep]], tuple(names)
        )

    def concat(self, other: LabelledImages) -> LabelledImages:
        """Both image sets under this object's class order (``other`` must share the names)."""
        if set(other.class_names) != set(self.class_names):
            raise ValueError("concat needs the same classes on both sides")
        other = other.select(self.class_names)
        return LabelledImages(
            np.concatenate([self.images, other.images]),
            np.concatenate([self.labels, other.labels]),
            self.class_names,
        )

    def to_pool(
        self, split: str, *, device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
    ) -> FewShotPool:
        """Pack class-major (padding ragged classes) into a pool on ``device``.

        ``dtype=torch.float32`` stores pixels scaled to [0, 1] once, so sampling is a pure
        gather; ``torch.uint8`` stores a quarter of the memory and converts per episode.
        """
        counts = np.bincount(self.labels, minlength=len(self.class_names))
        if (counts == 0).any():
            empty = [self.class_names[i] for i in np.flatnonzero(counts == 0)]
            raise ValueError(f"split {split!r}: classes without images: {empty[:5]}")
        width = int(counts.max())
        if (counts == width).all() and (np.diff(self.labels) >= 0).all():
            packed = self.images.reshape(len(counts), width, *self.images.shape[1:])
        else:
            order = np.argsort(self.labels, kind="stable")
            packed = np.zeros((len(counts), width, *self.images.shape[1:]), dtype=np.uint8)
            starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
            slot = np.arange(len(order)) - np.repeat(starts, counts)
            packed[self.labels[order], slot] = self.images[order]
        return FewShotPool(
            _to_tensor(packed, device, dtype),
            split=split,
            class_names=self.class_names,
            counts=torch.from_numpy(counts),
        )


def _to_tensor(images: np.ndarray, device: torch.device | str, dtype: torch.dtype) -> torch.Tensor:
    tensor = torch.from_numpy(images).to(device)
    if dtype == torch.uint8:
        return tensor
    return tensor.to(dtype).mul_(1.0 / 255.0)


@dataclass(frozen=True)
class WholeTask:
    """One ordinary classification task: uint8 images, labels ``0..len(class_names)-1``.

    ``meta_split`` says which meta-split all its classes belong to (``None`` if they
    straddle), so a meta-learner can be fitted on ``train`` tasks and judged on ``test``.
    """

    name: str
    class_names: tuple[str, ...]
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    meta_split: str | None

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def float_tensors(
        self, device: torch.device | str = "cpu"
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(x_train, y_train, x_test, y_test)`` on ``device`` with pixels in [0, 1]."""
        return (
            _to_tensor(self.x_train.numpy(), device, torch.float32),
            self.y_train.to(device),
            _to_tensor(self.x_test.numpy(), device, torch.float32),
            self.y_test.to(device),
        )

    @classmethod
    def from_images(
        cls, name: str, train: LabelledImages, test: LabelledImages, meta_split: str | None
    ) -> WholeTask:
        return cls(
            name=name,
            class_names=train.class_names,
            x_train=torch.from_numpy(np.ascontiguousarray(train.images)),
            y_train=torch.from_numpy(train.labels.astype(np.int64)),
            x_test=torch.from_numpy(np.ascontiguousarray(test.images)),
            y_test=torch.from_numpy(test.labels.astype(np.int64)),
            meta_split=meta_split,
        )


class TaskDistribution(ABC):
    """A distribution over classification tasks with meta-train/val/test class splits.

    Subclasses implement :meth:`split_images` (the images of one meta-split's classes) and
    :meth:`whole_tasks`; :meth:`pool` and :meth:`pools` come for free.
    """

    @property
    @abstractmethod
    def splits(self) -> tuple[str, ...]:
        """The meta-splits this distribution defines, e.g. ``("train", "test")``."""

    @abstractmethod
    def split_images(self, split: str) -> LabelledImages:
        """All images of the classes of meta-split ``split``."""

    @abstractmethod
    def whole_tasks(self, meta_split: str | None = None) -> list[WholeTask]:
        """Whole tasks, optionally only those whose classes all lie in ``meta_split``.

        Implementations raise ``KeyError`` for an unknown ``meta_split`` and return through
        :meth:`require_tasks`, so a typo or an empty selection is an error, not ``[]``.
        """

    def check_split(self, split: str) -> None:
        if split not in self.splits:
            raise KeyError(
                f"{type(self).__name__} has no meta-split {split!r}; it has {self.splits}"
                + (" (configure a validation split, e.g. num_val=100 for Omniglot)"
                   if split == "val" else "")
            )

    def require_tasks(self, tasks: list[WholeTask], meta_split: str | None) -> list[WholeTask]:
        """``tasks``, or an error when none is left: an empty list would let a run
        silently do nothing."""
        if tasks:
            return tasks
        where = "in total" if meta_split is None else f"in meta-split {meta_split!r}"
        raise ValueError(
            f"{type(self).__name__} has no whole task {where}; a whole task counts for a "
            f"meta-split only if all its classes lie in it. Meta-splits: {self.splits}; "
            "check meta_split, or the split and task settings (e.g. classes_per_task)"
        )

    def pool(
        self, split: str, *, device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
    ) -> FewShotPool:
        """The :class:`FewShotPool` of meta-split ``split`` on ``device``."""
        self.check_split(split)
        return self.split_images(split).to_pool(split, device=device, dtype=dtype)

    def pools(
        self, *, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32
    ) -> dict[str, FewShotPool]:
        """One pool per meta-split, e.g. ``{"train": ..., "test": ...}``."""
        return {s: self.pool(s, device=device, dtype=dtype) for s in self.splits}


class ClassSplitTasks(TaskDistribution):
    """Tasks defined by lists of class names over a dataset's official train/test images.

    Episodes of meta-split ``s`` draw from the classes ``meta_splits[s]`` using all of their
    images (train and test sets together, as CIFAR-FS and FC100 do). Whole task ``g`` is the
    classes ``task_groups[g]``, trained on the official train images, tested on the test ones.

    :param train: the dataset's train images (all classes).
    :param test: the dataset's test images (the same classes).
    :param meta_splits: meta-split name -> class names (disjoint).
    :param task_groups: whole-task name -> class names.
    """

    def __init__(
        self,
        train: LabelledImages,
        test: LabelledImages,
        *,
        meta_splits: Mapping[str, Sequence[str]],
        task_groups: Mapping[str, Sequence[str]],
    ) -> None:
        seen: dict[str, str] = {}
        for split, names in meta_splits.items():
            for name in names:
                if name in seen:
                    raise ValueError(
                        f"class {name!r} is in meta-splits {seen[name]!r} and {split!r}: "
                        "meta-splits must be disjoint"
                    )
                seen[name] = split
        self.train, self.test = train, test
        self.meta_splits = {s: tuple(n) for s, n in meta_splits.items()}
        self.task_groups = {g: tuple(n) for g, n in task_groups.items()}
        self._class_split = seen

    @property
    def splits(self) -> tuple[str, ...]:
        return tuple(self.meta_splits)

    def split_images(self, split: str) -> LabelledImages:
        self.check_split(split)
        names = self.meta_splits[split]
        return self.train.select(names).concat(self.test.select(names))

    def whole_tasks(self, meta_split: str | None = None) -> list[WholeTask]:
        if meta_split is not None:
            self.check_split(meta_split)
        tasks = []
        for group, names in self.task_groups.items():
            owners = {self._class_split.get(n) for n in names}
            owner = owners.pop() if len(owners) == 1 else None
            if meta_split is not None and owner != meta_split:
                continue
            tasks.append(WholeTask.from_images(
                group, self.train.select(names), self.test.select(names), owner
            ))
        return self.require_tasks(tasks, meta_split)
