"""The run folder's lock: a second command is refused naming the holder; a killed holder
leaves no stale lock; an untouched new folder is removed after a failure."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from common_io.run_folder import (
    HOLDER_FILE,
    FolderInUseError,
    folder_lock,
    remove_if_untouched,
)

HOLD = """
import sys, time
from pathlib import Path
from common_io.run_folder import folder_lock
with folder_lock(Path(sys.argv[1]), command=["holder-command"]):
    print("locked", flush=True)
    time.sleep(60)
"""


def test_second_command_is_refused_naming_the_holder_and_dead_holder_frees_it(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "locked"
        with (
            pytest.raises(FolderInUseError, match=rf"pid {proc.pid} on .* holder-command"),
            folder_lock(tmp_path),
        ):
            pass
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert (tmp_path / HOLDER_FILE).exists()  # left by the killed holder: not a lock
    deadline = time.monotonic() + 5
    while True:
        try:
            with folder_lock(tmp_path):
                break
        except FolderInUseError:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    assert not (tmp_path / HOLDER_FILE).exists()


def test_only_an_untouched_folder_is_removed(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "run.log").write_text("")
    assert remove_if_untouched(tmp_path / "a") and not (tmp_path / "a").exists()
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "settings.json").write_text("[]")
    assert not remove_if_untouched(tmp_path / "b") and (tmp_path / "b").exists()
