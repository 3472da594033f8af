"""Atomic file writes: readers see the old file or the whole new one, never a torn one.

Tables, build shards, search shards, checkpoints and caches all rely on this so that a
process killed at any moment loses at most the file it was writing. The lowest package
owns it so that ``tasks`` and ``metanas`` share one implementation.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, fsync it, rename it over.

    The temporary file is removed if ``write`` raises; the final file gets the usual
    permissions (``0o666`` less the umask) rather than ``mkstemp``'s private ``0o600``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode())


def remove_stale_temporaries(folder: str | Path) -> None:
    """Delete temporaries that a killed :func:`atomic_write` left directly in ``folder``.

    Not recursive: subfolders may belong to other runs or to the user. Call it for each
    folder a job writes into, while holding that folder's lock (another writer's live
    temporary looks the same).
    """
    folder = Path(folder)
    if folder.is_dir():
        for tmp in folder.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)
