"""Every ``python -m metanas.run`` / ``python -m metanas.report`` command in README.md runs
as written, in README order, from a fresh working directory.

Search commands run for real, with ``runs=2`` appended where they take hundreds of runs
(a later override wins in Hydra). Commands that need a Slurm cluster or hours of
meta-training are composed with ``--cfg job`` (config and overrides checked, nothing run);
the test prints which ones.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
COMMAND = re.compile(r"python -m (metanas\.run|metanas\.report)\b([^#`\n]*)")
SMALL = {"experiment=nb201_paper": ["runs=2"], "experiment=nb201_tiny": []}


INLINE_CODE = re.compile(r"(?<!`)`(?!`)([^`]+)`(?!`)")


def readme_commands() -> list[list[str]]:
    """Each distinct command of README.md as argv after ``python``, in order (an inline
    code span wrapped over two lines is one command)."""
    text = INLINE_CODE.sub(
        lambda m: m[0].replace("\n", " ") if "python -m" in m[1] else m[0],
        (REPO / "README.md").read_text(),
    )
    seen, out = set(), []
    for match in COMMAND.finditer(text):
        argv = ["-m", match[1], *shlex.split(match[2])]
        if tuple(argv) not in seen:
            seen.add(tuple(argv))
            out.append(argv)
    return out


COMMANDS = readme_commands()


def how_to_run(argv: list[str]) -> list[str]:
    """The argv to execute: verbatim plus small sizes, or ``--cfg job`` where it cannot run."""
    if argv[1] == "metanas.report":
        return argv
    experiment = next(a for a in argv if a.startswith("experiment="))
    if experiment in SMALL and "hydra/launcher=submitit_slurm" not in argv:
        return argv + SMALL[experiment]
    # Hydra refuses --cfg with -m: compose the first point of each sweep instead.
    single = [a for a in argv[2:] if a != "-m"]
    single = [re.sub(r"=([^,\[]*),.*$", r"=\1", a) if "=" in a else a for a in single]
    return [*argv[:2], *single, "--cfg", "job"]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("readme")


def test_readme_shows_the_documented_commands():
    shown = [" ".join(c) for c in COMMANDS]
    assert any("-m metanas.run -m experiment=nb201_tiny" in c for c in shown)
    assert any(c.startswith("-m metanas.report") for c in shown)


@pytest.mark.slow
@pytest.mark.parametrize("argv", COMMANDS, ids=[" ".join(c[2:]) for c in COMMANDS])
def test_readme_command_runs_as_written(argv, workdir, real_data):
    run = how_to_run(argv)
    result = subprocess.run(
        [sys.executable, *run], cwd=workdir, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, f"{' '.join(run)}\n{result.stderr[-3000:]}"
    if "--cfg" in run:
        print(f"composed only: {' '.join(argv)}")
        assert "_target_" in result.stdout
