"""Finding passages: the strategies and their fusion, the measured values per embedder, the
trace of each retriever's ranks and scores, and the store as the strategies see it."""
