"""The UI end to end in a real headless Chromium: upload a PDF, ask, see the cited page."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.support.cli import RAG
from tests.support.images import yellow_pixels
from tests.support.pdfs import COURSE_PAGES, NOTES, make_pdf, make_structured_pdf
from tests.support.servers import free_port, started
from tests.support.spanish_notes import SO_NOTES

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

playwright_api = pytest.importorskip("playwright.sync_api")
if not Path(CHROMIUM).exists():  # .ci/run installs it; a plain dev machine may not have it
    pytest.skip(
        "Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True
    )


@dataclass
class Served:
    """A `rag ui` process and what a failing test reports of it."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path


@contextlib.contextmanager
def serving(tmp_path: Path, log_name: str = "ui.log", **settings: str) -> Iterator[Served]:
    """`rag ui` on a free port over ``tmp_path``'s data dir, stopped at the end; ``settings``
    are more environment variables (``RAG_...``) for it."""
    url, command = served_at(free_port())
    log = tmp_path / log_name
    env = {**ui_env(tmp_path), **settings}
    with started(command, f"{url}/_stcore/health", log, env=env, timeout_s=90) as proc:
        yield Served(url, proc, log)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Served]:
    with serving(tmp_path) as served:
        yield served


def ui_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(RAG_DATA_DIR=str(tmp_path / "data"), RAG_LLM__TEMPERATURE="0")
    return env


@contextlib.contextmanager
def explained(page: Any, served: Served, name: str) -> Iterator[None]:
    """On a failure, print what the browser showed (its text; a screenshot in test-artifacts)
    and what the server was doing (every thread's stack, dumped to its log by SIGUSR1: see
    ui/services.py) with the log's tail, so that a failure seen once in CI can be read."""
    try:
        yield
    except Exception:
        ARTIFACTS.mkdir(exist_ok=True)
        with contextlib.suppress(Exception):
            page.screenshot(path=str(ARTIFACTS / f"{name}-failure.png"), full_page=True)
        with contextlib.suppress(Exception):
            print("--- the page's text at the failure:\n" + page.inner_text("body")[-4000:])
        if served.process.poll() is None:
            served.process.send_signal(signal.SIGUSR1)
            time.sleep(1.0)
        log = served.log.read_text(errors="replace")
        print("--- the server's log (threads' stacks at the end):\n" + log[-12000:])
        raise


def test_upload_ask_and_see_cited_page(app: Served, tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "astronomy.pdf", COURSE_PAGES)
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright_api.sync_playwright() as p:
        browser, page = open_page(p)
        with explained(page, app, "upload-ask"):
            page.goto(app.url)
            uploader = drop_in_first_run(page)
            uploader.set_input_files(str(pdf))  # once: nobody drops it again
            page.get_by_text("Indexed 1 file(s): 3 pages").wait_for()
            page.get_by_text("Documents (1)").wait_for()

            chat = page.locator(".st-key-chat_input textarea")
            chat.fill("Who founded the Lumora Observatory?")
            chat.press("Enter")
            page.locator(".st-key-assistant-1").wait_for()
            # The evidence is drawn before the model's text starts streaming in.
            assert page.locator(".st-key-evidence-1").count() == 1
            source = page.locator(".st-key-source-1-1")
            source.wait_for()
            answer = page.locator(".st-key-assistant-1").inner_text()
            assert answer.strip()
            assert "astronomy.pdf, page 2" in source.inner_text()
            evidence = page.locator(".st-key-evidence-1")
            quoted = evidence.inner_text()
            assert "Evidence (quoted from your documents)" in quoted
            assert "astronomy.pdf" in quoted and "page 2" in quoted and "Elena Vasquez" in quoted
            assert evidence_comes_first(page)

            source.get_by_text("astronomy.pdf, page 2").click()
            source.locator("img").wait_for()
            picture = source.locator("img")
            picture.evaluate("img => img.decode()")  # loaded and decoded, not only in the DOM
            page.screenshot(path=str(ARTIFACTS / "ui-answer.png"), full_page=True)
            image = page.request.get(picture.evaluate("img => img.src")).body()
            (ARTIFACTS / "ui-page-image.png").write_bytes(image)  # as the browser received it
            marked = yellow_pixels(Image.open(io.BytesIO(image)))
            assert marked > 500  # the evidence sentence, marked on the page

            # Each upload says once what came of it: the line above went with the question, and a
            # second upload of the same file says it is already indexed, until the next question.
            expect = playwright_api.expect
            expect(page.get_by_text("Indexed 1 file(s)")).to_have_count(0)
            # The same file from another folder: Chromium fires no change for a file input set to
            # the very paths it already holds.
            again = tmp_path / "again" / pdf.name
            again.parent.mkdir()
            shutil.copy(pdf, again)
            uploader.set_input_files(str(again))
            unchanged = page.get_by_text("astronomy.pdf is already indexed and unchanged")
            unchanged.wait_for()
            expect(unchanged).to_have_count(1)
            chat.fill("How wide is the mirror of the main telescope?")
            chat.press("Enter")
            page.locator(".st-key-source-3-1").wait_for()
            expect(unchanged).to_have_count(0)
            expect(page.get_by_text("Indexed 1 file(s)")).to_have_count(0)

            # The evaluation page is one click away, in the same session and language.
            page.get_by_role("link", name="Evaluate answers").click()
            page.get_by_role("heading", name="Evaluate answers").wait_for()
            assert "/evaluation" in page.url
        browser.close()


def test_a_list_question_shows_every_item_and_no_unsupported_wording(tmp_path: Path) -> None:
    """Course notes with a list: the evidence quotes its lead-in and all three items, and
    nothing of the model's wording that the sources lack is on the page (answer.unsupported
    is "drop" by default). The model writes 64 tokens at most: it tends to copy the list, which
    takes minutes on a busy 2-core machine."""
    pdf = make_structured_pdf(tmp_path / "apuntes.pdf", NOTES)
    with serving(tmp_path, RAG_LLM__MAX_TOKENS="64") as app, playwright_api.sync_playwright() as p:
        browser, page = open_page(p)
        with explained(page, app, "list-question"):
            page.goto(app.url)
            drop_in_first_run(page).set_input_files(str(pdf))
            page.get_by_text("Indexed 1 file(s): 2 pages").wait_for()
            chat = page.locator(".st-key-chat_input textarea")
            chat.fill("¿Qué variantes tienen los sistemas de inferencia?")
            chat.press("Enter")
            page.locator(".st-key-assistant-1").wait_for()
            page.locator(".st-key-source-1-1").wait_for()
            quoted = page.locator(".st-key-evidence-1").inner_text()
            assert "Los sistemas de inferencia tienen tres variantes:" in quoted
            for item in ("Inferencia local", "Inferencia acelerada", "Inferencia remota"):
                assert item in quoted, quoted
            assert "apuntes.pdf" in quoted and "page 2" in quoted
            shown = page.locator("body").inner_text()
            assert "not found in the sources" not in shown
            assert "no está en las fuentes" not in shown
            page.screenshot(path=str(ARTIFACTS / "ui-list-answer.png"), full_page=True)
        browser.close()


def test_ask_at_once_while_the_meaning_index_is_built(tmp_path: Path) -> None:
    """A multi-page PDF uploaded and asked about at once: the answer quotes it, says the
    meaning index is still being built, while the progress shows; the progress reaches 100%
    (and goes), and the next answer has no such note. Batches of 2: the embedding of the 40
    pages takes a while, so the question lands during it."""
    pages = [
        f"Chapter {n}. The Quillon ledger of year {1700 + n} lists {n * 13} crates of "
        f"{['salt', 'wool', 'tin', 'amber'][n % 4]} shipped from harbour {n}."
        for n in range(1, 41)
    ]
    pages[29] = "Chapter 30. The Quillon Archive holds 4812 maps in cedar drawers."
    pdf = make_pdf(tmp_path / "ledger.pdf", pages)
    expect = playwright_api.expect
    with serving(tmp_path, RAG_EMBEDDING__BATCH_SIZE="2", RAG_ANSWER__MODE="evidence") as app, \
            playwright_api.sync_playwright() as p:  # fmt: skip
        browser, page = open_page(p)
        with explained(page, app, "ask-while-indexing"):
            page.goto(app.url)
            page.get_by_text("Documents (0)").wait_for()
            page.locator(".st-key-uploader input[type=file]").set_input_files(str(pdf))
            page.get_by_text("Indexed 1 file(s): 40 pages").wait_for()
            progress = page.get_by_text(re.compile(r"Meaning index: \d+% built"))
            progress.wait_for()
            chat = page.locator(".st-key-chat_input textarea")
            chat.fill("How many maps does the Quillon Archive hold?")
            chat.press("Enter")
            page.locator(".st-key-source-1-1").wait_for()
            assert "4812" in page.locator(".st-key-evidence-1").inner_text()
            note = page.get_by_text(re.compile(r"Still indexing: \d+% of the meaning index"))
            note.wait_for()
            assert progress.count() == 1  # both on the page at once
            page.screenshot(path=str(ARTIFACTS / "ui-ask-while-indexing.png"), full_page=True)

            expect(progress).to_have_count(0, timeout=600_000)  # 100%: the bar goes
            chat.fill("How many maps does the Quillon Archive hold?")  # again
            chat.press("Enter")
            page.locator(".st-key-source-3-1").wait_for()
            assert "4812" in page.locator(".st-key-evidence-3").inner_text()
            expect(note).to_have_count(1)  # the first answer's note only, none on the second
        browser.close()


def open_page(playwright: Any) -> tuple[Any, Any]:
    """Debian's Chromium and a page in it, English, 2 minutes for anything to show."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
    page = browser.new_page(viewport={"width": 1280, "height": 1000}, locale="en-US")
    page.set_default_timeout(120_000)
    return browser, page


def wait_sent(page: Any, name: str) -> None:
    """The uploaded file's chip has lost its spinner: the browser has sent it (a page left
    while the browser still sends a file loses it in the browser; the app never hears of it)."""
    chip = page.locator(".st-key-uploader [data-testid=stFileChip]", has_text=name)
    chip.wait_for()
    chip.locator("[data-testid=stFileChipIconSpinner]").wait_for(state="detached")


def drop_in_first_run(page: Any) -> Any:
    """The uploader's file input, as soon as it is in the page: the first run is still going
    (the models load after the uploader is drawn; the documents panel, drawn once they are
    loaded, is not there yet), so a file set now is dropped during it, the case that once lost
    uploads."""
    uploader = page.locator(".st-key-uploader input[type=file]")
    uploader.wait_for(state="attached")
    panel = page.get_by_text(re.compile(r"^Documents \(\d+\)$"))
    assert panel.count() == 0, "the first run was over already"
    return uploader


def test_a_file_dropped_while_the_chat_page_is_drawn_is_indexed(
    app: Served, tmp_path: Path
) -> None:
    """Back on the chat page from another page, a file dropped at once, while the page is
    still being drawn, is indexed. (The chat input used to be drawn last; its first
    appearance changed the page's layout, the browser drew the uploader anew and forgot the
    file it was still sending: no chip, nothing indexed, no error.)"""
    first = make_pdf(tmp_path / "astronomy.pdf", COURSE_PAGES)
    second = make_pdf(tmp_path / "bridge.pdf", BRIDGE_PAGES)
    with playwright_api.sync_playwright() as p:
        browser, page = open_page(p)
        with explained(page, app, "drop-while-drawn"):
            page.goto(app.url)
            page.get_by_text("Documents (0)").wait_for()
            for pdf, count in ((first, 1), (second, 2)):
                page.get_by_role("link", name="Evaluate answers").click()
                page.get_by_role("heading", name="Evaluate answers").wait_for()
                page.get_by_role("link", name="Chat").click()
                uploader = page.locator(".st-key-uploader input[type=file]")
                uploader.wait_for(state="attached")
                uploader.set_input_files(str(pdf))  # the chat page's run is still going
                wait_sent(page, pdf.name)
                page.get_by_text(f"Documents ({count})").wait_for()
        browser.close()


def test_an_upload_survives_leaving_the_page_or_asking_during_it(
    app: Served, tmp_path: Path
) -> None:
    """A file dropped in the first run, then the page left at once for the evaluation page:
    indexed once the chat page is back. A file asked about while it is being embedded: reported
    as indexed, not as 'already indexed' (what the run the question started said when it
    stopped the ingesting one after the store had the file), and the answer comes from it."""
    pdf = make_pdf(tmp_path / "astronomy.pdf", COURSE_PAGES)
    bridge = make_pdf(tmp_path / "bridge.pdf", BRIDGE_PAGES)
    expect = playwright_api.expect
    with playwright_api.sync_playwright() as p:
        browser, page = open_page(p)
        with explained(page, app, "upload-survives"):
            page.goto(app.url)
            uploader = drop_in_first_run(page)
            uploader.set_input_files(str(pdf))
            wait_sent(page, "astronomy.pdf")  # then leave at once
            page.get_by_role("link", name="Evaluate answers").click()
            page.get_by_role("heading", name="Evaluate answers").wait_for()
            page.get_by_role("link", name="Chat").click()
            page.get_by_text("Documents (1)").wait_for()
            expect(page.get_by_text("already indexed")).to_have_count(0)

            uploader.set_input_files(str(bridge))
            # Sent (on a loaded machine the upload itself takes a while), then asked about once it
            # is read and being embedded (or, on a machine too quick to see that, done).
            wait_sent(page, "bridge.pdf")
            page.wait_for_function(EMBEDDING_OR_DONE)
            chat = page.locator(".st-key-chat_input textarea")
            chat.fill("How long is the Kestrel bridge?")
            chat.press("Enter")
            evidence = page.locator(".st-key-evidence-1")
            evidence.wait_for()
            page.get_by_text("Indexed 1 file(s): 4 pages").wait_for()
            expect(page.get_by_text("already indexed")).to_have_count(0)
            page.get_by_text("Documents (2)").wait_for()
            assert "bridge.pdf" in evidence.inner_text() and "40 metres" in evidence.inner_text()
        browser.close()


BRIDGE_PAGES = [
    "The Kestrel bridge crosses the river Alder at the harbour of Brindlemoor.",
    "The Kestrel bridge is 40 metres long and was opened in 1932.",
    "Ferries ran across the river Alder before the bridge was built; the last one stopped in "
    "1933, a year after the opening.",
    "The harbour master keeps a log of every ship that passes under the bridge at high tide.",
]
# The progress bar past its reading tenth (the file is being embedded), or the file indexed.
EMBEDDING_OR_DONE = """() => {
  const bar = document.querySelector('[data-testid=stProgress] [role=progressbar]');
  return (bar !== null && Number(bar.getAttribute('aria-valuenow')) >= 10)
    || document.body.innerText.includes('Indexed 1 file(s): 4 pages');
}"""


def evidence_comes_first(page: Any, settle_s: float = 10.0) -> bool:
    """The evidence block precedes the model's text in the page (DOM order) and sits above it
    on screen. Measured again for up to ``settle_s`` while the page is still laying out (a
    box read while the evidence grows and the text below has not moved yet overlaps; the
    CI run of 2026-12-02 read one such instant): false only if it never holds."""
    evidence, answer = page.locator(".st-key-evidence-1"), page.locator(".st-key-assistant-1")
    deadline = time.monotonic() + settle_s
    while True:
        before = evidence.evaluate(
            "(e, a) => Boolean(e.compareDocumentPosition(a) & Node.DOCUMENT_POSITION_FOLLOWING)",
            answer.element_handle(),
        )
        top, below = evidence.bounding_box(), answer.bounding_box()
        if bool(before) and top and below and top["y"] + top["height"] <= below["y"] + 1:
            return True
        if time.monotonic() > deadline:
            return False
        page.wait_for_timeout(250)


def test_a_conversation_survives_a_restart_of_the_server_and_exports(tmp_path: Path) -> None:
    """Ask, stop `rag ui`, start it again on the same data dir, reload: the conversation is
    listed, opens with its answer and sources, and downloads as Markdown with them."""
    pdf = make_pdf(tmp_path / "astronomy.pdf", COURSE_PAGES)
    question = "Who founded the Lumora Observatory?"
    with playwright_api.sync_playwright() as p:
        browser, page = open_page(p)
        with serving(tmp_path, "ui1.log") as first, explained(page, first, "restart-first"):
            page.goto(first.url)
            page.locator(".st-key-chat_input textarea").wait_for()
            page.locator(".st-key-uploader input[type=file]").set_input_files(str(pdf))
            page.get_by_text("Indexed 1 file(s): 3 pages").wait_for()
            chat = page.locator(".st-key-chat_input textarea")
            chat.fill(question)
            chat.press("Enter")
            page.locator(".st-key-source-1-1").wait_for()
        # Another port: the first one may linger in TIME_WAIT for a while after the stop.
        with serving(tmp_path, "ui2.log") as second, explained(page, second, "restart-second"):
            page.goto(second.url)  # a new session on a new server process
            page.locator(".st-key-chat_input textarea").wait_for()
            assert page.locator(".st-key-source-1-1").count() == 0
            page.get_by_role("button", name=question).click()
            source = page.locator(".st-key-source-1-1")
            source.wait_for()
            assert "astronomy.pdf, page 2" in source.inner_text()
            assert "Elena Vasquez" in page.locator(".st-key-evidence-1").inner_text()
            page.get_by_text("This conversation").click()
            with page.expect_download() as download:
                page.get_by_role("button", name="Export as Markdown").click()
            markdown = Path(download.value.path()).read_text(encoding="utf-8")
        browser.close()
    assert markdown.startswith(f"# {question}\n\n## {question}")
    assert "astronomy.pdf, page 2" in markdown and "Elena Vasquez" in markdown


def served_at(port: int) -> tuple[str, list[str]]:
    return f"http://127.0.0.1:{port}", [RAG, "ui", "--port", str(port)]


def test_a_summary_is_routed_shown_with_its_route_and_a_route_can_be_chosen(
    tmp_path: Path,
) -> None:
    """ "Resume el tema 1" is answered as a summary: the caption names the route, the quoted
    units come from every sub-section of tema 1 with their headings; then the sidebar's
    *Kind of answer* forces a summary of a bare topic."""
    notes = tmp_path / "so.md"
    notes.write_text(SO_NOTES, encoding="utf-8")
    with serving(tmp_path) as app, playwright_api.sync_playwright() as p:
        browser, page = open_page(p)
        with explained(page, app, "summary-route"):
            page.goto(app.url)
            drop_in_first_run(page).set_input_files(str(notes))
            page.get_by_text("Indexed 1 file(s)").wait_for()
            chat = page.locator(".st-key-chat_input textarea")
            chat.fill("Resume el tema 1")
            chat.press("Enter")
            page.locator(".st-key-evidence-1").wait_for()
            shown = page.locator("body").inner_text()
            assert "Kind of answer: Summary · asks for a summary" in shown
            assert "Resumen de tema 1 (so.md)" in shown  # its title
            quoted = page.locator(".st-key-evidence-1").inner_text()
            for heading in ("1.1. Conceptos", "1.2. Estados de un proceso", "1.3. Planificación"):
                assert heading in quoted, quoted
            assert "Nuevo: el proceso se está creando." in quoted
            assert "Paginación" not in quoted  # tema 2
            page.screenshot(path=str(ARTIFACTS / "ui-summary.png"), full_page=True)
            page.locator(".st-key-route").click()
            page.get_by_role("option", name="Summary").click()
            chat.fill("planificación")
            chat.press("Enter")
            page.locator(".st-key-evidence-3").wait_for()  # turn 3: after two messages
            assert "Kind of answer: Summary · chosen by you" in page.locator("body").inner_text()
            assert "1.3. Planificación" in page.locator(".st-key-evidence-3").inner_text()
        browser.close()
