"""Sidebar panel: the GGUF chat models found on this machine, and a button to switch to one.

The choice is saved exactly as `rag models use` saves it (``model_catalog.use_model``). The
next run of the script reads the new settings, which re-keys the cached service, so the new
model loads once for every session; the old model's cache entries are dropped to free memory.
"""

from __future__ import annotations

import streamlit as st

from rag_app.errors import RagError
from rag_app.models.catalog import ModelEntry, find_models, use_model
from rag_app.settings import Settings
from ui import services
from ui.i18n import t
from ui.widgets import escape_md, report_error

FLASH = "model_switched"


@st.cache_data(ttl=60, show_spinner=False)
def _catalog(settings_json: str) -> list[ModelEntry]:
    """Walking the caches of other tools on every click would be slow; a minute is fresh
    enough for files that appear when a download finishes."""
    return find_models(Settings.model_validate_json(settings_json))


def catalog_panel(settings: Settings, language: str) -> None:
    """The models found (name, size, quantisation, context; unusable ones with the reason)."""
    flash = st.session_state.pop(FLASH, None)
    if flash:
        st.success(flash)
    entries = _catalog(settings.model_dump_json())
    usable = sum(entry.usable for entry in entries)
    with st.expander(t("catalog", language, n=usable)):
        if not entries:
            st.caption(t("catalog_none", language))
        for entry in entries:
            _row(entry, settings, language)


def _row(entry: ModelEntry, settings: Settings, language: str) -> None:
    name = f"**{escape_md(entry.name)}**"
    if not entry.usable:
        reason = t("catalog_unusable", language, reason=entry.error)
        st.caption(f"{name}  \n{escape_md(reason)}")
        return
    facts = [f"{entry.size_mb:,.0f} MB", entry.quantisation or ""]
    if entry.context_length:
        facts.append(t("catalog_context", language, n=entry.context_length))
    left, right = st.columns([3, 1])
    left.markdown(f"{name}  \n{escape_md(' · '.join(f for f in facts if f))}")
    if entry.in_use:
        right.caption(t("catalog_in_use", language))
    elif right.button(t("catalog_use", language), key=f"use-model-{entry.name}"):
        switch(entry, settings, language)


def switch(entry: ModelEntry, settings: Settings, language: str) -> None:
    """Save the choice, drop the cached models, and run the page again with the new one."""
    try:  # by path: the name belongs to a listing that may be a minute old
        choice = use_model(str(entry.path), settings)
    except RagError as exc:
        report_error(escape_md(str(exc)))
        return
    _catalog.clear()
    where = escape_md(str(choice.settings_file))
    if choice.overridden_by:
        reason = escape_md(choice.overridden_by)
        st.session_state[FLASH] = t("catalog_overridden", language, file=where, reason=reason)
    else:
        services.forget_chat_model()
        name = escape_md(entry.name)
        st.session_state[FLASH] = t("catalog_switched", language, name=name, file=where)
    st.rerun()
