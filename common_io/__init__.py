"""The bottom layer: atomic file writes and where the data lives.

Every package (``tasks``, ``tabular_bench``, ``metanas``) writes files atomically and finds
the data directory the same way; these modules import nothing from the project, so any
package can use them without an import cycle (``tests/test_imports.py``).
"""
