"""The search job: every (setting, strategy, run) of an experiment, sharded and resumable.

``SearchJob(...).run(out_dir)`` validates everything first (settings against the
benchmark, strategy names, budgets, sizes), then runs the missing shards in parallel over
seeds (joblib/loky processes, :mod:`metanas.runner.sharded_search`) with a progress bar,
and finally rebuilds ``summary.csv`` from the shards (``metanas.run`` then renders the
report, :mod:`metanas.report`). Running it again on the same ``out_dir`` resumes: complete
shards are skipped, so the summary ends the same and no row is duplicated.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from common_io.atomic_io import atomic_write_bytes
from common_io.fingerprint import describe_call
from metanas.runner import shard_store
from metanas.runner.search_loop import SettingTables, build_tables, run_searches, trace_frame
from metanas.runner.settings import SearchSetting, parse_protocols, require_positive_ints
from metanas.runner.shard_store import NOTES_FILE, OPTIMUM_FILE, PUBLISHED_FILE, SETTINGS_FILE
from metanas.runner.sharded_search import Shard, check_shards, plan_shards, run_shards
from metanas.runner.strategy_registry import StrategyFactory, available_strategies
from metanas.runner.summary import rebuild_summary
from tabular_bench.benchmark import Benchmark


class SearchJob:
    """Run strategies on benchmark settings for many seeds under simulated time budgets.

    :param benchmark: the objective; strategies only see its validation signal.
    :param protocols: ``{protocol: {signal, test, settings: {dataset: {...}}}}``, as in
        ``experiments/protocol/*.yaml``.
    :param strategies: name -> factory called with ``space=`` and ``seed=``.
    :param runs: runs (seeds) per strategy and setting; ``runs_per_strategy`` lowers it
        for named strategies (slow ones), and reports show the count actually run.
    :param first_run: index of the first run, so a sweep can split seeds across jobs.
    :param runs_per_shard: runs stored per shard file (the unit of resume).
    :param published: published results, ``{protocol: {strategy: {label, dataset: [mean,
        std]}}}``, shown beside ours in ``table.md``.
    :param notes: protocol differences to state under the table (markdown lines).
    :param progress: show a progress bar over shards.
    :param report: ask ``metanas.run`` to build ``table.md`` and the plots after the run.
    """

    def __init__(
        self,
        *,
        benchmark: Benchmark,
        protocols: Mapping[str, Mapping[str, Any]],
        strategies: Mapping[str, StrategyFactory],
        runs: int = 500,
        runs_per_strategy: Mapping[str, int] | None = None,
        first_run: int = 0,
        base_seed: int = 0,
        n_jobs: int = 2,
        runs_per_shard: int = 50,
        published: Mapping[str, Any] | None = None,
        notes: Sequence[str] = (),
        progress: bool = True,
        report: bool = True,
    ) -> None:
        self.runs_per_strategy = dict(runs_per_strategy or {})
        require_positive_ints(
            {
                "n_jobs": n_jobs,
                "runs": runs,
                "runs_per_shard": runs_per_shard,
                **{f"runs_per_strategy.{k}": v for k, v in self.runs_per_strategy.items()},
            }
        )
        for name, value in (("first_run", first_run), ("base_seed", base_seed)):
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
        if not strategies:
            raise ValueError("no strategies selected: set strategies=[rs,rea,...]")
        self.benchmark = benchmark
        self.settings = parse_protocols(protocols)
        for setting in self.settings:
            setting.validate(benchmark)
        self.strategies = dict(strategies)
        unknown = set(self.runs_per_strategy) - set(self.strategies) - set(available_strategies())
        if unknown:
            raise ValueError(
                f"runs_per_strategy names unknown strategies {sorted(unknown)}; known: "
                f"{', '.join(sorted({*self.strategies, *available_strategies()}))}"
            )
        self.runs, self.first_run, self.base_seed = runs, first_run, base_seed
        self.n_jobs, self.runs_per_shard = n_jobs, runs_per_shard
        self.published = dict(published or {})
        self.notes = list(notes)
        self.progress, self.report = progress, report
        # Whole-space look-ups, queried now so that a bad task/metric fails before any work.
        self.tables = {s.name: build_tables(benchmark, s) for s in self.settings}

    # -- planning ------------------------------------------------------------------
    def runs_of(self, strategy: str) -> range:
        count = min(self.runs, self.runs_per_strategy.get(strategy, self.runs))
        return range(self.first_run, self.first_run + count)

    def plan(self) -> list[Shard]:
        """Every shard of this job, in a fixed order."""
        return plan_shards(self.settings, self.strategies, self.runs_of, self.runs_per_shard)

    def spec(self, setting: SearchSetting, strategy: str) -> dict[str, Any]:
        """Inputs that determine a (setting, strategy) folder's shards."""
        return {
            "setting": setting.to_dict(),
            "strategy": describe_call(self.strategies[strategy]),
            "benchmark": self.benchmark.identity(),
            "seeded": self.tables[setting.name].seeded,
            "base_seed": self.base_seed,
            "runs_per_shard": self.runs_per_shard,
        }

    # -- running -------------------------------------------------------------------
    def prepare(self, out_dir: Path) -> None:
        """Accept ``out_dir`` or raise: it must hold no shards of another configuration."""
        check_shards(Path(out_dir), self.plan(), self.spec)

    def run(self, out_dir: Path) -> None:
        """Run the missing shards, then rebuild the summary (``metanas.run`` then builds
        the report when ``report`` is set: the report reads every package, so the runner
        does not import it)."""
        out_dir = Path(out_dir)
        self.prepare(out_dir)
        shards = self.plan()
        self._write_meta(out_dir)
        run_shards(out_dir, shards, self._work, n_jobs=self.n_jobs, progress=self.progress)
        rebuild_summary(out_dir)

    def _work(self, shard: Shard) -> functools.partial[pd.DataFrame]:
        """The picklable computation of one shard's traces (run in a worker process)."""
        tables = self.tables[shard.setting.name]
        return functools.partial(
            search_frame,
            shard.key,
            shard.setting,
            self.strategies[shard.key.strategy],
            tables,
            self.benchmark if tables.seeded else None,
            self.base_seed,
        )

    def _signal_note(self, setting: SearchSetting) -> str:
        """How the signal was read: one random seed per query, or the seed mean (and why)."""
        what = (
            f"- `{setting.name}`: strategies see {setting.search_task} "
            f"{setting.signal_metric} after {setting.signal_fidelity} epochs, "
        )
        if self.tables[setting.name].seeded:
            return what + "one recorded training seed drawn at random per query."
        if setting.sample_seed:
            return what + (
                "the mean over training seeds: the table holds no per-seed values "
                "there, so the random seed draw of NB201 is not reproduced."
            )
        return what + "the mean over training seeds."

    def _write_meta(self, out_dir: Path) -> None:
        """Files the report reads besides the shards: settings, published, optimum, notes.

        Each is merged with what an earlier run in the same folder wrote, so a rerun with
        fewer protocols keeps the others reportable.
        """
        shard_store.merge_json_list(
            out_dir / SETTINGS_FILE,
            [
                {**s.to_dict(), "cost_unit": self.benchmark.cost_unit(s.search_task)}
                for s in self.settings
            ],
            key=("protocol", "dataset"),
        )
        if self.published:
            path = out_dir / PUBLISHED_FILE
            published = json.loads(path.read_text()) if path.exists() else {}
            atomic_write_bytes(path, json.dumps({**published, **self.published}, indent=1).encode())
        path = out_dir / NOTES_FILE
        lines = path.read_text().splitlines() if path.exists() else []
        for line in [self._signal_note(s) for s in self.settings] + [f"- {n}" for n in self.notes]:
            if line not in lines:
                lines.append(line)
        atomic_write_bytes(path, ("\n".join(lines) + "\n").encode())
        rows = []
        for setting in self.settings:
            tables = self.tables[setting.name]
            for task, values in tables.test.items():
                best = int(values.argmax())
                rows.append(
                    {
                        "dataset": task,
                        "metric": setting.test_metric,
                        "fidelity": setting.test_fidelity,
                        "best": float(values[best]),
                        "arch_index": int(tables.arch_index[best]),
                    }
                )
        path = out_dir / OPTIMUM_FILE
        old = pd.read_csv(path) if path.exists() else pd.DataFrame(columns=["dataset"])
        merged = pd.concat(
            [old[~old["dataset"].isin([r["dataset"] for r in rows])], pd.DataFrame(rows)]
        )
        atomic_write_bytes(path, merged.drop_duplicates("dataset").to_csv(index=False).encode())


def search_frame(
    key: shard_store.ShardKey,
    setting: SearchSetting,
    factory: StrategyFactory,
    tables: SettingTables,
    benchmark: Benchmark | None,
    base_seed: int,
) -> pd.DataFrame:
    """The traces of the shard's runs; each run's seeds derive from the strategy's name."""
    results = run_searches(
        setting,
        tables,
        benchmark,
        range(key.first, key.last + 1),
        base_seed=base_seed,
        seed_name=key.strategy,
        make_strategy=lambda run, seed: factory(space=tables.space, seed=seed),
    )
    return trace_frame(setting, key.strategy, tables, results)
