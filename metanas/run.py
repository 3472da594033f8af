"""Hydra entry point: ``python -m metanas.run experiment=<name> [overrides]``.

Contract for jobs. An experiment config (``experiments/experiment/<name>.yaml``, with
``# @package _global_``) defines ``job``, a node whose ``_target_`` is a class taking its
settings as keyword arguments and exposing ``run(out_dir: pathlib.Path) -> None``. This
module composes the config, instantiates ``job`` (which validates its input and raises
before any work starts) and calls ``job.run(out_dir)``; it knows no job by name. A new kind
of job (meta-training, table building, ...) is one class plus one experiment yaml
(:class:`metanas.jobs.job.Job`). A job whose ``report`` attribute is true gets its folder's
report (:func:`metanas.report.build_report`) built after ``run``: the report layer reads
every package, so jobs do not import it.

``out_dir`` is Hydra's output folder: ``runs/<experiment>`` for a single run (override
with ``out_dir=...``), ``runs/multirun/<experiment>/<overrides>`` for each multirun job.
It is deterministic, so the same command again resumes; jobs must make that safe. A
command holds the folder's lock while it runs (a second one is refused, naming the
holder). A job may define ``prepare(out_dir)``, which refuses a folder holding results of
another configuration; only then is the command recorded in ``<out_dir>/.hydra/`` (and
``.hydra/history/``). A command that fails before doing any work in a new folder removes
it again.

Examples::

    python -m metanas.run experiment=nb201_paper
    python -m metanas.run experiment=nb201_tiny runs=20 n_jobs=2
    python -m metanas.run -m experiment=nb201_tiny strategies=[rs],[rea] hydra/launcher=joblib
    python -m metanas.run -m experiment=nb201_paper hydra/launcher=submitit_slurm \\
        first_run=0,250 runs=250
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from common_io.run_folder import (
    ensure_writable,
    folder_lock,
    record_command,
    remove_if_untouched,
)
from metanas.jobs.job import Job, PreparedJob
from metanas.report import build_report


@hydra.main(config_path="../experiments", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    """Instantiate ``cfg.job`` and run it in Hydra's output folder, holding its lock."""
    if "job" not in cfg:
        raise ValueError(
            "the selected experiment defines no `job` node (a `_target_` class with "
            "run(out_dir)); see metanas/run.py"
        )
    hydra_cfg = HydraConfig.get()
    out_dir = Path(hydra_cfg.runtime.output_dir)
    was_empty = not any(out_dir.iterdir())
    ensure_writable(out_dir)
    record = (
        OmegaConf.to_yaml(cfg),
        OmegaConf.to_yaml({"hydra": hydra_cfg}),
        OmegaConf.to_yaml(list(hydra_cfg.overrides.task)),
    )
    with folder_lock(out_dir, command=[sys.executable, *sys.argv]):
        try:
            OmegaConf.resolve(cfg)
            job = build(cfg.job)
            if not isinstance(job, Job):
                raise TypeError(
                    f"job {cfg.job._target_} has no run(out_dir) method (see metanas/jobs/job.py)"
                )
            if isinstance(job, PreparedJob):
                job.prepare(out_dir)  # refuses a folder of another configuration
            record_command(out_dir, *record)
            job.run(out_dir)
            if getattr(job, "report", False):
                build_report(out_dir)
        except BaseException:
            if was_empty:
                remove_if_untouched(out_dir)
            raise


def build(node: DictConfig) -> Any:
    """``instantiate(node)``, raising the constructor's own error rather than Hydra's repr.

    Hydra wraps a constructor's exception in an ``InstantiationException`` whose message is
    the ``repr`` of the original, which prints a multi-line message with literal ``\\n``.
    """
    try:
        return instantiate(node)
    except InstantiationException as err:
        cause = err.__cause__
        while isinstance(cause, InstantiationException) and cause.__cause__ is not None:
            cause = cause.__cause__
        if cause is None or isinstance(cause, InstantiationException):
            raise
        where = [line for line in str(err).splitlines() if line.startswith("full_key:")]
        cause.add_note(f"(raised while building {where[0] if where else 'the job'})")
        raise cause from None


if __name__ == "__main__":
    main()
