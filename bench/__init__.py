"""Benchmarks and studies: ``perf/`` (what `make bench` runs, docs/BENCHMARKS.md), ``studies/``
(one-off measurements the docs cite), ``lib.py`` (shared helpers), ``data/`` (inputs)."""
