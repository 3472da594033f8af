"""Runner: search jobs over benchmarks, sharded trace store, resume, parallel seeds.

:mod:`~metanas.runner.sharded_search` is the engine every search-like job configures
(planning, per-folder settings checks, parallel shards, orphaned-worker clean-up);
:mod:`~metanas.runner.search_job` is the plain search.
"""
