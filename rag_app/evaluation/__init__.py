"""Evaluation of the whole pipeline: QA sets in, Ragas-style scores and reports out.

``dataset`` reads QA sets, ``metrics`` holds the pure (non-LLM) estimators, ``judge`` the
LLM-judged ones, ``runner`` asks the questions through ``RagService`` and scores them,
``report`` writes JSON, Markdown and HTML, ``schema`` types the rows and the report,
``generate`` makes a synthetic QA set.
``benchmark`` measures retrieval alone on public corpora (BEIR, SQuAD): ``rag bench retrieval``.
"""
