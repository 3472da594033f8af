"""Search strategies with an ask/tell interface (see :mod:`metanas.strategies.base`)."""
