"""Numbers that depend on the embedder's score scale, measured per embedder.

Cosines mean different things to different embedders: all-MiniLM-L6-v2 gives unrelated text
about 0.0-0.3 and the answering passage 0.5-0.8, multilingual-e5-small gives them 0.75-0.84 and
0.83-0.92. A threshold, a margin or a fusion weight chosen for one is wrong for the other, so
each embedder (by the name its store records, ``models.embedder_name``) has its own, and a
setting left empty takes it. Where each value comes from:

- ``dense_weight`` / ``dense_weight_across`` / ``page_share``: bench/fusion_study.py on XQuAD
  es, en, both cross-language sets and SciFact (docs/RETRIEVAL.md, "How hybrid fuses"): the
  dense list's share for a question in the documents' language and across languages, and the
  share of the keyword part scored over whole pages rather than chunks (within a language;
  across languages BM25 finds only names and numbers, best matched chunk by chunk).
- ``relevance_threshold`` / ``relevance_margin``: bench/relevance_study.py (e5) and
  bench/threshold_study.py (MiniLM; docs/RELEVANCE_THRESHOLD.md): keep the answering paragraph
  for as many questions as any margin does, with as few other passages as possible.
- ``cosine_floor``: the embedder's cosine for unrelated text; the evidence scorer, the answer
  check and the evaluation's embedding metrics rescale cosines from [floor, 1] to [0, 1], so
  their weights and bars work on one scale. ``bench/relevance_study.py --floor``: median cosine
  of pairs from different XQuAD articles, e5 0.73-0.79 (sentence pairs and question-sentence
  pairs, es and en: 0.76 taken), MiniLM 0.01-0.02 in English (0.27-0.31 in Spanish, which it
  does not read; its other values were measured with 0).
- ``evidence_bar`` / ``evidence_bar_across``: bench/evidence.py, the lowest evidence confidence
  (``evidence.confidence``) that counts as an answer, for a question in the documents' language
  and across languages: the bar above every off-topic calibration question
  (docs/EVALUATION.md, abstention).
- ``evidence_floor`` / ``evidence_floor_across``: below the bar and down to the floor the
  best evidence is shown labelled "may not answer your question" instead of refused:
  bench/evidence.py (all 632 questions per XQuAD dev set), the highest floor that refuses at
  most 5% of the answerable questions of each set. e5 across languages: 0.105 (refused 3.8%
  and 4.4%, was 24-25% at the bar; 35 of the 40 off-topic questions still refused, none
  answered as confident); within a language the bar alone refuses 1.6% and 2.4%, so the
  floor is the bar. MiniLM: not measured, no band (docs/EVALUATION.md).
- ``bar_reads_meaning``: whether that confidence includes the evidence's meaning match. It does
  for e5 (false abstentions about halved at the same off-topic count); MiniLM's cosine on
  Spanish is high for everything, so for it the confidence is the evidence score alone.
- ``bar_reads_keywords``: whether that confidence, within a language, also reads how strongly
  the collection's best page matches the question's words (``KeywordIndex.page_match``):
  bench/abstention_study.py, e5 (false abstentions 6-11% -> 2-4% at no more off-topic questions
  answered).

An embedder not listed (a model folder of the user's) gets MiniLM's values until measured.
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


MINILM = Calibration(
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
E5_SMALL = Calibration(
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
CALIBRATIONS = {
    "bundled:all-MiniLM-L6-v2": MINILM,
    "bundled:all-MiniLM-L6-v2:int8": MINILM,
    "bundled:multilingual-e5-small-q4": E5_SMALL,
}


def calibration(embedder: str) -> Calibration:
    """The measured values for the embedder a store records (``models.embedder_name``)."""
    return CALIBRATIONS.get(embedder, MINILM)
