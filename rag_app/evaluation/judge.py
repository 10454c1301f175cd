"""LLM-judged versions of the Ragas metrics, with any LangChain chat model as the judge.

Each judgement is one short yes/no question (or, for answer relevancy, one generated question).
A small judge often replies with something else: such replies are counted as unparseable and
left out, never turned into a score. A metric with no parseable verdict has no value.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from rag_app.answering.evidence import rescaled
from rag_app.evaluation import metrics

CONTEXT_CHARS = 1500  # bounds the judge's prompt: prefill is the cost on a CPU
YES = {"yes", "si", "true", "supported", "correct"}
NO = {"no", "false", "unsupported", "incorrect"}
SYSTEM = "You are a strict grader. Reply with exactly one word: yes or no."


@dataclass
class JudgeResult:
    scores: dict[str, float | None] = field(default_factory=dict)
    calls: int = 0
    unparseable: int = 0


def parse_verdict(reply: str) -> bool | None:
    """yes/no from a reply; None when it holds neither or both (counted, never guessed)."""
    words = metrics.normalize_answer(reply).split()
    if not words:
        return None
    if words[0] in YES:
        return True
    if words[0] in NO:
        return False
    said_yes, said_no = bool(YES & set(words)), bool(NO & set(words))
    return said_yes if said_yes != said_no else None


def clean_question(reply: str) -> str | None:
    """The first line ending in '?' of a reply, or None."""
    for line in reply.splitlines():
        line = re.sub(r"^\W*(question\s*:)?\s*", "", line.strip(), flags=re.IGNORECASE)
        if line.endswith("?") and len(line) > 3:
            return line
    return None


class Judge:
    def __init__(
        self, model: BaseChatModel, embeddings: Embeddings, name: str, floor: float = 0.0
    ) -> None:
        self.model, self.embeddings, self.name = model, embeddings, name
        self.floor = floor  # the embedder's cosine for unrelated text (calibration)

    def _ask(self, prompt: str, result: JudgeResult, system: str = SYSTEM) -> str:
        result.calls += 1
        reply = self.model.invoke(
            [SystemMessage(system), HumanMessage(prompt)], temperature=0.0, max_tokens=24
        )
        return str(reply.content)

    def _verdicts(self, prompts: Sequence[str], result: JudgeResult) -> list[bool]:
        verdicts = []
        for prompt in prompts:
            verdict = parse_verdict(self._ask(prompt, result))
            if verdict is None:
                result.unparseable += 1
            else:
                verdicts.append(verdict)
        return verdicts

    def score(
        self,
        question: str,
        response: str | None,
        contexts: Sequence[str],
        reference: str | None,
    ) -> JudgeResult:
        result = JudgeResult()
        context = "\n\n".join(contexts)[:CONTEXT_CHARS]
        answered = bool(response) and not metrics.is_abstention(response or "")
        if answered and contexts:
            claims = metrics.statements(response or "")
            verdicts = self._verdicts(
                [
                    f"Context:\n{context}\n\nStatement: {c}\n\n"
                    "Can the statement be inferred from the context? Answer yes or no."
                    for c in claims
                ],
                result,
            )
            result.scores["faithfulness"] = sum(verdicts) / len(verdicts) if verdicts else None
        if answered:
            reply = self._ask(
                f"Answer: {response}\n\nWrite the one question this answer responds to.",
                result,
                system="Reply with one question only.",
            )
            generated = clean_question(reply)
            if generated is None:
                result.unparseable += 1
                result.scores["answer_relevancy"] = None
            else:
                a, b = self.embeddings.embed_documents([question, generated])
                result.scores["answer_relevancy"] = rescaled(metrics.cosine(a, b), self.floor)
        target = reference or response
        if contexts and target:
            verdicts = self._verdicts(
                [
                    f"Question: {question}\nAnswer: {target}\n\nPassage:\n{c[:CONTEXT_CHARS]}\n\n"
                    "Is this passage useful to arrive at the answer? Answer yes or no."
                    for c in contexts
                ],
                result,
            )
            # Unparseable verdicts are left out of the ranking; with none parsed, no value.
            result.scores["context_precision"] = (
                metrics.average_precision(verdicts) if verdicts else None
            )
        if reference and contexts:
            verdicts = self._verdicts(
                [
                    f"Context:\n{context}\n\nStatement: {c}\n\n"
                    "Can the statement be attributed to the context? Answer yes or no."
                    for c in metrics.statements(reference) or [reference]
                ],
                result,
            )
            result.scores["context_recall"] = sum(verdicts) / len(verdicts) if verdicts else None
        return result
