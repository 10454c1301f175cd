"""Sidebar panel: the folder this knowledge base follows (`rag kb link`), when it was last
synced, its files that are gone, the passages still waiting for vectors; link a folder, and
sync now (what `rag sync` does).

The sync runs in a thread of its own, as uploads do (ui/uploads.py): a rerun (a click while it
runs) stops the script at its next ``st`` call, which must not cut an ingest short. A run that
finds the sync under way follows it to its end; the run after shows what it did, once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import streamlit as st

from rag_app.errors import RagError, first_line
from rag_app.folders import FolderSync, SyncSummary, folder_link, link_folder, unlink_folder
from ui.i18n import t
from ui.uploads import Tracked, follow_progress
from ui.widgets import escape_md, report_error

if TYPE_CHECKING:
    from rag_app.service import RagService
    from vectorstore.links import FolderLink


@dataclass
class SyncJob(Tracked):
    """One "Sync now", in its own thread (it goes on when the run that started it stops)."""

    sync: FolderSync
    summary: SyncSummary | None = None
    error: str | None = None
    thread: threading.Thread = field(init=False)

    def start(self) -> SyncJob:
        def run() -> None:
            try:
                self.summary = self.sync.run(self.progress)
            except RagError as exc:
                self.error = str(exc)
            except Exception as exc:  # shown in one line; the server log has the rest
                self.error = f"unexpected {type(exc).__name__}: {first_line(exc)}"

        self.thread = threading.Thread(target=run, name="rag-ui-sync", daemon=True)
        self.thread.start()
        return self


def folder_panel(service: RagService, language: str) -> None:
    """Drawn in the sidebar, for the session's knowledge base."""
    with st.sidebar:
        st.subheader(t("folder_title", language))
        link = folder_link(service.settings)
        if link is None:
            st.caption(t("folder_none", language))
        else:
            _linked(service, link, language)
        _link_form(service, link, language)


def _linked(service: RagService, link: FolderLink, language: str) -> None:
    st.markdown(t("folder_linked", language, folder=f"**{escape_md(link.folder)}**"))
    when = link.last_sync.replace("T", " ")[:19]
    st.caption(t("folder_last_sync", language, when=when) if when else t("folder_never", language))
    missing = service.store.missing()
    if missing:
        st.warning(t("folder_missing", language, n=len(missing)))
        with st.expander(t("folder_missing_names", language, n=len(missing))):
            st.markdown("\n".join(f"- {escape_md(r.source)}" for r in missing))
    waiting = service.indexing().waiting
    if waiting:
        st.caption(t("folder_waiting", language, n=waiting))
    key = f"folder_sync_job-{service.settings.collection}"
    state = st.session_state
    if state.get(key) is None and st.button(
        t("folder_sync_now", language), key="folder_sync_now", width="stretch"
    ):
        state[key] = SyncJob(FolderSync(service, background=True)).start()
    job: SyncJob | None = state.get(key)
    if job is not None:
        follow_progress(job, t("folder_syncing", language))
        state[key], state[f"{key}-done"] = None, job
        st.rerun()  # the panel drawn anew (gone files, passages waiting), then what it did
    done: SyncJob | None = state.pop(f"{key}-done", None)
    if done is not None:
        _draw(done, language)


def _draw(job: SyncJob, language: str) -> None:
    summary = job.summary
    if job.error is not None or summary is None:
        report_error(escape_md(job.error or "the sync gave no result"))
        return
    if summary.unplugged:
        st.warning(t("folder_unplugged", language))
        return
    c = summary.counts()
    st.success(
        t(
            "folder_synced",
            language,
            added=c["added"],
            changed=c["changed"],
            renamed=c["renamed"],
            missing=c["missing"] + c["still_missing"],
            restored=c["restored"],
            removed=c["removed"],
        )
    )
    for path in summary.still_writing:
        st.info(t("folder_still_writing", language, path=escape_md(path)))
    for line in summary.failed:
        st.error(t("failed", language, line=escape_md(line)))


def _link_form(service: RagService, link: FolderLink | None, language: str) -> None:
    title = "folder_change_title" if link else "folder_link_title"
    with st.expander(t(title, language)):
        path = st.text_input(t("folder_path", language), key="folder_path")
        if st.button(t("folder_link", language), key="folder_link") and path.strip():
            try:
                link_folder(service.settings, path.strip())
            except RagError as exc:
                report_error(escape_md(str(exc)))
                return
            st.rerun()
        if link and st.button(t("folder_unlink", language), key="folder_unlink"):
            unlink_folder(service.settings)
            st.rerun()
