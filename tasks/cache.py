"""Decoded datasets cached once as ``.npz`` so later loads take milliseconds.

The cache lives under :func:`common_io.data_dir.cache_root` (``$METANAS_CACHE``,
default ``~/.cache/metanas``). An entry is keyed by the source's fingerprint (size and
modification time of every source file) plus the decoding settings, so an edited or
replaced dataset is decoded again instead of served stale. A damaged entry is rebuilt.
"""

from __future__ import annotations

import hashlib
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from common_io.atomic_io import atomic_write
from common_io.data_dir import cache_root

# What np.load raises on a truncated or garbled .npz: not a zip at all (it then tries
# to unpickle, refused with ValueError), a torn zip, or a member that fails its CRC.
_LOAD_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error)


def fingerprint(paths: Iterable[Path], *settings: object) -> str:
    """Hash the size and mtime of ``paths`` (files, or every file below a folder) and settings."""
    digest = hashlib.sha256()
    for path in paths:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            stat = file.stat()
            digest.update(f"{file}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    digest.update(repr(settings).encode())
    return digest.hexdigest()[:20]


def _load(path: Path) -> dict[str, np.ndarray] | None:
    """The arrays in ``path``, or ``None`` (with a warning naming it) if it is damaged."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            return {k: stored[k] for k in stored.files}
    except _LOAD_ERRORS as exc:
        warnings.warn(
            f"cache entry {path} is damaged ({type(exc).__name__}: {exc}); decoding the "
            "source again and rewriting it",
            RuntimeWarning,
            stacklevel=3,
        )
        return None


def _save(path: Path, arrays: dict[str, np.ndarray]) -> None:
    def write(tmp: Path) -> None:
        with tmp.open("wb") as handle:  # a handle: np.savez would append ".npz" to a name
            np.savez(handle, **arrays)

    atomic_write(path, write)


def cached_arrays(
    name: str, key: str, build: Callable[[], dict[str, np.ndarray]]
) -> dict[str, np.ndarray]:
    """Load ``<cache>/<name>-<key>.npz``, or ``build()`` it and store it atomically.

    :param name: human-readable prefix of the cache file, e.g. ``"omniglot-background"``.
    :param key: fingerprint of the source and settings (see :func:`fingerprint`).
    :param build: decodes the source; called on a cache miss or a damaged entry.
    """
    path = cache_root() / f"{name}-{key}.npz"
    if path.exists() and (arrays := _load(path)) is not None:
        return arrays
    arrays = build()
    _save(path, arrays)
    return arrays
