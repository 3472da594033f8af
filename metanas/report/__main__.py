"""``python -m metanas.report <results dir>``: rebuild table.md, summary and plots."""

from __future__ import annotations

import argparse
from pathlib import Path

from metanas.report import build_report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m metanas.report", description=__doc__)
    parser.add_argument("results_dir", type=Path, help="out_dir of a run, or a multirun folder")
    args = parser.parse_args(argv)
    print(build_report(args.results_dir))


if __name__ == "__main__":
    main()
