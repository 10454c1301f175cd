"""`python -m rag_app.llm_server`: the LLM server's name before it moved to
``rag_app.models.llm_server``, kept so deployments written for it go on working."""

from rag_app.models.llm_server import main

if __name__ == "__main__":
    main()
