"""Command line of the builder's offline steps (training is a job of ``metanas.run``).

* ``python -m metanas.run experiment=table_build_cpu`` trains (and merges when complete);
* ``python -m tabular_bench.builder merge BUILD_DIR TABLE.h5`` merges the finished units
  of a build, complete or not, into one table;
* ``python -m tabular_bench.builder quality BUILD_DIR OUT.csv`` writes the per-task
  quality of a build (:mod:`tabular_bench.builder.quality`);
* ``python -m tabular_bench.builder surrogate --out OUT.csv [--table T.h5 | --importer NAME
  --src FILE]`` writes the surrogate's held-out rank quality on a table
  (:mod:`tabular_bench.surrogate.validate`). It lives here, above the loaders, so that the
  surrogate package does not import the loaders that import it.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
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
    surrogate = commands.add_parser("surrogate", help="surrogate's held-out Kendall tau")
    surrogate.add_argument("--table", default=None,
                           help="a .h5 table; default the NB201 table of the data directory")
    surrogate.add_argument("--fraction", type=float, default=0.05)
    surrogate.add_argument("--seed", type=int, default=0)
    surrogate.add_argument("--importer", default=None,
                           help="an IMPORTERS name; reads --src through it instead of --table")
    surrogate.add_argument("--src", default=None, help="source file of --importer")
    surrogate.add_argument("--fidelity", type=int, default=None,
                           help="default: each task's last fidelity (NB201: 200)")
    surrogate.add_argument("--metrics", choices=["all", "first"], default="all",
                           help="first: each task's search metric only")
    surrogate.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "surrogate":
        surrogate_quality(args)
        return
    if args.command == "merge":
        from tabular_bench.builder.merge import merge_to_file

        print(f"wrote {merge_to_file(args.build_dir, args.table)}")
        return
    from tabular_bench.builder.quality import build_space, has_nb201_cells, read_units
    from tabular_bench.builder.quality import quality as assess

    space = build_space(args.build_dir)
    nb201 = None
    if not has_nb201_cells(space):
        print(f"{space.name} cells are not NB201 cells: no comparison with NAS-Bench-201")
    elif not args.no_nb201:
        from tabular_bench.loaders import nb201

        nb201 = nb201()
    table = assess(read_units(args.build_dir), nb201, space)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False, float_format="%.4f")
    print(table.to_string(index=False))


def surrogate_quality(args: argparse.Namespace) -> None:
    """Fit the surrogate on a seeded fraction of a table's cells, score the rest, write CSV."""
    from tabular_bench.loaders import imported, nb201
    from tabular_bench.surrogate.validate import validate

    start = time.perf_counter()
    if args.importer is not None:
        table = imported(args.importer, args.src).table
    else:
        table = nb201(args.table).table
    rows = validate(table, fraction=args.fraction, seed=args.seed, fidelity=args.fidelity,
                    first_metric_only=args.metrics == "first")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    for row in rows:
        print(row)
    print(f"wall time {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
