"""Knowledge bases: their names are checked (no model is loaded)."""

from __future__ import annotations

import pytest

from rag_app.errors import RagError
from rag_app.knowledge import delete_knowledge_base, knowledge_bases
from rag_app.settings import Settings


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
