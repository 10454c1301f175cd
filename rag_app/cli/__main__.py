"""`python -m rag_app.cli`: the `rag` command (what `rag ingest --background` starts)."""

from rag_app.cli import main

main()
