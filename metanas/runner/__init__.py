"""Runner: search jobs over benchmarks, sharded trace store, resume, parallel seeds."""
