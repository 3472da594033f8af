"""Import the official NATS-Bench topology archive (``NATS-tss-v1_0-3ffb9-simple``).

The archive is a directory: ``meta.pickle.pbz2`` (bz2-compressed pickle whose
``meta_archs`` lists the 15,625 architecture strings in official index order) and one
``{index:06d}.pickle.pbz2`` per architecture (a dict ``{"12": ..., "200": ...}`` of
``ArchResults`` state dicts, one per training schedule). It is read through the official
``nats_bench`` package (``pip install nats_bench``), so this module only maps its results
to a :class:`Table`, with the same tasks and metrics as :mod:`.nb201_csv`:

* per-seed values at both fidelities (the CSV has only seed means at 12 epochs);
* cost = epochs x the recorded per-epoch training time of that task's own training run
  (``cifar10-valid`` really trained on 25k images, so no halving is needed).

Architectures without a file (a partial archive) are left out of the table.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import numpy as np

from tabular_bench.spaces.nb201 import NB201
from tabular_bench.store import Provenance, Table, TaskData

FIDELITIES = (12, 200)
META_FILE = "meta.pickle.pbz2"
_ARCH_FILE = re.compile(r"(\d{6})\.pickle\.pbz2")
# task -> (NATS dataset name, ((metric, NATS eval-set name), ...))
_TASKS = {
    "cifar10-valid": ("cifar10-valid", (("valid_acc", "x-valid"),)),
    "cifar10": ("cifar10", (("test_acc", "ori-test"),)),
    "cifar100": ("cifar100", (("valid_acc", "x-valid"), ("test_acc", "x-test"))),
    "ImageNet16-120": ("ImageNet16-120", (("valid_acc", "x-valid"), ("test_acc", "x-test"))),
}


def import_archive(directory: str | Path) -> Table:
    """Read a NATS-Bench topology archive directory into a table (official index order)."""
    directory = Path(directory)
    api = _open_api(directory)
    indices = archived_indices(directory)
    if not indices:
        raise ValueError(f"{directory} holds no per-architecture files (NNNNNN.pickle.pbz2)")
    strings = np.asarray([api.meta_archs[i] for i in indices])
    codes = np.stack([NB201.from_string(s) for s in strings])
    n = len(indices)
    tasks = {task: _empty_task(n, metrics) for task, (_, metrics) in _TASKS.items()}
    for row, index in enumerate(indices):
        for f, epochs in enumerate(FIDELITIES):
            results = api.query_meta_info_by_index(index, hp=str(epochs))
            for task, (dataset, metrics) in _TASKS.items():
                _fill(tasks[task], results, dataset, metrics, row, f, epochs)
    provenance = Provenance(
        source_file=str(directory.resolve()),
        source_sha256=archive_sha256(directory),
        importer="tabular_bench.importers.nats_bench",
    )
    return Table(
        space=NB201.name,
        codes=codes,
        strings=strings,
        indices=np.asarray(indices, dtype=np.int64),
        tasks={task: _finish(parts) for task, parts in tasks.items()},
        provenance=provenance,
    )


def archived_indices(directory: Path) -> list[int]:
    """Official indices that have a per-architecture file in ``directory``."""
    return sorted(
        int(m.group(1)) for p in directory.iterdir() if (m := _ARCH_FILE.fullmatch(p.name))
    )


def archive_sha256(directory: Path) -> str:
    """sha256 over the archive's file names and bytes (provenance and cache key)."""
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.pickle.pbz2")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _open_api(directory: Path) -> Any:
    try:
        import nats_bench
    except ImportError as err:
        raise ImportError(
            "importing a NATS-Bench archive needs the official API: `pip install nats_bench`"
        ) from err
    if not (directory / META_FILE).is_file():
        raise FileNotFoundError(
            f"{directory} is not a NATS-Bench topology archive (no {META_FILE}); download "
            "NATS-tss-v1_0-3ffb9-simple.tar from https://github.com/D-X-Y/NATS-Bench and "
            "extract it"
        )
    return nats_bench.create(str(directory), "tss", fast_mode=True, verbose=False)


def _empty_task(n: int, metrics: tuple[tuple[str, str], ...]) -> dict:
    return {
        "metrics": tuple(name for name, _ in metrics),
        "values": {},  # (row, fidelity, metric) -> list of per-seed values
        "cost_s": np.full((n, len(FIDELITIES)), np.nan),
        "n": n,
    }


def _fill(
    parts: dict,
    results: Any,
    dataset: str,
    metrics: tuple[tuple[str, str], ...],
    row: int,
    f: int,
    epochs: int,
) -> None:
    """Store one architecture's per-seed values and cost at one fidelity."""
    seeds = results.get_dataset_seeds(dataset)
    for m, (_, set_name) in enumerate(metrics):
        parts["values"][row, f, m] = [
            results.get_metrics(dataset, set_name, is_random=seed)["accuracy"] for seed in seeds
        ]
    parts["cost_s"][row, f] = epochs * results.get_compute_costs(dataset)["T-train@epoch"]


def _finish(parts: dict) -> TaskData:
    n_seeds = max(len(v) for v in parts["values"].values())
    metrics = parts["metrics"]
    values = np.full((parts["n"], n_seeds, len(FIDELITIES), len(metrics)), np.nan)
    for (row, f, m), seeds in parts["values"].items():
        values[row, : len(seeds), f, m] = seeds
    return TaskData(
        values=values.astype(np.float32),
        metrics=metrics,
        fidelities=FIDELITIES,
        cost_s=parts["cost_s"].astype(np.float32),
        measured=np.ones(parts["n"], dtype=bool),
    )
