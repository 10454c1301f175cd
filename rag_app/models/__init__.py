"""The models: embedders (bundled e5 and MiniLM, or a folder), the chat model (llama.cpp in
process, or an OpenAI-compatible endpoint), GGUF headers, and the catalog `rag models` lists."""
