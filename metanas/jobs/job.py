"""What ``python -m metanas.run`` expects of a job (see :mod:`metanas.run`)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable


@runtime_checkable
class Job(Protocol):
    """A unit of work configured by an experiment yaml's ``job`` node.

    The constructor only validates its arguments (cheap, raises before any work), so a bad
    command fails at once; loading data, setting torch's threads and training happen in
    :meth:`run`. Running the same job again on the same folder resumes it, and a finished
    job returns at once. A job with a true ``report`` attribute gets ``metanas.run`` to
    build its folder's report (``metanas.report``) after :meth:`run`.
    """

    def run(self, out_dir: Path) -> None:
        """Do the work in ``out_dir`` (created by the caller), resuming what is there."""


@runtime_checkable
class PreparedJob(Job, Protocol):
    """A job that checks its folder before the command is recorded in ``.hydra/``."""

    def prepare(self, out_dir: Path) -> None:
        """Refuse ``out_dir`` (raise) if it holds results of another configuration."""
