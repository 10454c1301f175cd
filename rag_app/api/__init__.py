"""`rag serve`: the HTTP API (OpenAI-compatible chat, documents, ask) and the lock that gives
the model to one request at a time, in arrival order."""
