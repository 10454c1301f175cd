from pathlib import Path

import pytest

from ingest.formats import FORMATS
from ingest.loaders import clean_text, find_documents, load_pdf
from ingest.splitter import split_document
from rag_app.errors import RagError
from tests.support.pdfs import COURSE_PAGES, make_pdf


def test_pages_are_numbered_from_one(course_pdf: Path) -> None:
    pdf = load_pdf(course_pdf)
    assert pdf.name == "astronomy.pdf" and pdf.page_count == 3
    assert [p.number for p in pdf.pages] == [1, 2, 3]
    assert "Elena Vasquez" in pdf.pages[1].text
    assert len(pdf.sha256) == 64


def test_clean_text_joins_hyphenated_words_and_spaces() -> None:
    assert (
        clean_text("infor-\nmation  and\u00a0more \n\n\n\nnext") == "information and more\n\nnext"
    )


def test_chunks_keep_page_and_stable_ids(course_pdf: Path) -> None:
    pdf = load_pdf(course_pdf)
    chunks = split_document(pdf, chunk_size=120, chunk_overlap=20)
    assert {c.metadata["page"] for c in chunks} == {1, 2, 3}
    assert all(len(c.page_content) <= 120 for c in chunks)
    founder = [c for c in chunks if "Vasquez" in c.page_content]
    assert founder and all(c.metadata["page"] == 2 for c in founder)
    again = split_document(load_pdf(course_pdf), chunk_size=120, chunk_overlap=20)
    assert [c.id for c in chunks] == [c.id for c in again]
    assert len({c.id for c in chunks}) == len(chunks)


def test_changed_content_gets_new_document_id(tmp_path: Path) -> None:
    a = load_pdf(make_pdf(tmp_path / "a" / "same.pdf", COURSE_PAGES))
    b = load_pdf(make_pdf(tmp_path / "b" / "same.pdf", COURSE_PAGES[:2]))
    id_a = split_document(a, 800, 100)[0].metadata["doc_id"]
    id_b = split_document(b, 800, 100)[0].metadata["doc_id"]
    assert id_a != id_b


def _error(path: Path) -> str:
    with pytest.raises(RagError) as caught:
        load_pdf(path)
    message = str(caught.value)
    assert "\n" not in message and path.name in message
    return message


def test_bad_files_give_one_line_errors(tmp_path: Path, course_pdf: Path) -> None:
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    assert "empty" in _error(empty)

    fake = tmp_path / "notes.pdf"
    fake.write_text("just some text, not a PDF")
    assert "not a PDF" in _error(fake)

    truncated = tmp_path / "truncated.pdf"
    truncated.write_bytes(course_pdf.read_bytes()[:400])
    assert "damaged or truncated" in _error(truncated)

    blank = make_pdf(tmp_path / "scan.pdf", ["", ""])
    assert "no text layer" in _error(blank)

    locked = make_pdf(tmp_path / "locked.pdf", ["secret"], encrypt="s3cret")
    assert "password-protected" in _error(locked)

    missing = tmp_path / "missing.pdf"
    with pytest.raises(RagError, match="not found"):
        load_pdf(missing)


def test_find_documents_expands_folders_and_reports_bad_paths(
    tmp_path: Path, course_pdf: Path
) -> None:
    make_pdf(tmp_path / "pdfs" / "sub" / "two.PDF", ["two"])
    (tmp_path / "pdfs" / "readme.txt").write_text("x")
    (tmp_path / "pdfs" / "photo.jpg").write_bytes(b"\xff\xd8")
    files, errors = find_documents([tmp_path / "pdfs", course_pdf, tmp_path / "nowhere"], FORMATS)
    assert [f.name for f in files] == ["astronomy.pdf", "readme.txt", "two.PDF"]
    assert len(errors) == 1 and "nowhere" in errors[0]
    only_pdfs, _ = find_documents([tmp_path / "pdfs"], [".pdf"])
    assert [f.name for f in only_pdfs] == ["astronomy.pdf", "two.PDF"]


def test_a_pdf_feature_pypdf_lacks_is_read_by_the_fallback(tmp_path: Path) -> None:
    """pypdf cannot decode an unknown stream filter; PDFium reads the page anyway, and the
    note says which reader did."""
    plain = tmp_path / "plain.pdf"
    from reportlab.pdfgen import canvas

    sheet = canvas.Canvas(str(plain), pageCompression=0)
    sheet.drawString(72, 700, "hello world")
    sheet.showPage()
    sheet.save()
    odd = tmp_path / "odd.pdf"
    odd.write_bytes(
        plain.read_bytes().replace(b"<<\n/Length", b"<<\n/Filter /FooDecode /Length", 1)
    )
    pdf = load_pdf(odd)
    assert pdf.pages[0].text == "hello world"
    (note,) = pdf.notes
    assert "Unsupported filter /FooDecode" in note and "fallback reader (PDFium)" in note


def test_pdf_encrypted_with_an_empty_password_opens(tmp_path: Path) -> None:
    from reportlab.lib.pdfencrypt import StandardEncryption

    lock = StandardEncryption("", ownerPassword="owner-only")
    pdf = load_pdf(make_pdf(tmp_path / "owner.pdf", ["Readable by anyone."], encrypt=lock))
    assert pdf.pages[0].text == "Readable by anyone."
