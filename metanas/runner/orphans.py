"""Worker processes stop when the job that started them dies.

A killed job's loky workers are re-parented and would otherwise finish their shard and
write it into a folder that a restarted job may be writing too (its lock died with the
job). A worker records its job's pid (:func:`watching`); the search loop calls
:func:`exit_if_orphaned` before each run and the engine before each write.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

_parent_pid: int | None = None


@contextmanager
def watching(parent_pid: int) -> Iterator[None]:
    """Within the block, :func:`exit_if_orphaned` ends this process if ``parent_pid`` (the
    job) is neither this process nor its parent."""
    global _parent_pid
    previous, _parent_pid = _parent_pid, parent_pid
    try:
        yield
    finally:
        _parent_pid = previous


def exit_if_orphaned() -> None:
    """End this worker process at once if its job died (no-op outside :func:`watching`)."""
    if _parent_pid is None:
        return
    if os.getpid() != _parent_pid and os.getppid() != _parent_pid:
        os._exit(1)
