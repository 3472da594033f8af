"""Search spaces behind one interface (:class:`SearchSpace`), found by name.

A table stores its space's name; :func:`space_named` maps it back, so loading a table
never branches on names. A new space is one module plus one :data:`SPACES` entry.
"""

from tabular_bench.spaces.base import SearchSpace
from tabular_bench.spaces.cell import CellSearchSpace
from tabular_bench.spaces.nb201 import NB201, NB201Space
from tabular_bench.spaces.subset import SubsetSpace
from tabular_bench.spaces.transnas import TRANSNAS_MACRO, TRANSNAS_MICRO

SPACES: dict[str, SearchSpace] = {
    space.name: space for space in (NB201, TRANSNAS_MICRO, TRANSNAS_MACRO)
}


def space_named(name: str) -> SearchSpace:
    """The registered space called ``name``; ``KeyError`` lists the known ones."""
    try:
        return SPACES[name]
    except KeyError:
        raise KeyError(
            f"unknown search space {name!r}; registered: {', '.join(sorted(SPACES))} "
            "(add one to tabular_bench.spaces.SPACES)"
        ) from None


__all__ = [
    "NB201", "SPACES", "TRANSNAS_MACRO", "TRANSNAS_MICRO", "CellSearchSpace", "NB201Space",
    "SearchSpace", "SubsetSpace", "space_named",
]
