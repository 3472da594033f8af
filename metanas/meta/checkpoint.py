"""Checkpoints written atomically (a kill leaves the old file or the new one) and read safely."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from common_io.atomic_io import atomic_write


def save_atomic(state: dict[str, Any], path: Path) -> None:
    """``torch.save`` ``state`` to ``path`` through :func:`common_io.atomic_io.atomic_write`.

    ``state`` must hold only what :func:`load` accepts: tensors, numbers, strings, and
    lists, tuples and dicts of them.
    """
    atomic_write(path, lambda tmp: torch.save(state, tmp))


def load(path: Path) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_atomic` onto the CPU (no pickled code runs)."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # a truncated or foreign file: say which and what to do
        raise RuntimeError(
            f"cannot read checkpoint {path} ({err}); delete it to start the run afresh"
        ) from err
