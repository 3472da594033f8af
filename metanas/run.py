"""Hydra entry point: ``python -m metanas.run experiment=<name> [overrides]``.

Contract for jobs. An experiment config (``experiments/experiment/<name>.yaml``, with
``# @package _global_``) defines ``job``, a node whose ``_target_`` is a class taking its
settings as keyword arguments and exposing ``run(out_dir: pathlib.Path) -> None``. This
module composes the config, instantiates ``job`` (which validates its input and raises
before any work starts) and calls ``job.run(out_dir)``; it knows no job by name. A new kind
of job (meta-training, table building, ...) is one class plus one experiment yaml.

``out_dir`` is Hydra's output folder: ``runs/<experiment>`` for a single run (override
with ``out_dir=...``), ``runs/multirun/<experiment>/<overrides>`` for each multirun job.
It is deterministic, so the same command again resumes; jobs must make that safe. Hydra
stores the resolved config in ``<out_dir>/.hydra/``.

Examples::

    python -m metanas.run experiment=nb201_paper
    python -m metanas.run experiment=nb201_tiny runs=20 n_jobs=2
    python -m metanas.run -m experiment=nb201_tiny strategies=[rs],[rea] hydra/launcher=joblib
    python -m metanas.run -m experiment=nb201_paper hydra/launcher=submitit_slurm \\
        first_run=0,250 runs=250
"""

from __future__ import annotations

from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf


@hydra.main(config_path="../experiments", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    """Instantiate ``cfg.job`` and run it in Hydra's output folder."""
    if "job" not in cfg:
        raise ValueError(
            "the selected experiment defines no `job` node (a `_target_` class with "
            "run(out_dir)); see metanas/run.py"
        )
    OmegaConf.resolve(cfg)
    job = instantiate(cfg.job)
    job.run(Path(HydraConfig.get().runtime.output_dir))


if __name__ == "__main__":
    main()
