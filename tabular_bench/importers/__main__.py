"""Convert a published benchmark file into our HDF5 table.

Usage: ``python -m tabular_bench.importers NAME SRC DST.h5`` (``NAME`` from ``IMPORTERS``)
"""

from __future__ import annotations

import argparse
import time

from tabular_bench.importers import IMPORTERS
from tabular_bench.store import write_table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tabular_bench.importers", description=__doc__)
    parser.add_argument("source", choices=sorted(IMPORTERS), help="format of SRC")
    parser.add_argument(
        "src", help="source file or folder (e.g. nb201_all.csv.gz, zc_transbench101_micro.json)"
    )
    parser.add_argument("dst", help="HDF5 table to write (atomically)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    table = IMPORTERS[args.source](args.src)
    path = write_table(table, args.dst)
    print(
        f"wrote {path}: {table.num_archs} architectures, tasks {', '.join(table.tasks)} "
        f"({time.perf_counter() - start:.1f} s)"
    )


if __name__ == "__main__":
    main()
