"""Where real data lives: one environment variable for the whole project.

``METANAS_DATA`` names the data directory. Without it, ``../shared/data`` (relative to the
working directory, then to the repository root) is used when it exists.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "METANAS_DATA"
CACHE_ENV_VAR = "METANAS_CACHE"
_REPO_ROOT = Path(__file__).resolve().parent.parent


class DataNotFoundError(FileNotFoundError):
    """Raised when a data file is missing; the message says where to get it."""


def data_root() -> Path:
    """Return the data directory (``$METANAS_DATA`` or ``../shared/data``)."""
    if env := os.environ.get(ENV_VAR):
        return Path(env).expanduser().resolve()
    for base in (Path.cwd(), _REPO_ROOT):
        candidate = (base / ".." / "shared" / "data").resolve()
        if candidate.is_dir():
            return candidate
    return (_REPO_ROOT / ".." / "shared" / "data").resolve()


def data_file(relative: str, *, origin: str) -> Path:
    """Resolve ``relative`` under the data root or raise with instructions.

    :param relative: path below the data root, e.g. ``"nb201/nb201_all.csv.gz"``.
    :param origin: where the official file comes from, quoted in the error.
    """
    path = data_root() / relative
    if not path.exists():
        raise DataNotFoundError(
            f"missing data file {path}.\n"
            f"  It comes from: {origin}\n"
            f"  Put it there, or point the harness at your data directory with "
            f"`export {ENV_VAR}=/path/to/data` (expected layout: <data>/{relative})."
        )
    return path


def cache_root(override: str | Path | None = None) -> Path:
    """Where decoded datasets and converted tables are cached: ``override``, else
    ``$METANAS_CACHE``, else ``~/.cache/metanas``."""
    root = override or os.environ.get(CACHE_ENV_VAR) or Path.home() / ".cache" / "metanas"
    return Path(root).expanduser()
