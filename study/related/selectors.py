"""Reads of the related questions: one question's cached lists (one SELECT on
a cache hit), counts for a page of cards (one SELECT for all of them), and the
rows the relations are computed from (candidates, a topic's vectors, nearest
neighbours, the recent-year floor of the grades)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Max, QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from pgvector.django import CosineDistance

from study import rounds
from study.models import EmbeddingStatus, Question, Topic
from study.models.question import ANSWER_DEFINING_FIELDS, ROUND_KEY_FIELDS
from study.related.rules import KEY_CONFLICT

BULK_MAX_IDS = 200
# What the relation rules read of a question (related_rules, the round).
RELATION_FIELDS = ("id", *ROUND_KEY_FIELDS, *ANSWER_DEFINING_FIELDS)


@dataclass(frozen=True)
class RelatedItem:
    id: int
    round: str
    round_key: str
    number: int | None
    stem: str
    similarity: float
    # A repeat's key against this question's: same | other | conflict
    # (study.related.rules), and the choice number(s) its round keyed.
    key: str = ""
    answer: tuple[int, ...] = ()

    @classmethod
    def of(cls, entry: dict) -> RelatedItem:
        year, session = entry.get("year"), entry.get("session") or ""
        return cls(
            id=entry["id"],
            round=rounds.round_label(year, session),
            round_key=rounds.round_key(year, session),
            number=entry.get("number"),
            stem=entry.get("stem", ""),
            similarity=entry.get("similarity", 0.0),
            key=entry.get("key", ""),
            answer=tuple(entry.get("answer", ())),
        )

    @property
    def key_conflict(self) -> bool:
        return self.key == KEY_CONFLICT

    @property
    def url(self) -> str:
        return reverse("study:question", args=[self.id])

    def as_dict(self) -> dict:
        return {**asdict(self), "url": self.url}


@dataclass(frozen=True)
class RelatedView:
    question_id: int
    status: str
    has_round: bool
    repeat: tuple[RelatedItem, ...]
    similar: tuple[RelatedItem, ...]
    repeat_count: int
    similar_count: int
    round_count: int
    grade: str
    computed_at: datetime | None

    @property
    def related_count(self) -> int:
        return self.repeat_count + self.similar_count

    @property
    def is_ready(self) -> bool:
        return self.status == EmbeddingStatus.READY

    def as_dict(self) -> dict:
        return {
            "question_id": self.question_id,
            "status": self.status,
            "round_count": self.round_count,
            "related_count": self.related_count,
            "repeat_count": self.repeat_count,
            "similar_count": self.similar_count,
            "grade": self.grade,
            "repeat": [item.as_dict() for item in self.repeat],
            "similar": [item.as_dict() for item in self.similar],
            "computed_at": self.computed_at.isoformat() if self.computed_at else None,
        }


def related_view(question: Question) -> RelatedView:
    """The relations stored on the row; no query."""
    return RelatedView(
        question_id=question.pk,
        status=question.embedding_status,
        has_round=question.has_round,
        repeat=tuple(RelatedItem.of(e) for e in question.related_repeat),
        similar=tuple(RelatedItem.of(e) for e in question.related_similar),
        repeat_count=question.repeat_count,
        similar_count=question.similar_count,
        round_count=question.round_count,
        grade=question.related_grade,
        computed_at=question.related_computed_at,
    )


def question_get_for_related(
    *, user: User | AnonymousUser, question_id: int
) -> Question:
    """The question if the user may read it (else 404), in one SELECT."""
    visible = Topic.objects.visible_to(user)
    return get_object_or_404(
        Question.objects.alive().filter(topic__in=visible).defer("embedding"),
        pk=question_id,
    )


@dataclass(frozen=True)
class RelatedCounts:
    repeat_count: int = 0
    similar_count: int = 0
    round_count: int = 0
    grade: str = ""

    @property
    def related_count(self) -> int:
        return self.repeat_count + self.similar_count

    def as_dict(self) -> dict:
        return {**asdict(self), "related_count": self.related_count}


def related_counts_bulk(
    *, topic: Topic, question_ids: Iterable[int]
) -> dict[int, RelatedCounts]:
    """Counts for every requested id, in one query; ids outside the topic, deleted
    or without a computed relation answer zeros (the keys are all kept)."""
    ids = list(dict.fromkeys(question_ids))[:BULK_MAX_IDS]
    counts = dict.fromkeys(ids, RelatedCounts())
    for row in _computed(topic=topic, ids=ids):
        counts[row["id"]] = RelatedCounts(
            repeat_count=row["repeat_count"],
            similar_count=row["similar_count"],
            round_count=row["round_count"],
            grade=row["related_grade"],
        )
    return counts


def _computed(*, topic: Topic, ids: list[int]) -> QuerySet:
    return (
        Question.objects.alive()
        .filter(topic=topic, pk__in=ids, embedding_status=EmbeddingStatus.READY)
        .exclude(related_threshold_version="")
        .values("id", "repeat_count", "similar_count", "round_count", "related_grade")
    )


def topic_export_rows(*, topic: Topic) -> Iterator[Question]:
    """The topic's live questions in round order, for export_questions."""
    return (
        Question.objects.alive()
        .filter(topic=topic)
        .in_round_order()
        .defer("embedding")
        .iterator(chunk_size=1000)
    )


def _embedded(*, topic_id: int, model: str) -> QuerySet:
    """The topic's live questions whose embedding by `model` is ready."""
    return Question.objects.alive().filter(
        topic_id=topic_id, embedding_status=EmbeddingStatus.READY, embedding_model=model
    )


def related_candidates(*, topic_id: int, model: str) -> QuerySet:
    """Possible relations of others: live, embedded by `model`, in a round."""
    return (
        _embedded(topic_id=topic_id, model=model)
        .filter(exam_year__isnull=False)
        .exclude(exam_session="")
    )


def question_related_matches(
    *, question: Question, model: str, floor: float, limit: int
) -> QuerySet:
    """The `limit` nearest candidates of other rounds at least `floor`
    similar (ties by id), as RELATION_FIELDS and `similarity`: what
    related_vectors.matches_above keeps for the whole topic. Ordered by the
    expression, an exact scan (question embeddings have no approximate
    index)."""
    pool = related_candidates(topic_id=question.topic_id, model=model)
    pool = pool.exclude(pk=question.pk)
    if question.has_round:
        pool = pool.exclude(
            exam_year=question.exam_year,
            exam_session__regex=rounds.same_sitting_pattern(question.exam_session),
        )
    return (
        pool.annotate(similarity=1 - CosineDistance("embedding", question.embedding))
        .filter(similarity__gte=floor)
        .order_by("-similarity", "id")
        .values(*RELATION_FIELDS, "similarity")[:limit]
    )


def topic_embedded_rows(*, topic_id: int, model: str) -> Iterator[dict[str, Any]]:
    """Every live question of the topic embedded by `model`, in id order, as
    RELATION_FIELDS and `embedding` (streamed)."""
    return (
        _embedded(topic_id=topic_id, model=model)
        .filter(embedding__isnull=False)
        .order_by("id")
        .values(*RELATION_FIELDS, "embedding")
        .iterator(chunk_size=2000)
    )


def question_nearest(*, question: Question, model: str, limit: int) -> QuerySet:
    """The topic's questions nearest by raw cosine, any round (staff debugging)."""
    similarity = 1 - CosineDistance("embedding", question.embedding)
    return (
        _embedded(topic_id=question.topic_id, model=model)
        .exclude(pk=question.pk)
        .annotate(similarity=similarity)
        .order_by("-similarity", "id")  # an expression: no approximate index scan
        .values(*RELATION_FIELDS, "similarity")[:limit]
    )


def question_evidence_neighbours(
    *, question: Question, vector: list[float], model: str, minimum: float, limit: int
) -> QuerySet:
    """The `limit` live questions of the question's subject, any round,
    embedded by `model` and at least `minimum` similar to `vector` (the
    question's embedding), nearest first (ties by id): the explanation's
    similar questions when it has no related one to show. The subject's share
    of the topic is scanned exactly (an expression in ORDER BY)."""
    similarity = 1 - CosineDistance("embedding", vector)
    return (
        _embedded(topic_id=question.topic_id, model=model)
        .filter(subject=question.subject)
        .exclude(pk=question.pk)
        .annotate(similarity=similarity)
        .filter(similarity__gte=minimum)
        .order_by("-similarity", "id")
        .defer("embedding")[:limit]
    )


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
