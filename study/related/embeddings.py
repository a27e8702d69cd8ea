"""Question embeddings (stem + choices) and the hooks that keep them and the
cached relations current as questions are created, edited and deleted."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import timedelta
from functools import partial

from django.db import close_old_connections, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task

from study.llm.embeddings import embedder_name, get_embedder
from study.models import EmbeddingStatus, Question
from study.related.refresh import (
    question_related_invalidate,
    topic_related_invalidate,
)
from study.related.rules import embedding_text
from study.related.services import question_related_compute, topic_related_compute

logger = logging.getLogger(__name__)

TEXT_FIELDS = ("stem", "choice_1", "choice_2", "choice_3", "choice_4")
RELATION_INPUTS = frozenset(
    {*TEXT_FIELDS, "exam_year", "exam_session", "number", "topic"}
    | {"correct_choice", "accepted_choices"}
)
EMBED_TASK = "study.tasks.question_embed_task"
EMBED_BATCH_TASK = "study.tasks.questions_embed_task"
TASK_BATCH = 500  # question ids per background task after an import
EMBED_BATCH = 64
OVERDUE_AFTER = timedelta(minutes=10)
OVERDUE_BATCH = 64


def question_embedding_text(question: Question) -> str:
    return embedding_text(stem=question.stem, choices=question.choices)


def question_related_on_create(*, question: Question) -> None:
    question_embedding_request(question=question)


def questions_related_on_create(*, question_ids: Iterable[int]) -> None:
    """question_related_on_create for many (an import): batched embedding."""
    questions_embedding_request(question_ids=question_ids)


def _re_embeds(changed: set[str]) -> bool:
    return bool(changed & set(TEXT_FIELDS))


def _re_relates(changed: set[str]) -> bool:
    # Others list this one (round, number, stem) and judged it by its answer.
    return bool(changed & RELATION_INPUTS)


def question_related_on_update(
    *, question: Question, changed: set[str], previous_topic_id: int | None = None
) -> None:
    if _re_embeds(changed):
        question_embedding_request(question=question)
    if _re_relates(changed):
        question_related_invalidate(question_id=question.pk)
        topic_related_invalidate(topic_id=question.topic_id)
    if previous_topic_id not in (None, question.topic_id):
        topic_related_invalidate(topic_id=previous_topic_id)


def questions_related_on_update(
    *, changes: Iterable[tuple[Question, set[str]]]
) -> None:
    """question_related_on_update for many (an import): one embedding request,
    one invalidation per topic."""
    changes = list(changes)
    questions_embedding_request(
        question_ids=[q.pk for q, changed in changes if _re_embeds(changed)]
    )
    questions_related_on_delete(
        questions=[q for q, changed in changes if _re_relates(changed)]
    )


def question_related_on_delete(*, question: Question) -> None:
    """Soft delete and restore: the topic's candidates changed."""
    questions_related_on_delete(questions=[question])


def questions_related_on_delete(*, questions: Iterable[Question]) -> None:
    questions = list(questions)
    if not questions:
        return
    Question.objects.filter(pk__in=[q.pk for q in questions]).update(
        related_computed_at=None
    )
    for topic_id in sorted({q.topic_id for q in questions}):
        topic_related_invalidate(topic_id=topic_id)


def question_embedding_request(*, question: Question) -> None:
    """Mark the question pending; it is embedded in the background after commit."""
    Question.objects.filter(pk=question.pk).update(
        embedding_status=EmbeddingStatus.PENDING, related_computed_at=None
    )
    question.embedding_status = EmbeddingStatus.PENDING
    question.related_computed_at = None
    transaction.on_commit(partial(_enqueue, EMBED_TASK, question.pk), robust=True)


def questions_embedding_request(*, question_ids: Iterable[int]) -> int:
    """Mark many pending; one background task per TASK_BATCH ids. Returns tasks."""
    ids = sorted(set(question_ids))
    if not ids:
        return 0
    Question.objects.filter(pk__in=ids).update(
        embedding_status=EmbeddingStatus.PENDING, related_computed_at=None
    )
    batches = [ids[i : i + TASK_BATCH] for i in range(0, len(ids), TASK_BATCH)]
    for batch in batches:
        transaction.on_commit(partial(_enqueue, EMBED_BATCH_TASK, batch), robust=True)
    return len(batches)


def _enqueue(func: str, argument: int | list[int]) -> None:
    async_task(func, argument)


def question_embed(*, question_id: int) -> str:
    """Embed one question; once ready, its relations are computed and the rest
    of its topic is marked due, in the same transaction."""
    question = Question.objects.alive().filter(pk=question_id).first()
    if question is None:
        return "gone"
    text = question_embedding_text(question)
    embedder = get_embedder()
    try:
        vector = embedder.embed_passages([text])[0]
    except Exception:
        logger.exception("embedding question %s failed", question_id)
        _mark_failed([question_id])
        return EmbeddingStatus.FAILED
    with transaction.atomic():
        locked = Question.objects.select_for_update().filter(pk=question_id).first()
        if locked is None or question_embedding_text(locked) != text:
            return "outdated"  # edited meanwhile: that edit queued its own task
        _store(locked, vector, embedder.name)
        question_related_compute(question=locked)
        topic_related_invalidate(topic_id=locked.topic_id, exclude_id=locked.pk)
    return EmbeddingStatus.READY


def _store(question: Question, vector: list[float], model: str) -> None:
    values = {
        "embedding": vector,
        "embedding_model": model,
        "embedding_status": EmbeddingStatus.READY,
        "embedded_at": timezone.now(),
    }
    Question.objects.filter(pk=question.pk).update(**values)
    for name, value in values.items():
        setattr(question, name, value)


def questions_embed(
    *,
    question_ids: Iterable[int],
    compute_relations: bool = True,
    on_progress: Callable[[int], object] | None = None,
) -> int:
    """Embed many questions, storing each batch as it is done; then recompute
    their topics' relations (a whole topic at once is cheaper than marking it
    due). A text several questions share (a repeat printed alike) is embedded
    once. Returns how many embeddings were stored."""
    questions = list(
        Question.objects.alive()
        .filter(pk__in=list(question_ids))
        .only("id", "topic_id", *TEXT_FIELDS)
    )
    texts = {q.pk: question_embedding_text(q) for q in questions}
    by_text: dict[str, list[int]] = {}
    for pk in sorted(texts):
        by_text.setdefault(texts[pk], []).append(pk)
    unique = list(by_text)
    embedder = get_embedder()
    stored: set[int] = set()
    for start in range(0, len(unique), EMBED_BATCH):
        batch = unique[start : start + EMBED_BATCH]
        try:
            vectors = embedder.embed_passages(batch)
        except Exception:
            left = [pk for text in unique[start:] for pk in by_text[text]]
            logger.exception("embedding %s questions failed", len(left))
            _mark_failed(left)
            break
        _drop_stale_connection()
        found = {
            pk: vector
            for text, vector in zip(batch, vectors, strict=True)
            for pk in by_text[text]
        }
        with transaction.atomic():
            stored |= _store_many(found, texts, embedder.name)
        if on_progress:
            on_progress(len(found))
    if compute_relations:
        for topic_id in sorted({q.topic_id for q in questions if q.pk in stored}):
            with transaction.atomic():
                topic_related_compute(topic_id=topic_id)
    return len(stored)


def _drop_stale_connection() -> None:
    """Embedding a batch can outlast an idle connection (a command, a worker)."""
    if not connection.in_atomic_block:
        close_old_connections()


_STORE_VECTORS = """
UPDATE {table} AS q SET embedding = v.embedding::vector, embedding_model = %s,
    embedding_status = %s, embedded_at = %s
FROM unnest(%s::bigint[], %s::text[]) AS v(id, embedding)
WHERE q.id = v.id
"""


def _store_many(vectors: dict, texts: dict, model: str) -> set[int]:
    """Store the vectors whose question text is still the embedded text (one
    UPDATE … FROM unnest: bulk_update's CASE per row costs seconds here)."""
    locked = (
        Question.objects.select_for_update()
        .filter(pk__in=list(vectors))
        .only("id", *TEXT_FIELDS)
        .order_by("id")
    )
    fresh = [q.pk for q in locked if question_embedding_text(q) == texts[q.pk]]
    if fresh:
        sql = _STORE_VECTORS.format(
            table=connection.ops.quote_name(Question._meta.db_table)
        )
        literals = [_vector_literal(vectors[pk]) for pk in fresh]
        with connection.cursor() as cursor:
            cursor.execute(
                sql,
                [model, EmbeddingStatus.READY, timezone.now(), fresh, literals],
            )
    return set(fresh)


def _vector_literal(vector: Iterable[float]) -> str:
    return "[" + ",".join(f"{float(x):.7g}" for x in vector) + "]"


def _mark_failed(question_ids: list[int]) -> None:
    Question.objects.filter(
        pk__in=question_ids, embedding_status=EmbeddingStatus.PENDING
    ).update(embedding_status=EmbeddingStatus.FAILED)


def topic_questions_missing_embedding(*, topic_id: int) -> list[int]:
    """Live questions without a ready embedding by the current embedder."""
    ready = Q(embedding_status=EmbeddingStatus.READY, embedding_model=embedder_name())
    return list(
        Question.objects.alive()
        .filter(topic_id=topic_id)
        .exclude(ready)
        .order_by("id")
        .values_list("id", flat=True)
    )


def questions_embed_overdue(*, limit: int = OVERDUE_BATCH) -> int:
    """Safety net: pending questions whose task was lost are embedded here."""
    overdue = list(
        Question.objects.alive()
        .filter(
            embedding_status=EmbeddingStatus.PENDING,
            updated_at__lt=timezone.now() - OVERDUE_AFTER,
        )
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    return questions_embed(question_ids=overdue) if overdue else 0
