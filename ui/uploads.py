"""The chat page's uploads, taken so that no dropped file is lost and each says once what
came of it.

When the browser asks for a rerun (a drop, a question, a click on another page), Streamlit
starts a new run of the script at once and stops the old one at its next ``st`` call (its
``runner.fastReruns``). A file is therefore taken in three steps, none of which such a stop can
cut in two:

1. ``take`` copies each new upload's name and bytes into the session the moment a run sees it,
   in plain Python (no ``st`` call, so no stop in between): at the top of every run, from the
   widget's state, and again from the uploader itself. A run stopped before the ingest, or one
   that goes on to another page, leaves the file waiting, not lost.
2. ``ingest_waiting`` hands the waiting files to a ``Job``: a thread of its own, which a stop
   does not end. It removes its files from the waiting ones and keeps its report only once the
   store has them, so a stop can neither lose a file nor make the next run ingest it again and
   call it "already indexed". A run that finds a job under way waits for it (with its progress
   bar), then starts the next with what was dropped meanwhile.
3. The reports are kept until a run has drawn them whole, and dropped by the run after: each
   upload's lines ("indexed", "already indexed and unchanged", failures) appear once, not again
   after the next question.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import streamlit as st

from ingest.formats import FORMATS
from ui import widgets
from ui.i18n import t

if TYPE_CHECKING:
    from ingest.pipeline import IngestReport
    from rag_app.service import RagService

KEY = "uploader"
POLL_S = 0.25
_STARTING = threading.Lock()  # two runs of one session (an old one not yet stopped) start one job


class Tracked:
    """An ingest running in a thread of its own (an upload, a folder sync): its last progress
    call, and how far that is. A run follows it with ``follow_progress``."""

    stage: tuple[str, int, int, str] = ("parse", 0, 0, "")
    thread: threading.Thread

    def progress(self, stage: str, done: int, total: int, name: str) -> None:
        self.stage = (stage, done, total, name)

    @property
    def share(self) -> float:
        """Reading is most of it, staging the rest (the vectors come afterwards)."""
        name, done, total, _ = self.stage
        share = done / total if total else 0.0
        return min(0.9 * share if name == "parse" else 0.9 + 0.1 * share, 1.0)


def follow_progress(job: Tracked, text: str) -> None:
    """Wait for ``job``, its progress drawn under ``text``. A stop here leaves the job going;
    the next run follows it."""
    bar = st.progress(job.share, text=text)
    shown = job.stage
    while job.thread.is_alive():
        job.thread.join(POLL_S)
        if job.stage != shown:
            shown = job.stage
            bar.progress(job.share, text=f"{text} {widgets.escape_md(shown[3])}")
    bar.empty()


@dataclass
class Job(Tracked):
    """One ingest of waiting uploads, in its own thread: it goes on when the run that started
    it is stopped, and only it moves its files from ``waiting`` to a report in ``reports``."""

    files: dict[str, tuple[str, bytes]]
    error: BaseException | None = None
    thread: threading.Thread = field(init=False)

    def start(
        self,
        service: RagService,
        waiting: dict[str, tuple[str, bytes]],
        reports: list[IngestReport],
    ) -> Job:
        def run() -> None:
            try:
                # Back once searchable by keywords; the vectors come in the background.
                report = service.ingest_uploads(self.files.values(), self.progress, True)
            except BaseException as exc:  # the files stay waiting; a run shows the error
                self.error = exc
                return
            for file_id in self.files:
                waiting.pop(file_id, None)
            reports.append(report)

        self.thread = threading.Thread(target=run, name="rag-ui-ingest", daemon=True)
        self.thread.start()
        return self


def take(files: Iterable[Any] | None) -> None:
    """Each upload not seen before, its name and bytes, into the session's waiting files."""
    state = st.session_state
    seen: set[str] = state.setdefault("seen_uploads", set())
    waiting: dict[str, tuple[str, bytes]] = state.setdefault("waiting_uploads", {})
    for upload in files or []:
        if upload.file_id not in seen:
            waiting[upload.file_id] = (upload.name, upload.getvalue())
            seen.add(upload.file_id)


def take_early() -> None:
    """At the top of every run, before any ``st`` call: the uploader's value as the browser
    sent it, so that a run stopped before the uploader is drawn (a click on another page while
    the first run still loads the models) does not lose a file just dropped."""
    take(st.session_state.get(KEY))


def uploader(language: str) -> None:
    """The uploader; the chat page draws it before anything slow (models, store), so a file can
    be dropped while the first run still loads them: the run its drop starts takes it."""
    take(
        st.file_uploader(
            t("upload", language),
            type=[suffix.lstrip(".") for suffix in FORMATS],
            accept_multiple_files=True,
            key=KEY,
        )
    )


def ingest_waiting(service: RagService, language: str) -> None:
    """Ingest the waiting uploads (or wait for the job already at it) with a progress bar,
    then draw the reports not drawn yet."""
    state = st.session_state
    reports: list[IngestReport] = state.setdefault("upload_reports", [])
    # The reports an earlier run drew whole go; one a job added since is still to draw (a
    # job appends, so the drawn ones are the first ones). In place: a job holds this list.
    del reports[: state.get("upload_reports_drawn", 0)]
    state.upload_reports_drawn = 0
    waiting: dict[str, tuple[str, bytes]] = state.setdefault("waiting_uploads", {})
    while True:
        with _STARTING:
            job: Job | None = state.get("upload_job")
            if job is None and waiting:
                job = state.upload_job = Job(dict(waiting)).start(service, waiting, reports)
        if job is None:
            break
        follow_progress(job, t("ingesting", language, n=len(job.files)))
        state.upload_job = None
        if job.error is not None:
            raise job.error
    drawn = list(reports)
    for report in drawn:
        draw_report(report, language)
    state.upload_reports_drawn = len(drawn)


def draw_report(report: IngestReport, language: str) -> None:
    if report.ingested:
        st.success(
            t(
                "ingest_done",
                language,
                files=len(report.ingested),
                pages=report.pages,
                chunks=report.chunks,
            )
        )
    if report.waiting:
        st.caption(t("embedding_later", language))
    if report.reused:
        st.caption(t("reused", language, chunks=report.reused))
    for name in report.unchanged:
        st.info(t("unchanged", language, name=name))
    for line in report.failed:
        st.error(t("failed", language, line=widgets.escape_md(line)))
    for note in report.notes:  # pages read by OCR, or skipped for lack of it
        st.info(widgets.escape_md(note))


@st.fragment(run_every=1.0)
def meaning_index(service: RagService, language: str) -> None:
    """While the chunks of added documents wait for their vectors: how far the meaning index
    is, overall and per file, redrawn every second (the rest of the page is not rerun). The
    documents are searchable by keywords meanwhile. Nothing once it is complete."""
    built = service.indexing(by_document=True)
    error = service.background_error()
    if error:
        st.error(t("embedding_failed", language, error=widgets.escape_md(error)))
    if built.done:
        return
    st.progress(built.share, text=t("meaning_index", language, percent=int(built.share * 100)))
    chunks = {r.doc_id: (r.source, r.chunks) for r in service.documents()}
    for doc_id, waiting in built.by_document.items():
        name, total = chunks.get(doc_id, ("", 0))
        if name:
            share = 1 - waiting / max(total, 1)
            st.caption(f"{widgets.escape_md(name)}: {share:.0%}")


def waiting_note(language: str) -> None:
    """On another page: files dropped but not indexed yet say so (the chat page indexes them)."""
    names = [name for name, _ in st.session_state.get("waiting_uploads", {}).values()]
    if names:
        with st.sidebar:
            st.info(t("uploads_waiting", language, names=widgets.escape_md(", ".join(names))))
