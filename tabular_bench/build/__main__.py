"""Command line of the builder.

``python -m tabular_bench.build train [hydra overrides]`` trains one shard (Hydra config
``experiments/build/build.yaml``; ``-m shard=0,1 num_shards=2 hydra/launcher=...`` spreads
shards over processes or a SLURM cluster). ``python -m tabular_bench.build merge OUT_DIR
TABLE.h5`` merges the finished units into one table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parents[2] / "experiments" / "build"
USAGE = (
    "usage: python -m tabular_bench.build train [hydra overrides]\n"
    "       python -m tabular_bench.build merge OUT_DIR TABLE.h5"
)


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in ("train", "merge"):
        sys.exit(USAGE)
    if argv[0] == "merge":
        from tabular_bench.build.merge import merge_to_file

        parser = argparse.ArgumentParser(prog="python -m tabular_bench.build merge")
        parser.add_argument("out_dir", type=Path, help="the build's out_dir")
        parser.add_argument("table", type=Path, help="HDF5 table to write")
        args = parser.parse_args(argv[1:])
        print(f"wrote {merge_to_file(args.out_dir, args.table)}")
        return
    import hydra

    from tabular_bench.build.job import run_job

    sys.argv = [sys.argv[0], *argv[1:]]
    hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="build")(run_job)()


if __name__ == "__main__":
    main(sys.argv[1:])
