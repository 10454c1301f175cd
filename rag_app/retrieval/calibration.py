"""Numbers that depend on the embedder's score scale, measured per embedder.

Cosines mean different things to different embedders (all-MiniLM-L6-v2 gives unrelated text
about 0.0-0.3, multilingual-e5-small 0.75-0.84), so a threshold, a margin or a fusion weight
chosen for one is wrong for the other: each bundled embedder has its own values
(``models.loading.measured``), and a setting left empty takes them. What each value is, and
the study that measures it (the figures: docs/RETRIEVAL.md, docs/EVALUATION.md):

- ``dense_weight`` / ``dense_weight_across`` / ``page_share``: the dense list's share in the
  fusion within a language and across languages, and the share of the keyword part scored over
  whole pages (``bench.studies.fusion_study``).
- ``relevance_threshold`` / ``relevance_margin``: which passages count as relevant
  (``bench.studies.relevance_study``).
- ``cosine_floor``: the cosine of unrelated text; evidence, the answer check and the embedding
  metrics rescale cosines from [floor, 1] to [0, 1] (``bench.studies.relevance_study --floor``).
- ``evidence_bar`` / ``evidence_bar_across``: the lowest evidence confidence that counts as an
  answer (``bench.studies.evidence``).
- ``evidence_floor`` / ``evidence_floor_across``: between it and the bar the best evidence is
  shown labelled uncertain; the highest floor refusing at most 5% of answerable questions
  (``bench.studies.evidence``).
- ``bar_reads_meaning`` / ``bar_reads_keywords``: whether the confidence also reads the
  evidence's meaning match and the best page's keyword match
  (``bench.studies.abstention_study``).

An embedder never measured (a model folder of the user's) gets MiniLM's values.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag_app.retrieval.strategies import Fusion, Weights


@dataclass(frozen=True)
class Calibration:
    dense_weight: float
    dense_weight_across: float
    page_share: float
    relevance_threshold: float
    relevance_margin: float
    evidence_bar: float
    evidence_bar_across: float
    evidence_floor: float  # between it and the bar: the evidence shown, labelled uncertain
    evidence_floor_across: float
    cosine_floor: float  # the embedder's cosine for unrelated text: rescaled to 0
    bar_reads_meaning: bool  # the abstention bar reads the evidence's meaning match too
    bar_reads_keywords: bool  # ...and the best page's keyword match (within a language)

    def bar(self, across_languages: bool = False) -> float:
        """The lowest evidence confidence (``evidence.confidence``) that counts as an answer
        (lower when question and evidence are in different languages)."""
        return self.evidence_bar_across if across_languages else self.evidence_bar

    def floor(self, across_languages: bool = False) -> float:
        """The lowest evidence confidence at which the best evidence is shown at all, labelled
        uncertain below the bar; never above the bar."""
        floor = self.evidence_floor_across if across_languages else self.evidence_floor
        return min(floor, self.bar(across_languages))

    def fusion(self) -> Fusion:
        return Fusion(
            Weights.split(self.dense_weight, self.page_share),
            Weights.split(self.dense_weight_across, 0.0),
        )


MINILM_CALIBRATION = Calibration(
    dense_weight=0.3,
    dense_weight_across=0.3,  # it does not read Spanish: no cross-language retrieval to weigh
    page_share=0.0,  # not measured with this embedder
    relevance_threshold=0.2,
    relevance_margin=0.2,
    evidence_bar=0.26,
    evidence_bar_across=0.10,
    evidence_floor=0.26,  # not measured with this embedder: no uncertain band
    evidence_floor_across=0.10,
    cosine_floor=0.0,
    bar_reads_meaning=False,
    bar_reads_keywords=False,  # not measured with this embedder
)
E5_CALIBRATION = Calibration(
    dense_weight=0.5,
    dense_weight_across=0.7,
    page_share=0.7,
    relevance_threshold=0.7,
    relevance_margin=0.06,
    evidence_bar=0.305,
    evidence_bar_across=0.22,
    evidence_floor=0.305,  # within a language the bar refuses 1.6% / 2.4%: no band needed
    evidence_floor_across=0.105,
    cosine_floor=0.76,
    bar_reads_meaning=True,
    bar_reads_keywords=True,
)
