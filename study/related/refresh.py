"""Keeping the cached relations current: invalidation as questions change and
thresholds move, and the every-minute refresh (study.schedules) that
recomputes what is due."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from study.evidence.services import topic_cards_compute_enqueue_ids
from study.models import EmbeddingStatus, Question
from study.related.services import question_related_compute
from study.related.thresholds import current_thresholds

REFRESH_BATCH = 20


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
        # The cards' histories read the relations: one run per topic (a run
        # already going skips and its next pass picks these up).
        topic_cards_compute_enqueue_ids(topic_ids={q.topic_id for q in due})
    return len(due)
