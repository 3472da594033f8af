"""Ready-made benchmarks, e.g. for Hydra: ``benchmark: {_target_: tabular_bench.loaders.nb201}``."""

from __future__ import annotations

import warnings
from pathlib import Path

from tabular_bench.data_dir import DataNotFoundError, cache_root, data_file
from tabular_bench.importers import import_archive, import_csv
from tabular_bench.importers.nats_bench import archive_sha256
from tabular_bench.importers.nb201_csv import NB201_ORIGIN
from tabular_bench.store import Table, TableCorruptError, file_sha256, write_table
from tabular_bench.tabular import TabularBenchmark

NB201_CSV = "nb201/nb201_all.csv.gz"


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
