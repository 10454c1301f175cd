"""rag-app: a private, local retrieval-augmented assistant."""
