"""The UI's pieces that need no model or store: the model's text as shown (AppTest on one
function), the unsupported-sentence marks, and an upload job. The whole app:
tests/integration/test_ui_app.py."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from ingest.pipeline import IngestReport
from rag_app.errors import RagError
from ui.uploads import Job
from ui.widgets import marked_answer, unsupported_spans


def render_model_text_app(answer: dict[str, Any], language: str = "en") -> AppTest:
    def script(answer: dict[str, object], language: str) -> None:  # run on its own: no Any
        from ui import widgets

        widgets.render_model_text(answer, language)

    at = AppTest.from_function(script, kwargs={"answer": answer, "language": language})
    at.run()
    assert not at.exception
    return at


EVIDENCE = [{"text": "The mirror is 2.4 metres wide.", "number": 1, "source": "a.pdf", "page": 3}]


def test_unsupported_sentences_are_marked() -> None:
    text = "The mirror is 2.4 metres wide [1]. It was made\nof gold."
    at = render_model_text_app(
        {"answer": text, "generated": text, "evidence": EVIDENCE, "fallback": None,
         "unsupported": ["It was made of gold."]}
    )  # fmt: skip
    assert [c.value for c in at.caption] == ["The model's wording (checked against the sources)"]
    shown = at.markdown[0].value
    assert shown.endswith("gold\\. :red[⚠ not found in the sources]")
    assert "wide \\[1\\]\\. It was" in shown  # the supported sentence is not marked


def test_dropped_sentences_are_counted_in_spanish() -> None:
    at = render_model_text_app(
        {"answer": "El espejo mide 2,4 metros [1].", "evidence": EVIDENCE, "fallback": None,
         "generated": "El espejo mide 2,4 metros [1]. Es de oro.", "unsupported": ["Es de oro."]},
        "es",
    )  # fmt: skip
    assert "no está en las fuentes" not in at.markdown[0].value
    assert "Se han omitido 1 frase(s)" in at.caption[1].value


@pytest.mark.parametrize(
    ("fallback", "reason"),
    [("language", "not in the question's language"), ("unsupported", "nothing it said")],
)
def test_a_rejected_model_answer_says_why(fallback: str, reason: str) -> None:
    at = render_model_text_app(
        {"answer": "The mirror is 2.4 metres wide. [1]", "generated": "Der Spiegel ist breit.",
         "evidence": EVIDENCE, "fallback": fallback, "unsupported": []}
    )  # fmt: skip
    (line,) = at.caption  # one quiet line, neither the rejected text nor its label
    assert reason in line.value and "The evidence above is the answer" in line.value
    assert not at.markdown and not at.info


def test_uncertain_evidence_is_labelled_in_the_questions_language() -> None:
    at = render_model_text_app(
        {"answer": "Puede que esto no responda... La lente mide 2,4 metros. [1]",
         "generated": None, "evidence": EVIDENCE, "fallback": "uncertain", "unsupported": [],
         "mode": "evidence"},
        language="es",
    )  # fmt: skip
    assert "Puede que esta evidencia no responda" in at.warning[0].value
    assert not at.markdown and not at.caption


def test_no_answer_line_is_shown_as_is() -> None:
    line = "The documents do not contain the answer."
    at = render_model_text_app(
        {"answer": line, "generated": None, "evidence": [], "fallback": "abstained"}
    )
    assert at.markdown[0].value.replace("\\", "") == line and not at.caption


def test_marks_are_placed_across_line_breaks_and_markdown() -> None:
    text = "Fine [1].\n**Made** of\ngold. Also fine."
    spans, unplaced = unsupported_spans(text, ["Made of gold.", "Not in the text."])
    assert spans == [("Fine [1].\n**", False), ("Made** of\ngold.", True), (" Also fine.", False)]
    assert unplaced == ["Not in the text."]
    shown = marked_answer(text, ["Not in the text.", "<b>x</b>"], "en")
    assert shown.count(":red[⚠ not found in the sources]") == 2
    assert "<b>" not in shown and "\\<b\\>x\\</b\\>" in shown  # escaped, never HTML


class _BlockedIngest:
    """A service whose ingest reports the files unchanged once ``go`` is set."""

    def __init__(self, error: Exception | None = None) -> None:
        self.go, self.error = threading.Event(), error

    def ingest_uploads(self, files: Any, progress: Any, background: bool) -> IngestReport:
        assert background  # the job returns once the files are searchable by keywords
        names = [name for name, _ in files]
        progress("index", 1, 2, names[0])
        self.go.wait(30)
        if self.error is not None:
            raise self.error
        return IngestReport(unchanged=names)


def test_an_upload_job_gives_up_its_files_only_once_they_are_stored() -> None:
    waiting = {"a": ("a.md", b"# A"), "b": ("b.md", b"# B")}
    reports: list[IngestReport] = []
    service = _BlockedIngest()
    job = Job(dict(waiting)).start(service, waiting, reports)  # type: ignore[arg-type]
    waiting["c"] = ("c.md", b"# C")  # dropped while the job runs: not its file
    assert set(waiting) == {"a", "b", "c"} and not reports  # nothing stored yet
    service.go.set()
    job.thread.join(30)
    assert set(waiting) == {"c"} and reports[0].unchanged == ["a.md", "b.md"]
    assert job.stage == ("index", 1, 2, "a.md") and job.share == pytest.approx(0.95)

    failing = _BlockedIngest(RagError("the store is gone"))
    failing.go.set()
    job = Job(dict(waiting)).start(failing, waiting, reports)  # type: ignore[arg-type]
    job.thread.join(30)
    assert isinstance(job.error, RagError) and set(waiting) == {"c"} and len(reports) == 1
