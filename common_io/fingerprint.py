"""One settings fingerprint for every job: JSON data that changes when a result would.

A resumed run must never mix two configurations, so each job records the settings that
determine its result and refuses a folder recorded with other ones
(:func:`common_io.run_folder.check_settings`). Factories (strategies, learners,
backbones) are described with every keyword *including defaults*: a changed default is a
changed setting too.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any


def fingerprint(value: Any) -> Any:
    """``value`` as JSON data: sequences become lists (so a tuple equals a list), callables
    their :func:`describe_call`, anything else unknown its ``repr``."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): fingerprint(v) for k, v in value.items()}
    if isinstance(value, Sequence):
        return [fingerprint(v) for v in value]
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
        "args": fingerprint(args),
        "kwargs": fingerprint(dict(sorted(resolved.items()))),
    }


MISSING = "(absent)"


def differences(old: Any, new: Any, prefix: str = "") -> list[tuple[str, Any, Any]]:
    """(dotted key, old, new) of every leaf that differs between two JSON values.

    Two calls of different targets differ by their target alone (their keywords are not
    comparable).
    """
    if isinstance(old, dict) and isinstance(new, dict):
        if "target" in old and "target" in new and old["target"] != new["target"]:
            return [(f"{prefix}.target" if prefix else "target", old["target"], new["target"])]
        out = []
        for key in sorted(set(old) | set(new), key=str):
            where = f"{prefix}.{key}" if prefix else str(key)
            out += differences(old.get(key, MISSING), new.get(key, MISSING), where)
        return out
    return [] if old == new else [(prefix or "settings", old, new)]
