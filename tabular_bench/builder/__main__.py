"""Command line of the builder's offline steps (training is a job of ``metanas.run``).

* ``python -m metanas.run experiment=table_build_cpu`` trains (and merges when complete);
* ``python -m tabular_bench.builder merge BUILD_DIR TABLE.h5`` merges the finished units
  of a build, complete or not, into one table;
* ``python -m tabular_bench.builder quality BUILD_DIR OUT.csv`` writes the per-task
  quality of a build (:mod:`tabular_bench.builder.quality`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tabular_bench.builder",
        description="Merge or assess a table build. Train with "
                    "`python -m metanas.run experiment=table_build_cpu`.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    merge = commands.add_parser("merge", help="merge a build's unit files into one table")
    merge.add_argument("build_dir", type=Path)
    merge.add_argument("table", type=Path, help="HDF5 table to write")
    quality = commands.add_parser("quality", help="per-task seed tau, tau vs NB201, cost")
    quality.add_argument("build_dir", type=Path)
    quality.add_argument("out", type=Path, help="CSV to write")
    quality.add_argument("--no-nb201", action="store_true",
                         help="skip the comparison with NAS-Bench-201 (no data directory)")
    args = parser.parse_args(argv)
    if args.command == "merge":
        from tabular_bench.builder.merge import merge_to_file

        print(f"wrote {merge_to_file(args.build_dir, args.table)}")
        return
    from tabular_bench.builder.quality import quality as assess
    from tabular_bench.builder.quality import read_units

    nb201 = None
    if not args.no_nb201:
        from tabular_bench.loaders import nb201

        nb201 = nb201()
    table = assess(read_units(args.build_dir), nb201)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False, float_format="%.4f")
    print(table.to_string(index=False))


if __name__ == "__main__":
    main(sys.argv[1:])
