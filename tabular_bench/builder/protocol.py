"""The training protocol of a build: one frozen dataclass, written into every record."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from numbers import Integral
from typing import Any, cast

from tabular_bench.models.ops import cell_space_edges
from tabular_bench.spaces import space_named
from tabular_bench.spaces.cell import CellSearchSpace

DEFAULT_SPACE = "nb201"
"""The cell space of a protocol that names none (every build folder written before
protocols named their space is an NB201 build)."""


@dataclass(frozen=True)
class Protocol:
    """How each (cell, task, seed) unit is trained; defaults are NAS-Bench-201's.

    NB201 trains ``C=16, N=5`` networks for 200 epochs with SGD (Nesterov momentum 0.9,
    learning rate 0.1 decayed by a per-iteration cosine to 0, weight decay 5e-4,
    batch 256) and random crop + flip on CIFAR. Small tasks (an Omniglot alphabet has a
    few hundred images) take smaller ``channels``/``cells_per_stage`` and no crop.
    """

    epochs: int = 200
    """Training epochs; every epoch is a fidelity of the table."""
    batch_size: int = 256
    lr: float = 0.1
    """Initial learning rate of the cosine schedule (decays to 0 at the last step)."""
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    channels: int = 16
    """``C``: width of the first stage."""
    cells_per_stage: int = 5
    """``N``: cells per stage."""
    augment: bool = True
    """Random crop (padding 4) and horizontal flip of training images."""
    valid_fraction: float = 0.5
    """Share of each task's training split held out for validation (NB201's
    ``cifar10-valid`` holds out half)."""
    split_seed: int = 0
    """Seed of the train/validation split, shared by all cells and seeds of a task."""
    train_per_class: int | None = None
    """Keep at most this many training images per class (seeded); ``None`` keeps all."""
    valid_per_class: int | None = None
    """Keep at most this many validation images per class (seeded); ``None`` keeps all."""
    image_size: int | None = None
    """Resize every image to this side (antialiased bilinear); ``None`` keeps the size. A
    multiple of 4: the network's two reduction blocks halve it twice."""
    seeds: tuple[int, ...] = field(default=(777,))
    """Training seeds (NB201 uses 777, 888, 999); one int means one seed."""
    space: str = DEFAULT_SPACE
    """Registered name (:func:`~tabular_bench.spaces.space_named`) of the cell space whose
    cells are trained; unit keys and the merged table are in this space."""

    def __post_init__(self) -> None:
        seeds = (self.seeds,) if isinstance(self.seeds, Integral) else self.seeds
        if not isinstance(seeds, list | tuple) or not all(
            isinstance(s, Integral) and not isinstance(s, bool) for s in seeds
        ):
            raise ValueError(f"seeds must be an int or a list of ints, got {self.seeds!r}")
        object.__setattr__(self, "seeds", tuple(int(s) for s in seeds))
        space_of_record({"space": self.space})  # refuse a space no network is built from
        checks = {
            "epochs": self.epochs >= 1,
            "batch_size": self.batch_size >= 1,
            "lr": self.lr > 0,
            "channels": self.channels >= 1,
            "cells_per_stage": self.cells_per_stage >= 1,
            "valid_fraction": 0 < self.valid_fraction < 1,
            "seeds": len(self.seeds) >= 1 and len(set(self.seeds)) == len(self.seeds),
            "train_per_class": self.train_per_class is None or self.train_per_class >= 1,
            "valid_per_class": self.valid_per_class is None or self.valid_per_class >= 1,
            "image_size": self.image_size is None or (
                self.image_size >= 8 and self.image_size % 4 == 0),
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"invalid protocol settings {bad}: {self}")

    @functools.cached_property
    def cell_space(self) -> CellSearchSpace:
        """The space of :attr:`space` (validated at construction; looked up once, as every
        unit of a build asks for it)."""
        return space_of_record({"space": self.space})

    def to_dict(self) -> dict:
        """Plain dict (JSON-able) for records and provenance.

        The default space is left out, so an NB201 build records the same ``protocol.json``
        as before protocols named their space and older build folders still resume.
        """
        out = asdict(self)
        out["seeds"] = list(self.seeds)
        if self.space == DEFAULT_SPACE:
            del out["space"]
        return out


def space_of_record(record: Mapping[str, Any]) -> CellSearchSpace:
    """The cell space a recorded protocol (``protocol.json``, :meth:`Protocol.to_dict`)
    trains: its ``space``, NB201 when absent; ``ValueError`` for an unknown space or one
    without a cell DAG (e.g. ``transnas_macro``), naming the fix."""
    name = record.get("space", DEFAULT_SPACE)
    try:
        space = space_named(name)
    except KeyError as err:
        raise ValueError(f"protocol.space: {err.args[0]}") from None
    try:
        cell_space_edges(space)
    except ValueError as err:
        raise ValueError(
            f"protocol.space={name!r} cannot be built by the table builder: {err}"
        ) from None
    return cast(CellSearchSpace, space)  # cell_space_edges accepted it
