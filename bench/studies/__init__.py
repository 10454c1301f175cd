"""One-off studies behind the numbers the docs cite (docs/studies/, EVALUATION.md,
RETRIEVAL.md, RELEVANCE_THRESHOLD.md, SECURITY.md): ``python -m bench.studies.<name>``."""
