"""Decoded datasets cached once as ``.npz`` so later loads take milliseconds.

The cache lives under ``$METANAS_CACHE`` (default ``~/.cache/metanas``). An entry is keyed
by the source's fingerprint (size and modification time of every source file) plus the
decoding settings, so an edited or replaced dataset is decoded again instead of served
stale.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

ENV_VAR = "METANAS_CACHE"


def cache_root() -> Path:
    """Return the cache directory (``$METANAS_CACHE`` or ``~/.cache/metanas``)."""
    return Path(os.environ.get(ENV_VAR, "~/.cache/metanas")).expanduser()


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


def cached_arrays(
    name: str, key: str, build: Callable[[], dict[str, np.ndarray]]
) -> dict[str, np.ndarray]:
    """Load ``<cache>/<name>-<key>.npz``, or ``build()`` it and store it atomically.

    :param name: human-readable prefix of the cache file, e.g. ``"omniglot-background"``.
    :param key: fingerprint of the source and settings (see :func:`fingerprint`).
    :param build: decodes the source; called only on a cache miss.
    """
    path = cache_root() / f"{name}-{key}.npz"
    if path.exists():
        with np.load(path, allow_pickle=False) as stored:
            return {k: stored[k] for k in stored.files}
    arrays = build()
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npz.tmp", delete=False) as tmp:
        np.savez(tmp, **arrays)
    os.chmod(tmp.name, 0o644)
    os.replace(tmp.name, path)
    return arrays
