"""The staff debugging view of one question's neighbours: nearest by raw
cosine, with rounds and the rules' verdicts shown rather than applied."""

from __future__ import annotations

from dataclasses import dataclass

from study import rounds
from study.models import Question
from study.related.rules import decisive_difference
from study.related.selectors import question_nearest
from study.related.services import RelationRow, preview
from study.related.thresholds import (
    Thresholds,
    classify_pair,
    current_thresholds,
    is_comparable,
)


@dataclass(frozen=True)
class Neighbour:
    id: int
    round_key: str
    number: int | None
    stem: str
    similarity: float
    same_round: bool
    kind: str | None
    difference: str | None


def question_neighbours_raw(*, question: Question, limit: int = 20) -> list[Neighbour]:
    """Nearest questions of the topic by raw cosine, rounds and rules shown,
    not applied (the staff debugging view)."""
    thresholds = current_thresholds()
    if not is_comparable(question, thresholds):
        return []
    nearest = question_nearest(question=question, model=thresholds.model, limit=limit)
    mine = RelationRow.of_question(question)
    return [
        _neighbour(mine, RelationRow.of(v), v["similarity"], thresholds)
        for v in nearest
    ]


def _neighbour(
    mine: RelationRow, other: RelationRow, similarity: float, th: Thresholds
) -> Neighbour:
    same_round = mine.round is not None and mine.round == other.round
    candidate = other.round is not None and not same_round
    return Neighbour(
        id=other.id,
        round_key=rounds.round_key(other.year, other.session),
        number=other.number,
        stem=preview(other.stem),
        similarity=round(float(similarity), 4),
        same_round=same_round,
        kind=classify_pair(similarity, mine.text, other.text, th)
        if candidate
        else None,
        difference=decisive_difference(mine.text, other.text),
    )
