"""The settings that determine a training run's result, recorded in its folder and checked.

A job's output folder is deterministic (``runs/<experiment>``), so running a command again
resumes. Resuming must never mix two configurations: the first run writes the resolved
settings to ``job_settings.json``, and a later run in the same folder with any other value
is refused before work starts. What goes in is everything that changes the result: the
data (by content, not by path), the network and meta-learner with every keyword including
defaults, the episode shapes, the seed and the iteration counts. What may change between
resumes is left out, because it changes the result at most by floating-point rounding or
not at all: device, CPU threads, checkpoint and log intervals.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tabular_bench.atomic_io import atomic_write_text
from tasks.episodes import FewShotPool

SETTINGS_FILE = "job_settings.json"


def jsonable(value: Any) -> Any:
    """``value`` as JSON data: sequences become lists (so a tuple equals a list), callables
    their :func:`describe_call`, anything else unknown its ``repr``."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, Sequence):
        return [jsonable(v) for v in value]
    if callable(value):
        return describe_call(value)
    return repr(value)


def describe_call(factory: Callable[..., Any]) -> dict[str, Any]:
    """Target and every keyword of ``factory`` (a function, class or ``functools.partial``),
    defaults included, so that a changed default is a changed setting too."""
    func, args, keywords = factory, (), {}
    if isinstance(factory, functools.partial):
        func, args, keywords = factory.func, factory.args, dict(factory.keywords)
    resolved = dict(keywords)
    try:
        parameters = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature: its keywords only
        parameters = []
    for p in parameters:
        if p.name not in resolved and p.default is not inspect.Parameter.empty:
            resolved[p.name] = p.default
    name = getattr(func, "__qualname__", type(func).__qualname__)
    return {
        "target": f"{getattr(func, '__module__', '?')}.{name}",
        "args": jsonable(args),
        "kwargs": jsonable(dict(sorted(resolved.items()))),
    }


def pool_identity(pool: FewShotPool) -> dict[str, Any]:
    """A meta-split's data by content: class names, sizes and a hash of every pixel.

    The hash makes the data protocol (split seed, rotations, inversion, resizing) part of
    the settings without knowing which task distribution built the pool.
    """
    pixels = pool.data.detach().cpu().contiguous().numpy()
    identity = {
        "classes": pool.num_classes,
        "samples_per_class": pool.samples_per_class,
        "image_shape": list(pool.image_shape),
        "dtype": str(pool.data.dtype),
        "class_names_sha256": hashlib.sha256("\n".join(pool.class_names).encode()).hexdigest(),
        "pixels_sha256": hashlib.sha256(pixels.data).hexdigest(),
    }
    if pool.counts is not None:
        identity["counts_sha256"] = hashlib.sha256(pool.counts.numpy().tobytes()).hexdigest()
    return identity


def ensure_settings(out_dir: Path, settings: Mapping[str, Any], *, outputs: Sequence[str]) -> None:
    """Record ``settings`` in ``out_dir``, or raise if the folder holds another run's.

    :param outputs: file names of the job's results; a folder that has one of them but no
        settings record (an older version wrote it) is refused too, since nothing says which
        configuration produced it.
    :raises ValueError: naming the differing settings and the fix.
    """
    path = Path(out_dir) / SETTINGS_FILE
    current = jsonable(settings)
    fix = "use another out_dir=, or delete that folder to start over"
    if path.exists():
        try:
            recorded = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise ValueError(f"{path} is not valid JSON ({err}); {fix}") from err
        if recorded != current:
            differ = sorted(k for k in recorded.keys() | current.keys()
                            if recorded.get(k) != current.get(k))
            raise ValueError(
                f"{out_dir} holds a run with other settings (differing: {', '.join(differ)}; "
                f"recorded in {path}); {fix}"
            )
        return
    found = [name for name in outputs if (Path(out_dir) / name).exists()]
    if found:
        raise ValueError(
            f"{out_dir} holds {', '.join(found)} but no {SETTINGS_FILE} to check them "
            f"against; {fix}"
        )
    atomic_write_text(path, json.dumps(current, indent=1, sort_keys=True) + "\n")


def open_run(
    out_dir: Path, settings: Mapping[str, Any], *, outputs: Sequence[str], finished: str
) -> bool:
    """Create ``out_dir`` and check or record ``settings`` (:func:`ensure_settings`).

    :returns: True when the run already finished (``finished`` exists), so the job returns
        at once and a repeated command is a no-op.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ensure_settings(out_dir, settings, outputs=outputs)
    return (out_dir / finished).exists()
