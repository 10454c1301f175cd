"""Performance benchmarks against the raw libraries (docs/BENCHMARKS.md)."""
