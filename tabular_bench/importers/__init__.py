"""Converters from published benchmark files to :class:`~tabular_bench.store.Table`.

One module per source; :data:`IMPORTERS` maps the CLI name to its import function
(``python -m tabular_bench.importers NAME SRC DST.h5``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tabular_bench.importers.nats_bench import import_archive
from tabular_bench.importers.nb201_csv import import_csv
from tabular_bench.store import Table

IMPORTERS: dict[str, Callable[[str | Path], Table]] = {
    "nb201-csv": import_csv,
    "nats": import_archive,
}

__all__ = ["IMPORTERS", "import_archive", "import_csv"]
