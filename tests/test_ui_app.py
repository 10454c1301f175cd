"""The UI's logic through streamlit's AppTest, with the real models and a real store."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.pdfs import COURSE_PAGES, make_pdf

APP = str(Path(__file__).parents[1] / "ui" / "app.py")


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RAG_LLM__TEMPERATURE", "0")
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert not at.exception
    return at


def upload(at: AppTest, name: str, data: bytes) -> None:
    at.file_uploader(key="uploader").set_value([(name, data, "application/pdf")])
    at.run()
    assert not at.exception


def ask(at: AppTest, question: str) -> None:
    at.chat_input(key="chat_input").set_value(question).run()
    assert not at.exception


def all_text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += (
        [e.value for e in at.error] + [s.value for s in at.success] + [i.value for i in at.info]
    )
    parts += [x.label for x in at.expander]
    return "\n".join(str(p) for p in parts).replace("\\", "")  # undo Markdown escaping


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

    assert app.selectbox(key="strategy").value == "hybrid"
    app.selectbox(key="strategy").set_value("similarity").run()
    ask(app, "Who founded the Lumora Observatory?")  # a follow-up turn, with history
    assert len(app.session_state["messages"]) == 4  # history kept
    trace = app.session_state["messages"][3]["answer"]["trace"]
    assert trace["strategy"] == "similarity" and trace["standalone_question"]

    upload(app, "astronomy.pdf", data)  # a second upload of the same, unchanged file
    assert "already indexed and unchanged" in all_text(app)

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
