"""What a build trains: which cells, which tasks, split into (cell, task, seed) units.

Cells of the protocol's space are either every isomorphism-unique cell, a seeded sample
stratified by the number of convolution edges (the count that drives both accuracy and
training cost), or an explicit list of architecture strings. Shards own whole cells, so
every unit of a cell can be fused into one network on the shard that trains it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from tabular_bench.builder.protocol import Protocol
from tabular_bench.builder.train import SplitTask
from tabular_bench.models.ops import cell_space_edges
from tabular_bench.spaces.base import SearchSpace
from tabular_bench.spaces.nb201 import NB201


def conv_ops(space: SearchSpace) -> list[int]:
    """Indices of the convolutions among the space's ops: those whose name contains
    ``conv`` (NB201's and TransNAS-Bench-101's ``nor_conv_1x1``, ``nor_conv_3x3``). A space
    without one puts every cell in one stratum, i.e. samples uniformly."""
    return [i for i, name in enumerate(space.op_names) if "conv" in name]


def select_cells(
    mode: str, *, sample_size: int = 0, seed: int = 0, archs: Sequence[str] = (),
    space: SearchSpace = NB201,
) -> np.ndarray:
    """Keys of ``space``'s cells to train, sorted.

    :param mode: ``"unique"`` (one cell per class of ``space.canonical_keys()``: NB201's
        6,466 isomorphism classes; every cell of a space without such classes),
        ``"sample"`` (``sample_size`` unique cells, seeded, stratified by the number of
        :func:`conv_ops` edges) or ``"list"`` (the official strings ``archs``).
    :param space: a cell space with a DAG; any other is refused (``ValueError``) before
        a cell is chosen, so no build of it starts.
    """
    cell_space_edges(space)
    if mode == "list":
        if not archs:
            raise ValueError(f"cells.mode=list needs cells.archs: official {space.name} "
                             "strings")
        return np.unique(space.keys_from_strings(list(archs)))
    unique = np.unique(space.canonical_keys())
    if mode == "unique":
        return unique
    if mode != "sample":
        raise ValueError(f"unknown cell selection {mode!r}; use unique, sample or list")
    if not 0 < sample_size <= unique.size:
        raise ValueError(f"cells.sample_size must be in 1..{unique.size}, got {sample_size}")
    rng = np.random.default_rng(seed)
    strata = np.isin(space.codes(unique), conv_ops(space)).sum(axis=1)
    labels, counts = np.unique(strata, return_counts=True)
    # one cell per stratum while the sample allows, the rest proportionally to stratum size
    # (largest remainders get the leftovers)
    quota = (np.arange(labels.size) < sample_size).astype(int)
    share = (counts - quota) / (counts - quota).sum() * (sample_size - quota.sum())
    quota += np.floor(share).astype(int)
    short = sample_size - quota.sum()
    quota[np.argsort(-(share - np.floor(share)), kind="stable")[:short]] += 1
    chosen = [
        rng.choice(unique[strata == label], size=q, replace=False)
        for label, q in zip(labels, quota)
        if q
    ]
    return np.sort(np.concatenate(chosen))


def repeat_subset(keys: np.ndarray, count: int, seed: int) -> np.ndarray:
    """A seeded subset of ``count`` of ``keys`` (sorted): the cells trained with every seed."""
    if count > len(keys):
        raise ValueError(f"all_seeds_cells={count} exceeds the {len(keys)} chosen cells")
    return np.sort(np.random.default_rng(seed).choice(keys, size=count, replace=False))


def unit_seeds(key: int, seeds: Sequence[int], repeat_keys: np.ndarray | None) -> Sequence[int]:
    """The seeds cell ``key`` is trained with: all, or only the first unless repeated."""
    if repeat_keys is None or key in repeat_keys:
        return seeds
    return seeds[:1]


@dataclass(frozen=True)
class Unit:
    """One network to train: a cell on a task with a seed."""

    key: int
    task: str
    seed: int

    @property
    def file_name(self) -> str:
        return f"{self.task}/cell{self.key:05d}-seed{self.seed}.json"


def shard_cells(keys: np.ndarray, shard: int, num_shards: int) -> np.ndarray:
    """The cells shard ``shard`` of ``num_shards`` trains (round robin over sorted keys)."""
    if not 0 <= shard < num_shards:
        raise ValueError(f"shard must lie in [0, {num_shards}), got {shard}")
    return np.sort(keys)[shard::num_shards]


def load_tasks(
    distribution: str,
    protocol: Protocol,
    *,
    names: Sequence[str] | None = None,
    limit: int | None = None,
    meta_split: str | None = None,
    overrides: dict[str, Any] | None = None,
    prefix: str | None = None,
) -> list[SplitTask]:
    """Whole tasks of ``tasks.make(distribution)`` split for training by ``protocol``: a
    seeded, per-class train/validation split (:func:`stratified_split`), capped per class
    and resized as the protocol says.

    :param names: keep only these tasks (error naming the available ones otherwise).
    :param limit: keep the first ``limit`` tasks after ``names``.
    :param prefix: name the tasks ``<prefix>.<task>`` (tells distributions apart in a table).
    """
    from tasks import make

    whole = make(distribution, **(overrides or {})).whole_tasks(meta_split)
    if names:
        known = {t.name: t for t in whole}
        missing = [n for n in names if n not in known]
        if missing:
            raise KeyError(f"unknown tasks {missing} in {distribution!r}; it has {list(known)}")
        whole = [known[n] for n in names]
    whole = whole[:limit] if limit else whole
    split = []
    for task in whole:
        x_train, y_train, x_test, y_test = task.float_tensors()
        train, valid = stratified_split(
            y_train, protocol.valid_fraction, protocol.split_seed,
            max_train=protocol.train_per_class, max_valid=protocol.valid_per_class,
        )
        split.append(
            SplitTask(
                f"{prefix}.{task.name}" if prefix else task.name, task.num_classes,
                resize(x_train[train], protocol.image_size), y_train[train],
                resize(x_train[valid], protocol.image_size), y_train[valid],
                resize(x_test, protocol.image_size), y_test,
            )
        )
    return split


def resize(images: torch.Tensor, side: int | None) -> torch.Tensor:
    """``images`` at ``side`` x ``side`` (antialiased bilinear), or as they are."""
    if side is None or images.shape[-2:] == (side, side):
        return images
    return torch.nn.functional.interpolate(
        images, size=(side, side), mode="bilinear", antialias=True, align_corners=False
    )


def stratified_split(
    labels: torch.Tensor, valid_fraction: float, seed: int, *,
    max_train: int | None = None, max_valid: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sorted (train, validation) positions: ``valid_fraction`` of every class validates.

    Per class, ``round(valid_fraction * n)`` images chosen at random (seeded) validate,
    but at least one and never all, so a class of two or more images appears in both
    parts (a class of one image trains). A split over all images at once could leave a
    small class without training images. ``max_train``/``max_valid`` then keep at most
    that many of each class's (randomly ordered) training/validation images.
    """
    if not 0 < valid_fraction < 1:
        raise ValueError(f"valid_fraction must lie in (0, 1), got {valid_fraction}")
    gen = torch.Generator().manual_seed(seed)
    train, valid = [], []
    for label in torch.unique(labels).tolist():
        members = torch.nonzero(labels == label).flatten()
        members = members[torch.randperm(members.numel(), generator=gen)]
        n_valid = min(max(1, math.floor(valid_fraction * members.numel() + 0.5)),
                      members.numel() - 1)
        valid.append(members[:n_valid][:max_valid])
        train.append(members[n_valid:][:max_train])
    if not sum(part.numel() for part in valid):
        raise ValueError("no class has two images, so none can give one to validation")
    return torch.sort(torch.cat(train)).values, torch.sort(torch.cat(valid)).values
