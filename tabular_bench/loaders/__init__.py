"""Ready-made benchmarks for Hydra configs (``experiments/benchmark/*.yaml``).

``nb201`` reads the NAS-Bench-201 table; ``imported`` reads any importer's table
(:data:`tabular_bench.importers.IMPORTERS`) and says how a partial table is searched;
``table_file`` reads a table in this project's own format (a build's ``table.h5``) and
``embedded`` one the package ships, which needs no data directory.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from common_io.data_dir import DataNotFoundError, cache_root, data_file, data_root
from tabular_bench.benchmark import Benchmark
from tabular_bench.importers import import_archive, import_csv, importer_named
from tabular_bench.importers.nats_bench import archive_sha256
from tabular_bench.importers.nb201_csv import NB201_ORIGIN
from tabular_bench.store import Table, TableCorruptError, file_sha256, read_table, write_table
from tabular_bench.surrogate import SurrogateBenchmark
from tabular_bench.tabular import TabularBenchmark, measured_only

NB201_CSV = "nb201/nb201_all.csv.gz"
IMPORT_VERSION = 3
"""Part of every imported table's cache name: bump it when an importer's output changes
(2: NASLib zero-cost tables gained ``valid_norm``; 3: their costs count queries), so no
stale cache is read."""


def nb201(path: str | None = None, cache_dir: str | None = None) -> TabularBenchmark:
    """The NAS-Bench-201 benchmark from the shared CSV, our ``.h5`` table or a NATS archive.

    :param path: ``None`` finds ``nb201/nb201_all.csv.gz`` in the data directory
        (``$METANAS_DATA``); a ``.h5`` file is loaded as is; a CSV or a NATS-Bench
        archive directory is converted once into an HDF5 cache keyed by its sha256.
    :param cache_dir: where converted tables go (``$METANAS_CACHE``, default
        ``~/.cache/metanas``).
    """
    source = Path(path) if path is not None else data_file(NB201_CSV, origin=NB201_ORIGIN)
    if not source.exists():
        raise DataNotFoundError(f"no NAS-Bench-201 table at {source}; it comes from {NB201_ORIGIN}")
    if source.suffix == ".h5":
        return TabularBenchmark.from_file(source)
    if source.is_dir():
        digest, convert = archive_sha256(source), import_archive
    else:
        digest, convert = file_sha256(source), import_csv
    cache = cache_root(cache_dir) / f"nb201-{digest[:20]}.h5"
    if cache.exists():
        try:
            return TabularBenchmark.from_file(cache)
        except TableCorruptError as err:
            warnings.warn(f"rebuilding corrupt cache: {err}", stacklevel=2)
    table: Table = convert(source)
    write_table(table, cache)
    return TabularBenchmark(table)


Completion = Literal["table", "measured", "surrogate"]


def imported(
    importer: str,
    path: str,
    *,
    completion: Completion = "table",
    tasks: list[str] | None = None,
    seed: int = 0,
    cache_dir: str | None = None,
) -> Benchmark:
    """The table an importer makes of ``path``, converted once and cached by its sha256.

    :param importer: a :data:`~tabular_bench.importers.IMPORTERS` name, e.g.
        ``naslib-zc-transnas-micro``.
    :param path: the source file; a relative path is looked up in the data directory
        (``$METANAS_DATA``) first.
    :param completion: how to search a table that holds part of its space: ``"table"``
        as is (every query must hit a row), ``"measured"`` over the networks measured on
        every one of ``tasks`` only, ``"surrogate"`` over the whole space, predicting
        unmeasured networks (``is_measured`` tells which).
    :param tasks: for ``"measured"``: tasks a network must be measured on (default all).
    :param seed: seed of the surrogate's predictors.
    """
    convert = importer_named(importer)
    source = Path(path).expanduser()
    if not source.is_absolute() and not source.exists():
        source = data_root() / source
    if not source.exists():
        raise DataNotFoundError(
            f"no source file for importer {importer!r} at {source}: put it there or point "
            f"$METANAS_DATA at the directory that holds {path}"
        )
    cache = cache_root(cache_dir) / f"{importer}-v{IMPORT_VERSION}-{file_sha256(source)[:20]}.h5"
    table: Table | None = None
    if cache.exists():
        try:
            table = TabularBenchmark.from_file(cache).table
        except TableCorruptError as err:
            warnings.warn(f"rebuilding corrupt cache: {err}", stacklevel=2)
    if table is None:
        table = convert(source)
        write_table(table, cache)
    return _complete(table, completion, tasks, seed)


EMBEDDED_DIR = Path(__file__).resolve().parents[1] / "tables"
"""Tables the project built itself and ships as package data (``<name>.h5``, with
``<name>.json`` recording protocol, seeds, code version and date)."""


def table_file(
    path: str,
    *,
    completion: Completion = "measured",
    tasks: list[str] | None = None,
    seed: int = 0,
) -> Benchmark:
    """A table in this project's HDF5 format: a build's ``table.h5`` or any written by
    :func:`tabular_bench.store.write_table`. ``completion``, ``tasks`` and ``seed`` as in
    :func:`imported`; a built table holds a sample of its space, so ``measured`` is the
    default."""
    source = Path(path).expanduser()
    if not source.is_file():
        raise DataNotFoundError(
            f"no table file at {source}: build one with `python -m metanas.run "
            "experiment=table_build_cpu` (it writes <build_dir>/table.h5) or name a shipped "
            f"one with loaders.embedded ({', '.join(embedded_names()) or 'none shipped'})"
        )
    return _complete(read_table(source), completion, tasks, seed)


def embedded_names() -> list[str]:
    """Names of the tables shipped in the package."""
    return sorted(p.stem for p in EMBEDDED_DIR.glob("*.h5"))


def embedded(
    name: str,
    *,
    completion: Completion = "measured",
    tasks: list[str] | None = None,
    seed: int = 0,
) -> Benchmark:
    """A table shipped with the package: needs no data directory (what the Quickstart's
    main job reads on a machine without ``../shared``)."""
    if name not in embedded_names():
        raise KeyError(
            f"no embedded table {name!r}; shipped: {', '.join(embedded_names()) or 'none'} "
            f"(in {EMBEDDED_DIR}); for a table file elsewhere use loaders.table_file"
        )
    return _complete(read_table(EMBEDDED_DIR / f"{name}.h5"), completion, tasks, seed)


def _complete(
    table: Table, completion: str, tasks: list[str] | None, seed: int
) -> Benchmark:
    if completion not in _COMPLETIONS:
        raise ValueError(
            f"completion must be one of {sorted(_COMPLETIONS)}, got {completion!r}"
        )
    return _COMPLETIONS[completion](table, None if tasks is None else tuple(tasks), seed)


_COMPLETIONS: dict[str, Callable[[Table, tuple[str, ...] | None, int], Benchmark]] = {
    "table": lambda table, tasks, seed: TabularBenchmark(table),
    "measured": lambda table, tasks, seed: measured_only(table, tasks=tasks),
    "surrogate": lambda table, tasks, seed: SurrogateBenchmark(table, seed=seed),
}
