"""Performance benchmarks against the raw libraries, what `make bench` runs
(docs/BENCHMARKS.md): ``python -m bench.perf.<name>``."""
