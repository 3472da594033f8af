"""The bottom layer: atomic file writes, where the data lives, run folders and settings.

Every package (``tasks``, ``tabular_bench``, ``metanas``) writes files atomically, finds the
data directory, and refuses to resume a folder of another configuration the same way
(:func:`~common_io.run_folder.check_settings` over one
:func:`~common_io.fingerprint.fingerprint`); these modules import nothing from the other
packages, so any package can use them without an import cycle (``tests/test_imports.py``).
"""
