"""A run folder's bookkeeping: one command at a time, a record of accepted commands.

Two commands in one ``out_dir`` would race on its shards and temporaries, so a command
holds an exclusive lock on the folder while it runs; a second one is refused with the
holder's pid, host and start time. The lock is an OS file lock (``filelock``), which the
kernel releases when its process dies, so a killed run never leaves a stale lock; the
holder file it leaves behind only describes the last holder and is overwritten by the next.

The resolved command (config and overrides) is written to ``.hydra/`` only once the job
has accepted the folder, so a refused rerun leaves the record of the accepted runs as it
was; each accepted command is also kept under ``.hydra/history/NNN/``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import filelock

from tabular_bench.atomic_io import atomic_write_text

LOCK_FILE = ".lock"
HOLDER_FILE = ".lock-holder.json"
RECORD_DIR = ".hydra"
HISTORY_DIR = "history"
LOG_FILE = "run.log"
BOOKKEEPING = frozenset({LOCK_FILE, HOLDER_FILE, LOG_FILE})
"""Files a command may leave in a folder before doing any work."""


class FolderInUseError(RuntimeError):
    """Another command holds the run folder."""


def ensure_writable(folder: Path) -> None:
    """Raise a ``PermissionError`` naming the fix if files cannot be created in ``folder``."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise PermissionError(
            f"out_dir {folder} is not writable ({err.strerror or err}); pick a writable "
            "folder with out_dir=..."
        ) from None


@contextmanager
def folder_lock(folder: Path, command: Sequence[str] = ()) -> Iterator[None]:
    """Hold the exclusive lock of ``folder`` for the duration of the block.

    :param command: shown to a second command that finds the folder locked.
    :raises FolderInUseError: if another process holds it (never waits).
    """
    lock = filelock.FileLock(folder / LOCK_FILE, timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise FolderInUseError(
            f"{folder} is in use by another run ({_describe_holder(folder)}); wait for it "
            "to finish, or pick another out_dir="
        ) from None
    holder = folder / HOLDER_FILE
    try:
        holder.write_text(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "started": datetime.now(UTC).isoformat(timespec="seconds"),
                    "command": list(command),
                }
            )
        )
        yield
    finally:
        holder.unlink(missing_ok=True)
        lock.release()


def _describe_holder(folder: Path) -> str:
    try:
        info = json.loads((folder / HOLDER_FILE).read_text())
    except (OSError, ValueError):
        return "holder unknown: it is starting or left no holder file"
    command = " ".join(info.get("command", []))
    return f"pid {info['pid']} on {info['host']}, started {info['started']}: {command}"


def record_command(folder: Path, config_yaml: str, hydra_yaml: str, overrides_yaml: str) -> Path:
    """Write the accepted command to ``.hydra/`` and keep a copy in ``.hydra/history/NNN``."""
    record = folder / RECORD_DIR
    history = record / HISTORY_DIR
    history.mkdir(parents=True, exist_ok=True)
    taken = [int(p.name) for p in history.iterdir() if p.name.isdigit()]
    entry = history / f"{max(taken, default=0) + 1:03d}"
    entry.mkdir()
    files = {"config.yaml": config_yaml, "hydra.yaml": hydra_yaml, "overrides.yaml": overrides_yaml}
    for name, text in files.items():
        (entry / name).write_text(text)
        atomic_write_text(record / name, text)
    return entry


def remove_if_untouched(folder: Path) -> bool:
    """Delete ``folder`` if it holds only bookkeeping files (a command that did no work).

    :return: True if it was removed.
    """
    if not folder.is_dir() or any(p.name not in BOOKKEEPING for p in folder.iterdir()):
        return False
    shutil.rmtree(folder)
    return True
