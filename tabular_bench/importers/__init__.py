"""Converters from published benchmark files to :class:`~tabular_bench.store.Table`.

One module per source format; :data:`IMPORTERS` maps a name to its import function
(``python -m tabular_bench.importers NAME SRC DST.h5``, or ``importer: NAME`` in a
benchmark config read by :func:`tabular_bench.loaders.imported`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from tabular_bench.importers.naslib_zc import import_zero_cost
from tabular_bench.importers.nats_bench import import_archive
from tabular_bench.importers.nb201_csv import import_csv
from tabular_bench.importers.transnas_api import import_transnas_api
from tabular_bench.store import Table

IMPORTERS: dict[str, Callable[[str | Path], Table]] = {
    "nb201-csv": import_csv,
    "nats": import_archive,
    "naslib-zc-nb201": partial(import_zero_cost, space="nb201"),
    "naslib-zc-transnas-micro": partial(import_zero_cost, space="transnas_micro"),
    "naslib-zc-transnas-macro": partial(import_zero_cost, space="transnas_macro"),
    "transnas-api-micro": partial(import_transnas_api, space="micro"),
    "transnas-api-macro": partial(import_transnas_api, space="macro"),
}


def importer_named(name: str) -> Callable[[str | Path], Table]:
    """The import function registered as ``name``; ``KeyError`` lists the known ones."""
    try:
        return IMPORTERS[name]
    except KeyError:
        raise KeyError(
            f"unknown importer {name!r}; registered: {', '.join(sorted(IMPORTERS))} "
            "(add one to tabular_bench.importers.IMPORTERS)"
        ) from None


__all__ = ["IMPORTERS", "import_archive", "import_csv", "import_transnas_api",
           "import_zero_cost", "importer_named"]
