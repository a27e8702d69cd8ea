"""Retrieval quality against a labelled set (recall@5, MRR, negatives).

The labels (tests/study/data/statute_retrieval_labels.jsonl) name, for real
exam questions, the statute article that decides the keyed answer, with a
verbatim quote; negatives (theory, calculations, annex tables whose body is
not in the statutes) should get no statute text at all.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from study.documents.retrieval import DOCUMENT_EVIDENCE, Evidence, document_evidence
from study.models import Question, Topic

_QUESTION_ID = re.compile(r"^\s*(\d{4})-([\d,]+)-(\d+)\s*$")


class QuestionNotFound(LookupError):
    pass


def question_by_round_id(*, topic: Topic, question_id: str) -> Question:
    """`2019-1-15` or `2020-1,2-5` (year-session-number) of a topic."""
    match = _QUESTION_ID.match(question_id)
    if not match:
        raise QuestionNotFound(
            f"문제 번호 형식은 연도-회차-번호입니다 (예: 2019-1-15): {question_id!r}"
        )
    year, session, number = match.groups()
    question = (
        Question.objects.alive()
        .filter(
            topic=topic,
            exam_year=int(year),
            exam_session=session,
            number=int(number),
        )
        .first()
    )
    if question is None:
        raise QuestionNotFound(f"{topic.name}에 {question_id} 문제가 없습니다.")
    return question


def read_labels(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@dataclass
class RetrievalReport:
    positives: int = 0
    found_at: list[int | None] = field(default_factory=list)  # 1-based rank
    negatives: int = 0
    negatives_with_evidence: int = 0
    missing_questions: list[str] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)

    @property
    def recall_at_5(self) -> float:
        hits = sum(1 for r in self.found_at if r is not None and r <= 5)
        return hits / self.positives if self.positives else 0.0

    @property
    def mrr(self) -> float:
        total = sum(1.0 / r for r in self.found_at if r is not None)
        return total / self.positives if self.positives else 0.0

    @property
    def negative_clean_rate(self) -> float:
        if not self.negatives:
            return 0.0
        return 1 - self.negatives_with_evidence / self.negatives

    def as_dict(self) -> dict:
        return {
            "positives": self.positives,
            "recall_at_5": round(self.recall_at_5, 4),
            "mrr": round(self.mrr, 4),
            "negatives": self.negatives,
            "negatives_without_evidence": self.negatives - self.negatives_with_evidence,
            "missing_questions": self.missing_questions,
            "rows": self.rows,
        }


def _rank(evidence: list[Evidence], label: dict) -> int | None:
    for rank, item in enumerate(evidence, start=1):
        meta = item.meta
        if (
            meta.get("document") == label["document"]
            and meta.get("article") == label["article"]
        ):
            return rank
    return None


def evaluate_retrieval(
    *, topic: Topic, labels: list[dict], cut: bool = True
) -> RetrievalReport:
    report = RetrievalReport()
    for label in labels:
        try:
            question = question_by_round_id(topic=topic, question_id=label["question"])
        except QuestionNotFound:
            report.missing_questions.append(label["question"])
            continue
        evidence = document_evidence(question=question, cut=cut, k=DOCUMENT_EVIDENCE)
        row = {
            "question": label["question"],
            "kind": label["kind"],
            "evidence": [
                {"citation": e.title, "score": e.score, **_scores(e)} for e in evidence
            ],
        }
        if label["kind"] == "article":
            report.positives += 1
            rank = _rank(evidence, label)
            report.found_at.append(rank)
            row.update(expected=f"{label['document']} {label['article']}", rank=rank)
        else:
            report.negatives += 1
            report.negatives_with_evidence += bool(evidence)
        report.rows.append(row)
    return report


def _scores(item: Evidence) -> dict:
    return {"lexical": item.meta.get("lexical"), "vector": item.meta.get("vector")}
