"""Repeated and similar questions across exam rounds, computed and cached on
each question.

For a question, candidates are the same topic's live questions whose
embeddings (by the current embedder) are ready, excluding itself, its own
round and questions with no round; related_thresholds says which pairs are
REPEAT or SIMILAR, related_grades what grade the rounds earn.

The result (both lists, their counts, round_count, grade) is stored on the
question with the threshold version it was computed under; a question whose
computed_at is NULL or whose version is old is recomputed on demand or by the
every-minute refresh (related_refresh).

Around it: selectors.related (the reads), related_vectors (a topic's
similarity maths), related_store (the bulk write), related_calibration (the
histograms that set the thresholds), related_debug (the staff view).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from django.utils import timezone

from study import rounds
from study.evidence.services import topic_cards_compute_enqueue_ids
from study.models import EmbeddingStatus, Question
from study.related import vectors as related_vectors
from study.related.grades import grade_for
from study.related.rules import KEY_CONFLICT, PairVerdict, QuestionText
from study.related.selectors import (
    RELATION_FIELDS,
    RelatedView,
    question_related_matches,
    recent_year_floor,
    related_view,
    topic_embedded_rows,
)
from study.related.store import relations_write_bulk
from study.related.thresholds import (
    CANDIDATE_LIMIT,
    REPEAT,
    SIMILAR,
    Thresholds,
    current_thresholds,
    is_comparable,
    pair_verdict_for,
)

LIST_LIMIT = 50
PREVIEW_CHARS = 80


@dataclass(frozen=True)
class RelationRow:
    """A question as the relation rules read it."""

    id: int
    year: int | None
    session: str
    number: int | None
    stem: str
    text: QuestionText

    @classmethod
    def of(cls, values: dict) -> RelationRow:
        """From a dict of selectors.related.RELATION_FIELDS."""
        choices = [values[f"choice_{i}"] for i in range(1, 5)]
        return cls(
            id=values["id"],
            year=values["exam_year"],
            session=values["exam_session"],
            number=values["number"],
            stem=values["stem"],
            text=QuestionText.build(
                stem=values["stem"],
                choices=choices,
                correct_choice=values["correct_choice"],
                accepted_choices=values["accepted_choices"],
            ),
        )

    @classmethod
    def of_question(cls, question: Question) -> RelationRow:
        return cls.of({name: getattr(question, name) for name in RELATION_FIELDS})

    @property
    def round(self) -> tuple[int, str] | None:
        """The sitting: forms (A형, B형) of one sitting are not other rounds."""
        if self.year is None or not rounds.has_round(self.year, self.session):
            return None
        return (self.year, rounds.session_sitting(self.session))

    def entry(self, similarity: float, key: str = "") -> dict:
        """What a list shows of a related question; a repeat also says how
        its key relates (rules.KEY_SAME / KEY_OTHER / KEY_CONFLICT) and which
        choice(s) its round keyed."""
        entry: dict[str, object] = {
            "id": self.id,
            "similarity": round(float(similarity), 4),
            "year": self.year,
            "session": self.session,
            "number": self.number,
            "stem": preview(self.stem),
        }
        if key:
            entry["key"] = key
            entry["answer"] = sorted(k + 1 for k in self.text.keyed)
        return entry


def preview(stem: str) -> str:
    flat = " ".join(stem.split())
    return flat if len(flat) <= PREVIEW_CHARS else flat[: PREVIEW_CHARS - 1] + "…"


@dataclass
class _Pairs:
    """The rules' verdict, computed once per unordered pair."""

    thresholds: Thresholds
    verdicts: dict[tuple[int, int], PairVerdict] = field(default_factory=dict)

    def verdict(self, similarity: float, a: RelationRow, b: RelationRow) -> PairVerdict:
        key = (min(a.id, b.id), max(a.id, b.id))
        if key not in self.verdicts:
            first, second = (a, b) if a.id < b.id else (b, a)
            self.verdicts[key] = pair_verdict_for(
                similarity, first.text, second.text, self.thresholds
            )
        return self.verdicts[key]


def _relation_values(
    row: RelationRow,
    matches: Iterable[tuple[RelationRow, float]],
    *,
    pairs: _Pairs,
    recent_floor: int | None,
    now: datetime,
) -> dict:
    repeat: list[tuple[RelationRow, float, str]] = []
    similar: list[tuple[RelationRow, float]] = []
    for other, similarity in sorted(matches, key=lambda m: (-m[1], m[0].id)):
        verdict = pairs.verdict(similarity, row, other)
        if verdict.kind == REPEAT:
            repeat.append((other, similarity, verdict.key))
        elif verdict.kind == SIMILAR:
            similar.append((other, similarity))
    related = [other for other, *_ in repeat] + [other for other, _ in similar]
    rounds_seen = {r.round for r in [row, *related] if r.round}
    round_count = len(rounds_seen) if related else 0
    years = [r.year for r in [row, *related] if r.year is not None]
    return {
        "related_repeat": [o.entry(s, key) for o, s, key in repeat[:LIST_LIMIT]],
        "related_similar": [o.entry(s) for o, s in similar[:LIST_LIMIT]],
        "repeat_count": len(repeat),
        "repeat_key_conflicts": sum(key == KEY_CONFLICT for *_, key in repeat),
        "similar_count": len(similar),
        "round_count": round_count,
        "related_grade": grade_for(
            round_count=round_count,
            latest_year=max(years) if years else None,
            recent_floor=recent_floor,
        ),
        "related_computed_at": now,
        "related_threshold_version": pairs.thresholds.version,
    }


def question_related_compute(*, question: Question) -> bool:
    """Compute and store one question's relations; False when it has no embedding.

    The similarity runs in PostgreSQL over the topic's rows (a filter, not an
    ORDER BY … LIMIT, so the HNSW index cannot drop candidates).
    """
    thresholds = current_thresholds()
    if not is_comparable(question, thresholds):
        return False
    found = question_related_matches(
        question=question,
        model=thresholds.model,
        floor=thresholds.floor,
        limit=CANDIDATE_LIMIT,
    )
    values = _relation_values(
        RelationRow.of_question(question),
        [(RelationRow.of(v), v["similarity"]) for v in found],
        pairs=_Pairs(thresholds),
        recent_floor=recent_year_floor(topic_id=question.topic_id),
        now=timezone.now(),
    )
    Question.objects.filter(pk=question.pk).update(**values)
    for name, value in values.items():
        setattr(question, name, value)
    return True


def question_related_view(*, question: Question) -> RelatedView:
    """The cached relations; a miss (never computed, invalidated, outdated
    thresholds) is computed and stored first."""
    if question.embedding_status == EmbeddingStatus.READY and not is_fresh(question):
        question_related_compute(question=question)
    return related_view(question)


def is_fresh(question: Question) -> bool:
    return (
        question.related_computed_at is not None
        and question.related_threshold_version == current_thresholds().version
    )


@dataclass
class TopicRelationsReport:
    questions: int = 0
    with_repeat: int = 0
    with_similar: int = 0
    grades: Counter = field(default_factory=Counter)
    seconds: float = 0.0


@dataclass(frozen=True)
class TopicVectors:
    """A topic's comparable questions, their unit vectors and round ids."""

    rows: list[RelationRow]
    matrix: np.ndarray  # one row a question, unit length
    rounds: np.ndarray  # round ids (-1: no round)

    @classmethod
    def load(cls, *, topic_id: int, model: str) -> TopicVectors:
        rows: list[RelationRow] = []
        vectors: list = []
        for values in topic_embedded_rows(topic_id=topic_id, model=model):
            rows.append(RelationRow.of(values))
            vectors.append(values["embedding"])
        return cls(
            rows=rows,
            matrix=related_vectors.unit_matrix(vectors),
            rounds=related_vectors.round_ids([r.round for r in rows]),
        )


def topic_related_compute(
    *, topic_id: int, on_progress: Callable[[int, int], None] | None = None
) -> TopicRelationsReport:
    """Relations of every comparable question of the topic, in one pass.

    The topic's embeddings become one matrix; similarities are computed in
    blocks of rows (related_vectors), and all rows are written in bulk
    (related_store).
    """
    started = time.monotonic()
    thresholds = current_thresholds()
    topic = TopicVectors.load(topic_id=topic_id, model=thresholds.model)
    rows = topic.rows
    report = TopicRelationsReport(questions=len(rows))
    pairs = _Pairs(thresholds)
    recent_floor = recent_year_floor(topic_id=topic_id)
    now = timezone.now()
    updated: list[tuple[int, dict]] = []
    found = related_vectors.matches_above(
        topic.matrix, topic.rounds, thresholds.floor, on_progress, CANDIDATE_LIMIT
    )
    for index, matches in found:
        values = _relation_values(
            rows[index],
            [(rows[j], similarity) for j, similarity in matches],
            pairs=pairs,
            recent_floor=recent_floor,
            now=now,
        )
        updated.append((rows[index].id, values))
        report.with_repeat += values["repeat_count"] > 0
        report.with_similar += values["similar_count"] > 0
        if values["related_grade"]:
            report.grades[values["related_grade"]] += 1
    relations_write_bulk(updated, now=now, version=thresholds.version)
    if updated:  # the cards' histories read the relations
        topic_cards_compute_enqueue_ids(topic_ids=[topic_id])
    report.seconds = time.monotonic() - started
    return report
