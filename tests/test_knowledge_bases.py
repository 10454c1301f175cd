"""Knowledge bases: separate sets of documents in one data dir, with the real embedder, model
and Chroma; and the `rag kb` commands as real processes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag_app.errors import RagError
from rag_app.knowledge import delete_knowledge_base, knowledge_bases, with_knowledge_base
from rag_app.retrieval.strategies import STRATEGIES
from rag_app.service import RagService
from rag_app.settings import Settings
from tests.pdfs import COURSE_PAGES, make_pdf
from tests.test_cli import assert_one_line_error, env, rag  # noqa: F401  (env: a fixture)
from tests.test_strategies import CITY, OTHER_CITY


@pytest.fixture
def two_bases(settings: Settings, real_models: tuple) -> tuple[RagService, RagService]:
    """The default knowledge base holds one city's guide, "Papers" the other's."""
    embeddings, chat = real_models
    knowledge_bases(settings).create("Papers")
    default = RagService(settings, embeddings=embeddings, chat_model=chat)
    papers = RagService(
        with_knowledge_base(settings, "papers"), embeddings=embeddings, chat_model=chat
    )
    default.ingest_texts([("ciudad", CITY)])
    papers.ingest_texts([("otra", OTHER_CITY)])
    return default, papers


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_question_in_one_knowledge_base_never_sees_another(
    two_bases: tuple[RagService, RagService], strategy: str
) -> None:
    default, papers = two_bases
    question = "¿Quién fundó la universidad?"
    assert {s.source for s in papers.retrieve(question, k=8, strategy=strategy)} == {"otra"}
    assert {s.source for s in default.retrieve(question, k=8, strategy=strategy)} == {"ciudad"}


def test_deleting_a_knowledge_base_leaves_the_others_intact(
    settings: Settings, two_bases: tuple[RagService, RagService]
) -> None:
    default, _ = two_bases
    base, chunks = delete_knowledge_base(settings, "PAPERS")
    assert (base.name, chunks) == ("Papers", len(OTHER_CITY))
    assert [kb.name for kb in knowledge_bases(settings).all()] == ["default"]
    assert [d.source for d in default.documents()] == ["ciudad"]
    assert "Gelmírez" in default.ask("¿Quién fundó la universidad?", mode="evidence").answer
    with pytest.raises(RagError, match="knowledge base 'Papers': not found"):
        with_knowledge_base(settings, "Papers")
    # The name is free again, and the new knowledge base starts empty.
    knowledge_bases(settings).create("Papers")
    assert RagService(with_knowledge_base(settings, "Papers")).documents() == []


def test_names_are_checked(settings: Settings) -> None:
    bases = knowledge_bases(settings)
    bases.create("Sistemas Inteligentes")
    with pytest.raises(RagError, match="already exists"):
        bases.create("  sistemas   INTELIGENTES ")
    with pytest.raises(RagError, match="1 to 60 printable characters"):
        bases.create("x" * 61)
    with pytest.raises(RagError, match="'default': cannot be deleted"):
        delete_knowledge_base(settings, "default")
    with pytest.raises(RagError, match="'default': cannot be renamed"):
        bases.rename("default", "Main")
    assert bases.rename("sistemas inteligentes", "SI 2026").name == "SI 2026"
    assert [kb.name for kb in bases.all()] == ["default", "SI 2026"]


def test_knowledge_bases_from_the_command_line(
    env: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    course = make_pdf(tmp_path / "in" / "astronomy.pdf", COURSE_PAGES)
    assert rag("kb", "create", "Astronomía", env=env).returncode == 0
    ingested = rag("--kb", "astronomía", "ingest", str(course), env=env)
    assert ingested.returncode == 0, ingested.stderr

    listed = json.loads(rag("kb", "list", "--json", env=env).stdout)
    assert listed == [
        {"name": "default", "documents": 0, "chunks": 0},
        {"name": "Astronomía", "documents": 1, "chunks": listed[1]["chunks"]},
    ]
    assert json.loads(rag("docs", "--json", env=env).stdout) == []  # default: untouched

    assert rag("kb", "rename", "Astronomía", "Astro 101", env=env).returncode == 0
    asked = rag(
        "--kb", "Astro 101", "ask", "Who founded the Lumora Observatory?", "--mode", "evidence",
        "--json", env=env,
    )  # fmt: skip
    assert asked.returncode == 0, asked.stderr
    assert json.loads(asked.stdout)["evidence"][0]["source"] == "astronomy.pdf"

    assert_one_line_error(rag("--kb", "Nope", "docs", env=env), "knowledge base 'Nope': not found")
    refused = rag(
        "kb",
        "delete",
        "Astro 101",
        env={**env},
    )  # no --yes, no terminal: refused
    assert refused.returncode == 1 and "Nothing deleted" in refused.stderr
    deleted = rag("kb", "delete", "Astro 101", "--yes", env=env)
    assert deleted.returncode == 0 and "Deleted knowledge base 'Astro 101'" in deleted.stdout
    assert [kb["name"] for kb in json.loads(rag("kb", "list", "--json", env=env).stdout)] == [
        "default"
    ]
