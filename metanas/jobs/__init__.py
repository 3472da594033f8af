"""The job layer shared by every ``python -m metanas.run`` job.

A job (:class:`~metanas.jobs.job.Job`) validates its settings when built and does its work
in ``run(out_dir)``. Its output folder is a :class:`~common_io.run_folder.RunFolder`:
one exclusive lock per command, one settings record checked on every resume (one
fingerprint, :func:`~common_io.fingerprint.fingerprint`, defaults included), atomic
writes and a finished marker. Search-like jobs also share one sharded-search engine
(:mod:`metanas.runner.sharded_search`).
"""
