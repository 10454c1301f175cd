"""The sidebar's folder panel (ui/folders.py) through AppTest: what it shows of a linked
folder, "Sync now", and linking a folder that is not there."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from rag_app.folders import FolderSync, link_folder
from rag_app.service import RagService
from rag_app.settings import load_settings
from tests.support.embeddings import BagOfWordsEmbeddings


def panel_app(data_dir: Path, language: str = "en") -> AppTest:
    def script(data_dir: str, language: str) -> None:  # run on its own: builds its service
        from rag_app.service import RagService
        from rag_app.settings import load_settings
        from tests.support.embeddings import BagOfWordsEmbeddings
        from ui import folders

        settings = load_settings(data_dir=data_dir)
        settings = settings.model_copy(
            update={"ingest": settings.ingest.model_copy(update={"sync_settle_s": 0.05})}
        )
        folders.folder_panel(RagService(settings, embeddings=BagOfWordsEmbeddings()), language)

    at = AppTest.from_function(
        script, kwargs={"data_dir": str(data_dir), "language": language}, default_timeout=30
    )
    at.run()
    assert not at.exception, at.exception
    return at


def test_the_panel_shows_the_folder_and_syncs_it(tmp_path: Path) -> None:
    data, notes = tmp_path / "data", tmp_path / "notes"
    notes.mkdir()
    (notes / "cells.md").write_text("Cells divide by mitosis.", encoding="utf-8")
    (notes / "plants.md").write_text("Plants make sugar from light.", encoding="utf-8")
    settings = load_settings(data_dir=data)
    service = RagService(settings, embeddings=BagOfWordsEmbeddings())
    link_folder(settings, notes)
    FolderSync(service).run()
    (notes / "plants.md").unlink()
    FolderSync(service).run()

    at = panel_app(data)
    shown = "\n".join(m.value for m in at.sidebar.markdown).replace("\\", "")  # unescaped
    assert f"Follows **{notes}**" in shown and "- plants.md" in shown
    assert "1 file(s) gone from the folder" in at.sidebar.warning[0].value
    assert at.sidebar.expander[0].label == "Gone files (1)"
    assert at.sidebar.caption[0].value.startswith("Last sync: ")

    (notes / "plants.md").write_text("Plants make sugar from light.", encoding="utf-8")
    (notes / "soil.md").write_text("Soil holds water and minerals.", encoding="utf-8")
    at.sidebar.button(key="folder_sync_now").click().run()
    assert not at.exception
    assert at.sidebar.success[0].value.startswith("Synced: 1 added, 0 changed, 0 renamed, 0 gone")
    assert not at.sidebar.warning  # nothing gone any more
    assert sorted(d.source for d in service.documents()) == ["cells.md", "plants.md", "soil.md"]


def test_linking_a_folder_that_is_not_there_is_one_line_in_spanish(tmp_path: Path) -> None:
    at = panel_app(tmp_path / "data", "es")
    assert "no sigue ninguna carpeta" in at.sidebar.caption[0].value
    at.sidebar.text_input(key="folder_path").input(str(tmp_path / "nope"))
    at.sidebar.button(key="folder_link").click().run()
    (error,) = at.sidebar.error
    assert "not found; give an existing folder" in error.value and "\n" not in error.value

    (tmp_path / "apuntes").mkdir()
    at.sidebar.text_input(key="folder_path").input(str(tmp_path / "apuntes"))
    at.sidebar.button(key="folder_link").click().run()
    assert not at.exception and not at.sidebar.error
    assert "Aún sin sincronizar." in [c.value for c in at.sidebar.caption]
