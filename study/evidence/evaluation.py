"""How good the 근거 카드 is, against the labelled statute set
(tests/study/data/statute_retrieval_labels.jsonl, read by hand; docs/evidence.md):

- deciding citation: the labelled article is among the card's passages, for
  the statute-decided questions;
- clean negatives: calculation, theory and annex-only questions whose card
  has no statute passage;
- verdict coverage (share of statute-decided questions with a verdict) and
  precision (the verdict is the choice today's text decides, which is the
  key wherever the key is still right);
- per-choice mark accuracy against the labelled marks;
- key conflicts: labelled questions whose key today's text contradicts, and
  how many of them the card flags.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from study.documents.retrieval_eval import QuestionNotFound, question_by_round_id
from study.evidence.selectors import CardView
from study.evidence.services import evidence_cards_get
from study.models import Question, Topic

SPLITS = ("dev", "holdout", "all")


@dataclass
class EvidenceReport:
    positives: int = 0
    citation_found: int = 0
    negatives: int = 0
    negatives_clean: int = 0
    decidable: int = 0
    verdicts: int = 0
    verdicts_right: int = 0
    key_right_verdicts: int = 0
    key_right_verdicts_on_key: int = 0
    choices: int = 0
    choices_right: int = 0
    conflicts_labelled: int = 0
    conflicts_flagged: int = 0
    confusion: Counter = field(default_factory=Counter)
    missing_questions: list[str] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)

    @staticmethod
    def _ratio(a: int, b: int) -> float:
        return round(a / b, 4) if b else 0.0

    def as_dict(self) -> dict:
        return {
            "statute_decided": self.positives,
            "deciding_citation_rate": self._ratio(self.citation_found, self.positives),
            "negatives": self.negatives,
            "negatives_without_statute_passage": self._ratio(
                self.negatives_clean, self.negatives
            ),
            "verdicts": self.verdicts,
            "verdict_coverage": self._ratio(self.verdicts, self.positives),
            "verdict_precision": self._ratio(self.verdicts_right, self.verdicts),
            "verdict_equals_key_where_key_right": self._ratio(
                self.key_right_verdicts_on_key, self.key_right_verdicts
            ),
            "mark_accuracy": self._ratio(self.choices_right, self.choices),
            "mark_confusion": {
                f"{labelled}->{given}": n
                for (labelled, given), n in sorted(self.confusion.items())
            },
            "key_conflicts_labelled": self.conflicts_labelled,
            "key_conflicts_flagged": self.conflicts_flagged,
            "missing_questions": self.missing_questions,
            "rows": self.rows,
        }


def _in_split(label: dict, split: str) -> bool:
    return split == "all" or label.get("split", "dev") == split


def evaluate_evidence(
    *, topic: Topic, labels: list[dict], split: str = "dev"
) -> EvidenceReport:
    report = EvidenceReport()
    picked = []
    for label in labels:
        if not _in_split(label, split):
            continue
        try:
            question = question_by_round_id(topic=topic, question_id=label["question"])
        except QuestionNotFound:
            report.missing_questions.append(label["question"])
            continue
        picked.append((label, question))
    cards = evidence_cards_get(questions=[q for _, q in picked])
    for label, question in picked:
        _score(report, label, question, cards[question.pk])
    return report


def _score(
    report: EvidenceReport, label: dict[str, Any], question: Question, card: CardView
) -> None:
    statute = [p for p in card.passages if p.is_statute]
    row = {
        "question": label["question"],
        "kind": label["kind"],
        "citations": [p.data_citation for p in card.passages],
        "verdict": card.verdict,
        "marks": [c.mark for c in card.choices],
    }
    if label["kind"] != "article":
        report.negatives += 1
        report.negatives_clean += not statute
        report.rows.append(row)
        return
    report.positives += 1
    expected = f"{label['document']} {label['article']}"
    found = any(
        _citation_key(p.data_citation) == _citation_key(expected) for p in card.passages
    )
    report.citation_found += found
    decided, key_right = label.get("decided"), label.get("key_right")
    report.decidable += decided is not None
    if card.verdict is not None:
        report.verdicts += 1
        report.verdicts_right += card.verdict == decided
        if key_right:
            report.key_right_verdicts += 1
            report.key_right_verdicts_on_key += card.verdict in question.accepted_set
    if key_right is False:
        report.conflicts_labelled += 1
        report.conflicts_flagged += card.key_conflict
    marks = label.get("choice_marks") or []
    for given, labelled in zip(row["marks"], marks, strict=False):
        report.choices += 1
        report.choices_right += given == labelled
        report.confusion[(labelled, given)] += 1
    row.update(
        expected=expected,
        citation_found=found,
        decided=decided,
        labelled_marks=marks,
    )
    report.rows.append(row)


def _citation_key(citation: str) -> str:
    """A citation as compared with a label: the document's title as its owner
    typed it may space or join its words otherwise than the law's name
    ("산업안전보건법-시행령", "산업안전보건기준에관한규칙")."""
    return re.sub(r"[\s\-_·ㆍ]", "", citation)
