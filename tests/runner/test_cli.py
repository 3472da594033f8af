"""`python -m metanas.run` on the real NB201 table: tiny experiment, resume, stored config,
errors before work, and Hydra multirun through the joblib and submitit-local launchers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from metanas.runner.shard_store import read_shards

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "metanas.run", *args],
        check=False,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
def test_tiny_experiment_runs_stores_config_and_resumes(real_data, tmp_path):
    out = tmp_path / "tiny"
    first = run_cli("experiment=nb201_tiny", f"out_dir={out}")
    assert first.returncode == 0, first.stderr
    for name in (
        "summary.csv",
        "table.md",
        "search_curves.png",
        "search_finals.png",
        ".hydra/config.yaml",
        ".hydra/overrides.yaml",
    ):
        assert (out / name).is_file(), name
    summary = (out / "summary.csv").read_text()
    assert pd.read_csv(out / "summary.csv")["runs"].tolist() == [6, 6]

    again = run_cli("experiment=nb201_tiny", f"out_dir={out}")
    assert again.returncode == 0, again.stderr
    assert (out / "summary.csv").read_text() == summary
    traces = read_shards(out)
    assert not traces.duplicated(["protocol", "dataset", "strategy", "run", "step"]).any()


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("no_such_key=1", "Could not override 'no_such_key'"),
        ("strategies=[rs,nope]", "unknown strategy 'nope'; available in"),
        ("protocol.nb201.settings.cifar10.budget_s=0", "budget_s must be > 0"),
        ("protocol.nb201.settings.cifar10.search_task=cifar11", "unknown dataset/task 'cifar11'"),
        ("n_jobs=0", "n_jobs must be an integer >= 1"),
        ("experiment=no_such_experiment", "Could not find 'experiment/no_such_experiment'"),
    ],
)
def test_bad_input_fails_before_work(real_data, tmp_path, override, message):
    extra = [] if override.startswith("experiment=") else ["experiment=nb201_tiny"]
    result = run_cli(*extra, override, f"out_dir={tmp_path / 'out'}")
    assert result.returncode != 0
    assert message in result.stderr, result.stderr
    assert not list(tmp_path.rglob("runs_*.parquet"))


@pytest.mark.slow
@pytest.mark.parametrize("launcher", ["joblib", "submitit_local"])
def test_multirun_over_strategies(real_data, tmp_path, launcher):
    sweep = tmp_path / "sweep"
    result = run_cli(
        "-m",
        "experiment=nb201_tiny",
        "strategies=[rs],[rea]",
        "runs=2",
        f"hydra/launcher={launcher}",
        f"hydra.sweep.dir={sweep}",
    )
    assert result.returncode == 0, result.stderr
    jobs = sorted(p.parent for p in sweep.rglob("summary.csv"))
    assert len(jobs) == 2
    # the report of the sweep folder gathers both jobs' shards
    report = subprocess.run(
        [sys.executable, "-m", "metanas.report", str(sweep)],
        check=False,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert report.returncode == 0, report.stderr
    summary = pd.read_csv(sweep / "summary.csv")
    assert sorted(summary["strategy"]) == ["rea", "rs"] and set(summary["runs"]) == {2}


def test_missing_data_names_the_fix_on_readable_lines_and_leaves_no_folder(tmp_path):
    env_data = tmp_path / "empty_data"
    env_data.mkdir()
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "metanas.run", "experiment=nb201_tiny", f"out_dir={out}"],
        check=False,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "METANAS_DATA": str(env_data)},
    )
    assert result.returncode != 0
    assert "missing data file" in result.stderr and "\\n" not in result.stderr, result.stderr
    assert "  Put it there" in result.stderr  # the message's own lines, not a repr
    assert not out.exists()  # no folder holding only .hydra/ and run.log


def test_unwritable_out_dir_is_named(tmp_path):
    locked = tmp_path / "ro"
    locked.mkdir()
    locked.chmod(0o555)
    if os.access(locked, os.W_OK):  # root ignores modes; /sys refuses even root
        locked = Path("/sys/kernel")
    result = run_cli("experiment=nb201_tiny", f"out_dir={locked}")
    assert result.returncode != 0
    assert f"out_dir {locked} is not writable" in result.stderr, result.stderr
    assert "Unable to configure handler" not in result.stderr


@pytest.mark.slow
def test_refused_rerun_keeps_the_record_and_accepted_reruns_keep_history(real_data, tmp_path):
    out = tmp_path / "tiny"
    assert run_cli("experiment=nb201_tiny", "runs=2", f"out_dir={out}").returncode == 0
    config = (out / ".hydra" / "config.yaml").read_text()
    refused = run_cli("experiment=nb201_tiny", "runs=2", "base_seed=1", f"out_dir={out}")
    assert refused.returncode != 0 and "base_seed: 0 before, 1 now" in refused.stderr
    assert (out / ".hydra" / "config.yaml").read_text() == config
    assert "base_seed=1" not in (out / ".hydra" / "overrides.yaml").read_text()
    other = run_cli(
        "experiment=nb201_tiny", "runs=2", "strategies=[local_search]", f"out_dir={out}"
    )
    assert other.returncode == 0, other.stderr
    history = sorted((out / ".hydra" / "history").iterdir())
    assert [p.name for p in history] == ["001", "002"]
    assert "strategies" not in (history[0] / "overrides.yaml").read_text()
    assert "strategies=[local_search]" in (history[1] / "overrides.yaml").read_text()
