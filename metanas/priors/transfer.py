"""Leave-one-dataset-out transfer of meta-learned priors, against the search baselines.

For each dataset of one protocol (NATS-Bench: CIFAR-10, CIFAR-100, ImageNet16-120), the
other datasets are the meta-training tasks: ``meta_seeds`` priors are meta-trained on a
:class:`RestrictedBenchmark` that raises on every task of the held-out dataset, then every
method searches the held-out dataset with the runner's own loop and traces
(:mod:`metanas.runner.search_loop`), under the protocol's budget. Run ``r`` of every method
gets the same strategy seed (paired comparisons), and meta method runs use prior
``r % meta_seeds`` (recorded as ``meta_seed`` in the traces, the cluster of the run).

Three families of methods search the held-out dataset: *baseline* (from scratch, the
runner's strategies), *transfer* (non-learned reuse of the training tasks, bound to
``source=`` a :class:`~metanas.priors.source.TransferSource` over the same restricted view
meta-training reads) and *meta* (bound to ``prior=`` a meta-trained :class:`MetaPrior`).

Traces are stored as the runner's shards (resumable: complete shards are skipped), priors
as ``priors/<dataset>/prior_<m>.pt`` (:func:`~metanas.priors.prior.save_prior`); the report
(:mod:`metanas.priors.transfer_report`) is rebuilt from them at the end.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from common_io.atomic_io import atomic_write_bytes, remove_stale_temporaries
from common_io.fingerprint import describe_call
from common_io.run_folder import check_settings
from metanas.priors.deep_kernel import KernelMetaConfig
from metanas.priors.meta_policy import PolicyMetaConfig
from metanas.priors.meta_predictor import PredictorMetaConfig
from metanas.priors.meta_train import PriorSignal, meta_train_prior
from metanas.priors.metad2a import ranked_top_k
from metanas.priors.prior import MetaPrior, load_prior, save_prior
from metanas.priors.restricted import RestrictedBenchmark
from metanas.priors.source import TransferSource, needs_source
from metanas.priors.transfer_report import (
    OPTIMA_FILE,
    RANKED_FILE,
    SETUP_FILE,
    write_transfer_report,
)
from metanas.runner import shard_store
from metanas.runner.search_loop import (
    SettingTables,
    build_tables,
    one_torch_thread,
    run_searches,
    trace_frame,
)
from metanas.runner.seeding import run_seeds
from metanas.runner.settings import SearchSetting, parse_protocols, require_positive_ints
from metanas.runner.sharded_search import (
    SPEC_FILE,
    Shard,
    check_shards,
    plan_shards,
    run_shards,
)
from metanas.runner.strategy_registry import StrategyFactory
from metanas.strategies.base import Strategy
from tabular_bench.benchmark import Benchmark

PAIRED = "paired"  # strategy-name slot of run_seeds: the same seed for every method


@dataclass(frozen=True)
class MetaTrainingConfig:
    """How priors are meta-trained (one set per held-out dataset).

    :param meta_seeds: independently meta-trained priors per held-out dataset.
    :param reinforce: settings of the inner REINFORCE learner (those of the search).
    :param encodings: cell encodings the predictor reads (methods of the space).
    :param kernel: the deep-kernel GP's meta-training (0 iterations: none is trained).
    """

    meta_seeds: int = 10
    signal: PriorSignal = field(default_factory=PriorSignal)
    policy: PolicyMetaConfig = field(default_factory=PolicyMetaConfig)
    predictor: PredictorMetaConfig = field(default_factory=PredictorMetaConfig)
    reinforce: Mapping[str, float] = field(default_factory=dict)
    encodings: tuple[str, ...] = ("one_hot", "path_encoding")
    kernel: KernelMetaConfig = field(default_factory=KernelMetaConfig)

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> MetaTrainingConfig:
        known = {"meta_seeds", "signal", "policy", "predictor", "reinforce", "encodings", "kernel"}
        if set(spec) - known:
            raise ValueError(f"meta_training: unknown keys {sorted(set(spec) - known)}; {known}")
        predictor = dict(spec.get("predictor", {}))
        if "hidden" in predictor:
            predictor["hidden"] = tuple(predictor["hidden"])
        kernel = dict(spec.get("kernel", {}))
        if "hidden" in kernel:
            kernel["hidden"] = tuple(kernel["hidden"])
        config = cls(
            meta_seeds=int(spec.get("meta_seeds", 10)),
            signal=PriorSignal(**spec.get("signal", {})),
            policy=PolicyMetaConfig(**spec.get("policy", {})),
            predictor=PredictorMetaConfig(**predictor),
            reinforce=dict(spec.get("reinforce", {})),
            encodings=tuple(spec.get("encodings", cls.encodings)),
            kernel=KernelMetaConfig(**kernel),
        )
        if config.meta_seeds < 1:
            raise ValueError(f"meta_training.meta_seeds must be >= 1, got {config.meta_seeds}")
        return config


class TransferJob:
    """Meta-train on all datasets but one, search that one; every dataset in turn.

    :param benchmark: the full table; meta-training only ever sees restricted views of it.
    :param protocols: exactly one protocol (``experiments/protocol/*.yaml``); its datasets
        are the leave-one-out folds.
    :param baselines: name -> strategy factory (``space=``, ``seed=``).
    :param meta_methods: name -> factory taking also ``prior=`` (a :class:`MetaPrior`); a
        ``None`` factory drops the method (how an experiment yaml removes an inherited one).
    :param transfer_methods: name -> factory of a non-learned transfer control; those that
        take ``source=`` get a :class:`TransferSource` over the training view (the hand
        prior takes none; ``None`` drops the method).
    :param meta_training: :class:`MetaTrainingConfig` fields.
    :param runs: runs (seeds) per (held-out dataset, method), paired by seed across methods.
    :param runs_per_method: fewer runs for named slow methods (paired on the common runs).
    :param metad2a: ``{top_k, runs, published: {dataset: accuracy}}`` of the MetaD2A
        protocol (best test accuracy among the ``top_k`` cells ranked highest).
    :param report_dir: where the report (summary, tests, table, figures) is written;
        ``None`` writes it into ``out_dir``.
    :param holdout: ``task`` meta-trains on every other dataset (leave-one-task-out);
        ``distribution`` only on datasets of other task distributions, named by the search
        task's prefix before ``.`` (``omniglot.Greek``, ``cifar100.fish``), so a prior
        learned on Omniglot alphabets is tested on CIFAR-100 tasks and back.
    """

    def __init__(
        self,
        *,
        benchmark: Benchmark,
        protocols: Mapping[str, Mapping[str, Any]],
        baselines: Mapping[str, StrategyFactory],
        meta_methods: Mapping[str, StrategyFactory],
        transfer_methods: Mapping[str, StrategyFactory] | None = None,
        meta_training: Mapping[str, Any] | None = None,
        runs: int = 100,
        runs_per_method: Mapping[str, int] | None = None,
        base_seed: int = 0,
        n_jobs: int = 1,
        runs_per_shard: int = 50,
        metad2a: Mapping[str, Any] | None = None,
        report_dir: str | None = None,
        holdout: str = "task",
        progress: bool = True,
    ) -> None:
        if holdout not in HOLDOUTS:
            raise ValueError(f"holdout must be one of {HOLDOUTS}, got {holdout!r}")
        if len(protocols) != 1:
            raise ValueError(
                f"the transfer job takes exactly one protocol (e.g. protocol=[nats]), "
                f"got {list(protocols)}"
            )
        self.settings = parse_protocols(protocols)
        if len(self.settings) < 2:
            raise ValueError("leave-one-dataset-out needs a protocol with >= 2 datasets")
        for setting in self.settings:
            setting.validate(benchmark)
        self.holdout = holdout
        if holdout == "distribution":
            _check_distributions([s.search_task for s in self.settings])
        meta_methods = {k: v for k, v in meta_methods.items() if v is not None}
        transfer_methods = {k: v for k, v in (transfer_methods or {}).items() if v is not None}
        names = [*baselines, *meta_methods, *transfer_methods]
        clash = {n for n in names if names.count(n) > 1}
        if clash or not baselines or not meta_methods:
            raise ValueError(
                f"need >= 1 baseline and >= 1 meta method with distinct names (clash: {clash})"
            )
        wrong = [n for n, f in {**baselines, **meta_methods}.items() if needs_source(f)]
        if wrong:
            raise ValueError(f"{wrong} take source=: list them under transfer_methods")
        self.runs_per_method = {k: int(v) for k, v in (runs_per_method or {}).items()}
        require_positive_ints({
            "runs": runs,
            "n_jobs": n_jobs,
            "runs_per_shard": runs_per_shard,
            **{f"runs_per_method.{k}": v for k, v in self.runs_per_method.items()},
        })
        self.benchmark = benchmark
        self.baselines = dict(baselines)
        self.meta_methods = dict(meta_methods)
        self.transfer_methods = dict(transfer_methods)
        self.meta = MetaTrainingConfig.from_dict(meta_training or {})
        self.runs, self.base_seed = runs, base_seed
        self.n_jobs, self.runs_per_shard = n_jobs, runs_per_shard
        self.metad2a = {"top_k": 30, "runs": 10, "published": {}, **dict(metad2a or {})}
        self.report_dir = Path(report_dir) if report_dir else None
        self.progress = progress
        self.tables = {s.dataset: build_tables(benchmark, s) for s in self.settings}
        # Fail before any meta-training if the views cannot serve the prior's signal.
        for held_out in self.settings:
            view = self.training_view(held_out)
            for task in self.training_tasks(held_out):
                view.query(
                    0, task=task, fidelity=self.meta.signal.fidelity, metric=self.meta.signal.metric
                )

    # -- folds ---------------------------------------------------------------------
    def training_settings(self, held_out: SearchSetting) -> list[SearchSetting]:
        """The meta-training datasets of ``held_out``'s fold (see ``holdout``)."""
        if self.holdout == "task":
            return [s for s in self.settings if s.dataset != held_out.dataset]
        own = distribution_of(held_out.search_task)
        return [s for s in self.settings if distribution_of(s.search_task) != own]

    def training_tasks(self, held_out: SearchSetting) -> list[str]:
        """Search tasks of the meta-training datasets (their tables teach the prior)."""
        return [s.search_task for s in self.training_settings(held_out)]

    def training_view(self, held_out: SearchSetting) -> RestrictedBenchmark:
        """The benchmark as meta-training for ``held_out`` may see it."""
        allowed = [
            task for s in self.training_settings(held_out) for task in (s.search_task, s.test_task)
        ]
        return RestrictedBenchmark(self.benchmark, allowed)

    def source(self, held_out: SearchSetting) -> TransferSource:
        """What a transfer method may read for ``held_out``: the training view, its signal."""
        return TransferSource(
            self.training_view(held_out), tuple(self.training_tasks(held_out)), self.meta.signal
        )

    @property
    def methods(self) -> dict[str, StrategyFactory]:
        return {**self.baselines, **self.transfer_methods, **self.meta_methods}

    def family(self, name: str) -> str:
        if name in self.meta_methods:
            return "meta"
        return "transfer" if name in self.transfer_methods else "baseline"

    def meta_train(self, held_out: SearchSetting, meta_seed: int) -> MetaPrior:
        """One prior for ``held_out``; it reads nothing but the training view.

        Runs torch on one thread: the tiny MLPs run fastest so on a shared 2-core machine.
        """
        seed, _ = run_seeds(self.base_seed, held_out.protocol, held_out.dataset, "meta", meta_seed)
        with one_torch_thread():
            return meta_train_prior(
                self.training_view(held_out),
                self.training_tasks(held_out),
                signal=self.meta.signal,
                policy=self.meta.policy,
                predictor=self.meta.predictor,
                reinforce_kwargs=self.meta.reinforce,
                encodings=self.meta.encodings,
                seed=seed,
                kernel=self.meta.kernel,
            )

    def runs_of(self, method: str) -> range:
        return range(min(self.runs, self.runs_per_method.get(method, self.runs)))

    # -- running -------------------------------------------------------------------
    def run(self, out_dir: Path) -> None:
        """Meta-train what is missing, run the missing shards, then write the report."""
        out_dir = Path(out_dir)
        remove_stale_temporaries(out_dir)
        self._write_setup(out_dir)
        priors = {s.dataset: self._priors(out_dir, s) for s in self.settings}
        self._write_ranked(out_dir, priors)
        shards = plan_shards(self.settings, self.methods, self.runs_of, self.runs_per_shard)
        check_shards(out_dir, shards, self._spec)

        def work(shard: Shard) -> functools.partial[pd.DataFrame]:
            setting, name = shard.setting, shard.key.strategy
            factory, tables = self.methods[name], self.tables[setting.dataset]
            return functools.partial(
                transfer_frame, shard.key, setting, factory, tables,
                priors[setting.dataset] if name in self.meta_methods else None,
                self.source(setting) if needs_source(factory) else None,
                self.benchmark if tables.seeded else None,
                self.base_seed,
            )

        run_shards(out_dir, shards, work, n_jobs=self.n_jobs, progress=self.progress,
                   desc="transfer")
        write_transfer_report(out_dir, self.report_dir or out_dir)

    def _priors(self, out_dir: Path, held_out: SearchSetting) -> list[MetaPrior]:
        """Load or meta-train the ``meta_seeds`` priors of one held-out dataset."""
        relative = Path("priors") / held_out.dataset
        # Priors from another meta-training configuration are refused, never reused.
        check_settings(out_dir / relative / SPEC_FILE, self._meta_spec(held_out))
        folder = out_dir / relative
        paths = [folder / f"prior_{m}.pt" for m in range(self.meta.meta_seeds)]
        missing = [m for m, p in enumerate(paths) if not p.exists()]
        trained = Parallel(n_jobs=self.n_jobs)(
            delayed(self.meta_train)(held_out, m) for m in missing
        )
        for m, prior in zip(missing, trained, strict=True):
            save_prior(prior, paths[m])
        return [load_prior(p) for p in paths]

    def _spec(self, setting: SearchSetting, name: str) -> dict:
        spec = {
            "setting": setting.to_dict(),
            "strategy": describe_call(self.methods[name]),
            "base_seed": self.base_seed,
            "runs_per_shard": self.runs_per_shard,
        }
        if name in self.meta_methods:
            spec.update(self._meta_spec(setting))
        if name in self.transfer_methods:
            spec["source"] = {
                "training_tasks": self.training_tasks(setting),
                "signal": asdict(self.meta.signal),
            }
        return spec

    def _meta_spec(self, held_out: SearchSetting) -> dict:
        """Inputs that determine the priors of ``held_out``."""
        return {
            "meta_training": json.loads(json.dumps(asdict(self.meta), default=repr)),
            "training_tasks": self.training_tasks(held_out),
            "base_seed": self.base_seed,
        }

    def _write_setup(self, out_dir: Path) -> None:
        """What the report needs besides traces: targets, families, settings, units.

        The report reads the test metric's unit and direction, the cost unit and whether
        the signal was noisy from here, so it never assumes NB201's percentages or seconds.
        """
        optima = []
        for s in self.settings:
            test = self.tables[s.dataset].test[s.test_task]
            measured = test[np.isfinite(test)]
            best = measured.max()
            optima.append(
                {
                    "dataset": s.dataset,
                    "test_task": s.test_task,
                    "budget": s.budget_s,
                    "optimum_test_value": float(best),
                    "worst_test_value": float(measured.min()),
                    "median_test_value": float(np.median(measured)),
                    # Ties count: CIFAR-10's two best cells share 94.3733.
                    "optimum_arch_indices": ";".join(
                        str(i) for i in self.tables[s.dataset].arch_index[test >= best]
                    ),
                    "training_tasks": ";".join(self.training_tasks(s)),
                }
            )
        atomic_write_bytes(
            out_dir / OPTIMA_FILE, pd.DataFrame(optima).to_csv(index=False).encode()
        )
        spec = self.benchmark.metric_spec(self.settings[0].test_metric)
        settings = {
            s.dataset: {**s.to_dict(), "signal_seeded": bool(self.tables[s.dataset].seeded)}
            for s in self.settings
        }
        setup = {
            "families": {n: self.family(n) for n in self.methods},
            "metad2a": self.metad2a,
            "meta_seeds": self.meta.meta_seeds,
            "protocol": self.settings[0].protocol,
            "holdout": self.holdout,
            "space": self.benchmark.space.name,
            "settings": settings,
            "cost_unit": _one_cost_unit(self.benchmark, [s.search_task for s in self.settings]),
            "test_metric": asdict(spec),
        }
        atomic_write_bytes(out_dir / SETUP_FILE, json.dumps(setup, indent=1).encode())

    def _write_ranked(self, out_dir: Path, priors: Mapping[str, Sequence[MetaPrior]]) -> None:
        """MetaD2A protocol on the priors alone (zero held-out queries).

        ``best_test_acc`` is MetaD2A's own choice among the top-k (the best *test* accuracy:
        an oracle); ``selected_test_acc`` is the test accuracy of the cell a search could
        pick, the one with the best held-out validation signal (seed mean).
        """
        rows = []
        for s in self.settings:
            tables = self.tables[s.dataset]
            test = tables.test[s.test_task]
            for m, prior in enumerate(priors[s.dataset][: self.metad2a["runs"]]):
                ranked = ranked_top_k(prior, self.metad2a["top_k"], self.benchmark.space)
                for ranking, keys in ranked.items():
                    picked = keys[np.argmax(tables.signal[keys])]
                    rows.append(
                        {
                            "dataset": s.dataset,
                            "ranking": ranking,
                            "meta_seed": m,
                            "best_test_acc": float(test[keys].max()),
                            "selected_test_acc": float(test[picked]),
                        }
                    )
        atomic_write_bytes(
            out_dir / RANKED_FILE, pd.DataFrame(rows).to_csv(index=False).encode()
        )


HOLDOUTS = ("task", "distribution")


def distribution_of(task: str) -> str:
    """The task distribution a table task belongs to: its name's prefix before ``.``."""
    return task.split(".", 1)[0]


def _check_distributions(tasks: Sequence[str]) -> None:
    """Leave-one-distribution-out needs named tasks of at least two distributions."""
    unnamed = [t for t in tasks if "." not in t]
    if unnamed:
        raise ValueError(
            f"holdout=distribution reads each task's distribution from its name "
            f"(<distribution>.<task>), but {unnamed} have none: use holdout=task"
        )
    if len({distribution_of(t) for t in tasks}) < 2:
        raise ValueError(
            f"holdout=distribution needs tasks of >= 2 distributions, got only "
            f"{distribution_of(tasks[0])!r}: use holdout=task"
        )


def transfer_frame(
    key: shard_store.ShardKey,
    setting: SearchSetting,
    factory: StrategyFactory,
    tables: SettingTables,
    priors: Sequence[MetaPrior] | None,
    source: TransferSource | None,
    benchmark: Benchmark | None,
    base_seed: int,
) -> pd.DataFrame:
    """Worker: the shard's runs, traced with each evaluated cell's test accuracy."""

    def make_strategy(run: int, seed: int) -> Strategy:
        extra: dict[str, Any] = {"source": source} if source is not None else {}
        if priors is not None:
            extra["prior"] = priors[run % len(priors)]
        return factory(space=tables.space, seed=seed, **extra)

    results = run_searches(
        setting,
        tables,
        benchmark,
        range(key.first, key.last + 1),
        base_seed=base_seed,
        seed_name=PAIRED,
        make_strategy=make_strategy,
    )
    frame = trace_frame(setting, key.strategy, tables, results)
    frame["test_acc"] = tables.test[setting.test_task][np.concatenate([r.keys for r in results])]
    frame["meta_seed"] = frame["run"] % len(priors) if priors is not None else -1
    return frame


def _one_cost_unit(benchmark: Benchmark, tasks: Sequence[str]) -> str:
    """The unit every searched task's costs share; one report axis cannot mix two."""
    units = {benchmark.cost_unit(t) for t in tasks}
    if len(units) != 1:
        raise ValueError(
            f"the held-out tasks count costs in different units ({sorted(units)}): run the "
            "transfer job on tasks of one benchmark whose costs share a unit"
        )
    return units.pop()
