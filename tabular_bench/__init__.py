"""Tabular and surrogate NAS benchmarks: search spaces, table store, importers, builder."""
