"""The UI's logic through streamlit's AppTest, with the real models and a real store."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.support.apptest import APP, all_text, ask, block_text, keys_in_order, upload
from tests.support.pdfs import COURSE_PAGES, make_pdf


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RAG_LLM__TEMPERATURE", "0")
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert not at.exception
    return at


def test_empty_store_says_upload_first(app: AppTest) -> None:
    ask(app, "What is this about?")
    assert "upload PDFs first" in all_text(app)


def test_upload_ask_reupload_delete(app: AppTest, tmp_path: Path) -> None:
    data = make_pdf(tmp_path / "astronomy.pdf", COURSE_PAGES).read_bytes()
    upload(app, "astronomy.pdf", data)
    assert "Indexed 1 file(s): 3 pages" in all_text(app)
    assert "Documents (1)" in all_text(app)

    ask(app, "How wide is the mirror of the main telescope?")
    text = all_text(app)
    assert "astronomy.pdf, page 3" in text
    assert len(app.session_state["messages"]) == 2
    evidence = block_text(app, "evidence-1")  # quoted first, with its file and page
    assert "Evidence (quoted from your documents)" in evidence
    assert "[1] astronomy.pdf, page 3" in evidence and "2.4 metres wide" in evidence
    order = keys_in_order(app)
    assert order.index("evidence-1") < order.index("assistant-1") < order.index("source-1-1")
    stored = app.session_state["messages"][1]["answer"]
    assert stored["mode"] == "both" and stored["evidence"][0]["page"] == 3

    assert app.selectbox(key="strategy").value == "hybrid"
    app.selectbox(key="strategy").set_value("similarity").run()
    ask(app, "Who founded the Lumora Observatory?")  # a follow-up turn, with history
    assert len(app.session_state["messages"]) == 4  # history kept
    trace = app.session_state["messages"][3]["answer"]["trace"]
    assert trace["strategy"] == "similarity" and trace["standalone_question"]
    assert "2.4 metres wide" in block_text(app, "evidence-1")  # the earlier turn, re-drawn
    assert "astronomy.pdf, page 2" in block_text(app, "evidence-3")

    upload(app, "astronomy.pdf", data)  # a second upload of the same, unchanged file
    assert all_text(app).count("already indexed and unchanged") == 1
    assert "Indexed 1 file(s)" not in all_text(app)  # the first upload's line is gone
    ask(app, "Who directed the Lumora Observatory?")
    assert "already indexed and unchanged" not in all_text(app)  # once per upload

    edited = make_pdf(tmp_path / "v2.pdf", [*COURSE_PAGES[:2], "Instruments, revised."])
    upload(app, "astronomy.pdf", edited.read_bytes())  # the same file, its last page edited
    assert "2 passage(s) unchanged from the earlier version kept their vectors" in all_text(app)
    assert "Documents (1)" in all_text(app)

    app.button(key="clear_chat").click().run()
    assert app.session_state["messages"] == []

    doc_buttons = [b for b in app.button if str(b.key).startswith("delete-")]
    doc_buttons[0].click().run()
    assert "Delete astronomy.pdf and all its passages?" in [w.value for w in app.warning]
    app.button(key="confirm_delete").click().run()
    assert "Documents (0)" in all_text(app)


def test_bad_upload_says_which_file_and_why(app: AppTest, tmp_path: Path) -> None:
    good = make_pdf(tmp_path / "good.pdf", ["The Kestrel bridge is 40 metres long."]).read_bytes()
    app.file_uploader(key="uploader").set_value(
        [
            ("../../evil.pdf", b"not a pdf at all", "application/pdf"),
            ("good.pdf", good, "application/pdf"),
        ]
    )
    app.run()
    errors = [e.value.replace("\\", "") for e in app.error]  # shown Markdown-escaped
    assert any("evil.pdf: not a PDF" in e for e in errors), errors
    assert "Indexed 1 file(s)" in all_text(app)
    assert not (tmp_path.parent / "evil.pdf").exists()


def test_spanish_interface(app: AppTest) -> None:
    app.selectbox(key="language").set_value("es").run()
    assert "Pregunta a tus PDF" in [t.value for t in app.title]
    ask(app, "¿De qué trata?")
    assert "sube primero algún PDF" in all_text(app)


def test_document_names_are_not_rendered_as_markdown(app: AppTest, tmp_path: Path) -> None:
    data = make_pdf(tmp_path / "x.pdf", ["Some text about rivers and mountains."]).read_bytes()
    upload(app, "a__bold__b.pdf", data)
    names = [str(m.value) for m in app.markdown if "bold" in str(m.value)]
    assert names and all("a\\_\\_bold\\_\\_b\\.pdf" in n for n in names), names


def test_models_panel_reports_backends_and_offload(app: AppTest) -> None:
    text = all_text(app)
    assert "llm: in-process (llama-cpp-python)" in text
    assert "vector_store: embedded" in text and "embedder_device: cpu" in text
    assert "llama_cpp_build: CPU" in text
    assert "gpu: " in text and ("cannot offload" in text or "layers on the GPU" in text)


def test_evidence_mode_shows_only_the_evidence(app: AppTest, tmp_path: Path) -> None:
    upload(app, "astronomy.pdf", make_pdf(tmp_path / "a.pdf", COURSE_PAGES).read_bytes())
    app.selectbox(key="answer_mode").set_value("evidence").run()
    ask(app, "Who founded the Lumora Observatory?")
    for _ in range(2):  # as streamed in, then re-drawn from the stored answer
        evidence = block_text(app, "evidence-1")
        assert "[1] astronomy.pdf, page 2" in evidence and "Elena Vasquez" in evidence
        with pytest.raises(KeyError):  # no empty section for a model that was not asked
            app.get_by_key("assistant-1")
        assert "The model's wording" not in all_text(app)
        app.run()
    answer = app.session_state["messages"][1]["answer"]
    assert answer["mode"] == "evidence" and answer["generated"] is None


def test_knowledge_bases_and_the_document_filter(app: AppTest, tmp_path: Path) -> None:
    from tests.support.pdfs import SPANISH_PAGES

    app.text_input(key="new_kb_name").set_value("Papers")
    app.button(key="create_kb").click().run()
    assert not app.exception
    assert app.selectbox(key="knowledge_base").value == "Papers"
    upload(app, "astronomy.pdf", make_pdf(tmp_path / "a.pdf", COURSE_PAGES).read_bytes())
    upload(app, "biologia.pdf", make_pdf(tmp_path / "b.pdf", SPANISH_PAGES).read_bytes())
    assert "Documents (2)" in all_text(app)

    app.selectbox(key="knowledge_base").set_value("default").run()
    assert "Documents (0)" in all_text(app)  # the other knowledge base is apart
    app.selectbox(key="knowledge_base").set_value("Papers").run()
    assert "Documents (2)" in all_text(app)

    app.selectbox(key="answer_mode").set_value("evidence").run()
    question = "Who founded the Lumora Observatory?"
    app.multiselect(key="only_documents").set_value(["astronomy.pdf"]).run()
    ask(app, question)
    sources = app.session_state["messages"][-1]["answer"]["sources"]
    assert sources and {s["source"] for s in sources} == {"astronomy.pdf"}
    app.multiselect(key="only_documents").set_value(["biologia.pdf"]).run()
    ask(app, question)
    sources = app.session_state["messages"][-1]["answer"]["sources"]
    assert "astronomy.pdf" not in {s["source"] for s in sources}


def test_another_page_names_the_uploads_not_indexed_yet(app: AppTest) -> None:
    """Dropped, then the page left before the chat page could index them: the other page says
    so, and leaves them waiting."""
    app.session_state["waiting_uploads"] = {"id-1": ("notes_v2.md", b"# Notes")}
    app.switch_page("evaluation_page.py").run()
    assert not app.exception
    notes = [str(i.value).replace("\\", "") for i in app.sidebar.info]
    assert "Not indexed yet: notes_v2.md. They will be when you go back to Chat." in notes
    assert set(app.session_state["waiting_uploads"]) == {"id-1"}


def test_evidence_mode_loads_no_chat_model_until_an_answer_needs_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui.services import forget_chat_model

    forget_chat_model()  # models are per process: another test may have loaded it
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RAG_ANSWER__MODE", "evidence")
    monkeypatch.setenv("RAG_RETRIEVAL__STRATEGY", "hybrid")  # writes nothing with a model
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert not at.exception
    upload(at, "astronomy.pdf", make_pdf(tmp_path / "a.pdf", COURSE_PAGES).read_bytes())
    ask(at, "How wide is the mirror of the main telescope?")
    assert "2.4 metres wide" in block_text(at, "evidence-1")
    at.run()  # the sidebar drawn after the answer
    assert "the chat model is not loaded yet" in all_text(at)

    at.selectbox(key="answer_mode").set_value("both").run()
    ask(at, "Who founded the Lumora Observatory?")  # needs the model: loaded for it
    assert at.session_state["messages"][3]["answer"]["mode"] == "both"
    at.run()
    assert "the chat model is not loaded yet" not in all_text(at)
