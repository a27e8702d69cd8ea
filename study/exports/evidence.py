"""The back of an exported card: what the question's 근거 카드 shows
(study/evidence/): the citation and text of the passage that decides it, the
verdict, and every choice's mark against the passages.

Only a fresh cached card travels (an export is a read: it computes none);
a card is computed when the question is first viewed, by the owner's
정답 확인 필요 computation, or by `manage.py answer_review`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from study.evidence.selectors import CardView, cards_fresh
from study.models import Question


@dataclass(frozen=True)
class CardEvidence:
    citation: str
    passage: str
    verdict: int | None
    key_conflict: bool
    marks: tuple[tuple[int, str], ...]  # (choice, match | differ | absent)


def card_evidence(card: CardView) -> CardEvidence | None:
    """What an exported card shows of the 근거 카드, or None when the card
    has no passage."""
    passage = card.deciding or (card.passages[0] if card.passages else None)
    if passage is None:
        return None
    return CardEvidence(
        citation=passage.data_citation,
        passage=passage.text.strip(),
        verdict=card.verdict,
        key_conflict=card.key_conflict,
        marks=tuple((c.number, c.mark) for c in card.choices),
    )


def questions_card_evidence(
    questions: Sequence[Question],
) -> dict[int, CardEvidence]:
    """The evidence of every question that has a fresh card with passages
    (two queries for a topic's questions)."""
    found = {}
    for question_id, card in cards_fresh(questions=questions).items():
        evidence = card_evidence(card)
        if evidence is not None:
            found[question_id] = evidence
    return found


def question_card_evidence(question: Question) -> CardEvidence | None:
    """One question's evidence (see questions_card_evidence)."""
    return questions_card_evidence([question]).get(question.pk)
