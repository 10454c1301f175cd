"""End to end through the installed `rag` command, each step a real process."""

import json
from pathlib import Path

from tests.support.cli import assert_one_line_error, rag
from tests.support.pdfs import COURSE_PAGES, make_pdf


def test_ingest_ask_list_delete(env: dict[str, str], course_pdf: Path, tmp_path: Path) -> None:
    folder = course_pdf.parent
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog")

    first = rag("ingest", str(folder), env=env)
    assert first.returncode == 3, first.stderr  # one file failed, the other went in
    assert "Ingested 1 file(s): 3 pages" in first.stdout
    assert "failed: broken.pdf: damaged or truncated PDF" in first.stderr
    assert "Traceback" not in first.stderr

    again = rag("ingest", str(course_pdf), "--json", env=env)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["unchanged"] == ["astronomy.pdf"]

    listed = json.loads(rag("docs", "--json", env=env).stdout)
    assert [(d["source"], d["pages"]) for d in listed] == [("astronomy.pdf", 3)]
    chunks = listed[0]["chunks"]
    assert chunks >= 3

    asked = rag("ask", "How wide is the mirror of the main telescope?", "--json", env=env)
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert answer["answer"]
    assert answer["sources"][0]["source"] == "astronomy.pdf"
    assert answer["sources"][0]["page"] == 3
    assert set(answer["sources"][0]) >= {"source", "page", "text", "score"}
    assert {"first_token_s", "total_s", "tokens_per_s"} <= set(answer["timings"])

    streamed = rag("ask", "Who founded the Lumora Observatory?", "--k", "2", env=env)
    assert streamed.returncode == 0, streamed.stderr
    assert "astronomy.pdf, page 2" in streamed.stdout

    # The same file edited on its first page: the other pages keep their vectors.
    edited = make_pdf(
        tmp_path / "v2" / "astronomy.pdf", ["Astronomy 101, unit 3, revised.", *COURSE_PAGES[1:]]
    )
    changed = rag("ingest", str(edited), env=env)
    assert changed.returncode == 0, changed.stderr
    assert "Ingested 1 file(s): 3 pages" in changed.stdout
    assert "Chunks kept from earlier versions (not embedded again): 2." in changed.stdout
    chunks = json.loads(rag("docs", "--json", env=env).stdout)[0]["chunks"]

    deleted = rag("docs", "delete", "astronomy.pdf", env=env)
    assert deleted.returncode == 0 and f"({chunks} chunks)" in deleted.stdout
    assert json.loads(rag("docs", "--json", env=env).stdout) == []
    assert_one_line_error(rag("docs", "delete", "astronomy.pdf", env=env), "not in the store")


def test_errors_are_one_line(env: dict[str, str], course_pdf: Path, tmp_path: Path) -> None:
    assert_one_line_error(rag("ask", "anything?", env=env), "No documents")

    missing = rag("ingest", str(tmp_path / "nowhere.pdf"), env=env)
    assert missing.returncode == 3 and "nowhere.pdf: no such file" in missing.stderr

    bad_model = {**env, "RAG_LLM__MODEL_PATH": str(tmp_path / "nope.gguf")}
    assert rag("ingest", str(course_pdf), env=env).returncode == 0
    assert_one_line_error(rag("ask", "Who?", env=bad_model), "nope.gguf: file not found")

    not_gguf = tmp_path / "fake.gguf"
    not_gguf.write_text("hello")
    assert_one_line_error(
        rag("ask", "Who?", env={**env, "RAG_LLM__MODEL_PATH": str(not_gguf)}), "not a GGUF"
    )
    assert_one_line_error(rag("ask", "x", env={**env, "RAG_RETRIEVAL__K": "0"}), "retrieval.k")
    assert_one_line_error(
        rag("--config", str(tmp_path / "none.toml"), "docs", env=env), "none.toml: not found"
    )


def test_doctor_reports_models(env: dict[str, str]) -> None:
    result = rag("doctor", "--json", env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["chat_model"].endswith("SmolLM2-135M-Instruct.Q4_1.gguf")
    assert report["chat_model_mb"] > 50
    assert report["embedder_device"] == "cpu"
    assert report["embedder_mb"] > 50 and "cpu" in report["torch_devices"]
    assert report["vector_store"].startswith("embedded ") and report["llm"].startswith("in-process")
    assert "CPU" in report["llama_cpp_build"] and report["model_layers"] > 0
    if report["gpu_offload_supported"]:  # a GPU build: every layer by default
        assert report["gpu_layers"] == -1 and report["gpu_offload_active"] is True
        assert "layers on the GPU" in report["gpu"]
    else:  # a CPU-only build (this machine): no layer asked of the GPU, and it says so
        assert report["gpu_layers"] == 0 and report["gpu_offload_active"] is False
        assert "cannot offload" in report["gpu"]


def test_changed_file_replaces_old_version(env: dict[str, str], tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "[draft] notes.pdf", ["Version one mentions the Kestrel bridge."])
    assert rag("ingest", str(pdf), env=env).returncode == 0
    make_pdf(pdf, ["Version two.", "Now the Osprey tunnel is described on page two."])
    assert rag("ingest", str(pdf), env=env).returncode == 0
    listed = json.loads(rag("docs", "--json", env=env).stdout)
    assert [(d["source"], d["pages"]) for d in listed] == [("[draft] notes.pdf", 2)]
    assert "[draft] notes.pdf" in rag("docs", env=env).stdout  # not eaten as Rich markup


def test_ui_refuses_a_busy_port(env: dict[str, str]) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert_one_line_error(rag("ui", "--port", str(port), env=env), f"127.0.0.1:{port}")


def test_ask_shows_evidence_first_and_evidence_mode_loads_no_model(
    env: dict[str, str], tmp_path: Path
) -> None:
    from rag_app.text.language import language_of
    from tests.support.pdfs import LLM_NOTES_PAGES

    notes = make_pdf(tmp_path / "notes" / "intro_llm.pdf", LLM_NOTES_PAGES)
    assert rag("ingest", str(notes), env=env).returncode == 0

    # A file that only looks like a GGUF: loading it would fail, so succeeding proves that
    # evidence mode never loads the chat model.
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\0" * 64)
    no_model = {**env, "RAG_LLM__MODEL_PATH": str(broken)}
    quoted = rag(
        "ask", "¿Cuántas capas de transformador tiene GPT-3?", "--mode", "evidence", "--json",
        env=no_model,
    )  # fmt: skip
    assert quoted.returncode == 0, quoted.stderr
    answer = json.loads(quoted.stdout)
    first = answer["evidence"][0]
    assert "96 capas de transformador" in first["text"]
    assert (first["source"], first["page"], first["number"]) == ("intro_llm.pdf", 3, 1)
    assert answer["mode"] == "evidence" and answer["generated"] is None

    english = rag("ask", "How many transformer layers does GPT-3 have?", "--json", env=env)
    assert english.returncode == 0, english.stderr
    both = json.loads(english.stdout)
    assert both["language"] == "en" and "96 capas" in both["evidence"][0]["text"]
    assert both["mode"] == "both" and both["generated"] is not None
    if both["fallback"] is None:  # the model's wording was kept: it must be English
        assert language_of(both["answer"]) in (None, "en")

    printed = rag("ask", "¿Cuántas capas de transformador tiene GPT-3?", env=env)
    assert printed.returncode == 0, printed.stderr
    text = printed.stdout
    assert text.index("Evidence (quoted from the sources):") < text.index("Sources")
    assert "[1] intro_llm.pdf, page 3:" in text
    assert "Answer (the model's wording" in text or "note: " in text

    wrong = rag("ask", "x", "--mode", "nope", env=env)
    assert_one_line_error(wrong, "answer mode 'nope': unknown")


def test_a_pdf_pypdf_refuses_is_ingested_and_cited_by_page(
    env: dict[str, str], tmp_path: Path
) -> None:
    from tests.support.bad_pdfs import huge_array

    filing = huge_array(tmp_path / "in" / "filing.pdf", COURSE_PAGES)
    ingested = rag("ingest", str(filing), env=env)
    assert ingested.returncode == 0, ingested.stderr
    assert "Ingested 1 file(s): 3 pages" in ingested.stdout
    assert "filing.pdf: pypdf could not read it" in ingested.stdout + ingested.stderr
    assert "read with the fallback reader (PDFium)" in ingested.stdout + ingested.stderr

    asked = rag(
        "ask", "Who founded the Lumora Observatory?", "--mode", "evidence", "--json", env=env
    )
    assert asked.returncode == 0, asked.stderr
    first = json.loads(asked.stdout)["evidence"][0]
    assert (first["source"], first["page"]) == ("filing.pdf", 2)
    assert "Elena" in first["text"]
