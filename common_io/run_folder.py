"""A job's output folder: one command at a time, one settings record, atomic files.

* **Lock.** Two commands in one folder would race on its files, so a command holds an
  exclusive OS file lock (``filelock``) while it runs; a second one is refused naming the
  holder's pid, host, start time and command. The kernel releases the lock when its process
  dies, so a killed run never leaves a stale lock; the holder file only describes the last
  holder and is overwritten by the next.
* **Settings.** The first run records its settings (:func:`~common_io.fingerprint.
  fingerprint`); a later run with any other value is refused before work starts, naming
  each differing setting (:func:`check_settings`).
* **Finished marker.** The last file a job writes, atomically; a run that finds it returns
  at once, so repeating a finished command is a no-op.
* **Record.** The resolved command (config and overrides) is written to ``.hydra/`` only
  once the job has accepted the folder, so a refused rerun leaves the record of the
  accepted runs as it was; each accepted command is also kept under
  ``.hydra/history/NNN/``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import filelock

from common_io.atomic_io import atomic_write_text
from common_io.fingerprint import differences, fingerprint

LOCK_FILE = ".lock"
HOLDER_FILE = ".lock-holder.json"
RECORD_DIR = ".hydra"
HISTORY_DIR = "history"
LOG_FILE = "run.log"
SETTINGS_FILE = "job_settings.json"
FINISHED_FILE = ".finished"
BOOKKEEPING = frozenset({LOCK_FILE, HOLDER_FILE, LOG_FILE})
"""Files a command may leave in a folder before doing any work."""
FIX = "use another out_dir=, or delete that folder to start over"


class FolderInUseError(RuntimeError):
    """Another command holds the run folder."""


def check_settings(
    path: Path, settings: Mapping[str, Any], *, outputs: Sequence[Path] = ()
) -> None:
    """Record ``settings`` at ``path`` (JSON), or raise if it records other ones.

    The one resume check of every job: the run folder's ``job_settings.json`` and the
    search shards' per-folder ``spec.json`` alike.

    :param outputs: result files; one that exists without a settings record (an older
        version wrote it) is refused too, since nothing says which configuration made it.
    :raises ValueError: naming every differing setting (dotted key, old and new value).
    """
    path = Path(path)
    current = fingerprint(settings)
    if path.exists():
        try:
            recorded = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise ValueError(f"{path} is not valid JSON ({err}); {FIX}") from err
        changes = differences(recorded, current)
        if changes:
            described = "; ".join(
                f"{key}: {_short(a)} before, {_short(b)} now" for key, a, b in changes[:8]
            ) + (f"; and {len(changes) - 8} more" if len(changes) > 8 else "")
            raise ValueError(
                f"{path.parent} holds results of a different configuration (differing: "
                f"{described}; recorded in {path}); {FIX}"
            )
        return
    found = [str(p) for p in outputs if Path(p).exists()]
    if found:
        raise ValueError(
            f"{', '.join(found)} exist but no {path.name} to check them against; {FIX}"
        )
    atomic_write_text(path, json.dumps(current, indent=1, sort_keys=True) + "\n")


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class RunFolder:
    """The output folder of one job: settings record, finished marker, atomic writes.

    :param path: the folder (created by :meth:`open`).
    :param finished: name of the job's finished marker; a job whose last output is written
        atomically may name that file (e.g. ``summary.csv``).
    """

    def __init__(self, path: Path, *, finished: str = FINISHED_FILE) -> None:
        self.path = Path(path)
        self.finished_file = finished

    def open(self, settings: Mapping[str, Any], *, outputs: Sequence[str] = ()) -> bool:
        """Create the folder and check or record ``settings`` (:func:`check_settings`).

        :param outputs: names of result files that must not exist without a record.
        :return: True when the run already finished, so the job returns at once.
        """
        self.path.mkdir(parents=True, exist_ok=True)
        check_settings(
            self.path / SETTINGS_FILE, settings, outputs=[self.path / n for n in outputs]
        )
        return self.finished

    @property
    def finished(self) -> bool:
        return (self.path / self.finished_file).exists()

    def write_text(self, name: str, text: str) -> Path:
        """Write ``name`` in the folder atomically (readers never see a torn file)."""
        return atomic_write_text(self.path / name, text)

    def mark_finished(self, text: str = "") -> Path:
        """Write the finished marker (last, atomically)."""
        return self.write_text(self.finished_file, text)

    @contextmanager
    def lock(self, command: Sequence[str] = ()) -> Iterator[None]:
        """Hold the folder's exclusive lock (:func:`folder_lock`)."""
        with folder_lock(self.path, command):
            yield


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
