"""Enqueue publishing events in the caller's transaction; wake the relay on commit.

Every function here must run inside the transaction of the content change that
causes it, so the change and its events commit together or not at all. They do
nothing (and return [] or 0) while settings.STUDY_PUBLISH_ENABLED is false.

Only questions of topics whose owner marked them for publishing
(Topic.is_published) leave the site; a topic that is unmarked sends tombstones
for everything it published, and a question never published sends nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django_q.tasks import async_task

from publishing import snapshots
from publishing.models import AggregateSequence, EventKind, OutboxEvent
from study.models import Question, Topic

CHUNK_SIZE = 1000
RELAY_TASK = "publishing.tasks.relay_outbox"

Planned = list[tuple[EventKind, dict]]


class TransactionRequired(RuntimeError):
    """Publishing outside a transaction could commit content without its events."""


def publish_question(*, question: Question) -> list[OutboxEvent]:
    """Project the question as it now stands (tombstones once soft-deleted).

    Alive: the question, then its explanation when ready, or an explanation
    tombstone when explanation text exists but is no longer ready (stale, being
    regenerated), so the viewer never keeps an explanation the study side
    withdrew. Soft-deleted: explanation tombstone (when text exists), then the
    question tombstone.
    """
    return _publish_projections([question.pk])


def publish_explanation_ready(*, question: Question) -> list[OutboxEvent]:
    """The question and its newly ready explanation (prefetch and on-demand)."""
    return _publish_projections([question.pk])


def publish_explanation_stale(*, question: Question) -> list[OutboxEvent]:
    """Withdraw the question's explanation from the viewer."""
    _require_transaction()
    if not settings.STUDY_PUBLISH_ENABLED:
        return []
    if not Topic.objects.published().filter(pk=question.topic_id).exists():
        return []
    planned = {
        question.pk: [
            (
                EventKind.EXPLANATION_TOMBSTONE,
                snapshots.explanation_tombstone(question.pk),
            )
        ]
    }
    events = _write_events(planned, _lock_sequences([question.pk]))
    _wake_relay_on_commit()
    return events


def publish_questions_bulk(*, questions: Iterable[Question]) -> int:
    """Project many questions at once (importer, republish); returns events written."""
    return len(_publish_projections([q.pk for q in questions]))


def publish_topic(*, topic: Topic) -> int:
    """The topic was marked for publishing: send every question as it stands."""
    ids = list(Question.objects.filter(topic=topic).values_list("pk", flat=True))
    return len(_publish_projections(ids))


def publish_topic_withdraw(*, topic: Topic) -> int:
    """The topic was unmarked: tombstones for each question the viewer was sent."""
    _require_transaction()
    if not settings.STUDY_PUBLISH_ENABLED:
        return 0
    ids = sorted(_ever_published(Question.objects.filter(topic=topic)))
    events: list[OutboxEvent] = []
    for start in range(0, len(ids), CHUNK_SIZE):
        chunk = ids[start : start + CHUNK_SIZE]
        planned = {qid: _missing_projection(qid) for qid in chunk}
        events.extend(_write_events(planned, _lock_sequences(chunk)))
    if events:
        _wake_relay_on_commit()
    return len(events)


def _ever_published(questions: QuerySet[Question]) -> set[int]:
    ids = questions.values_list("pk", flat=True)
    return set(
        AggregateSequence.objects.filter(
            aggregate_id__in=ids, last_seq__gt=0
        ).values_list("aggregate_id", flat=True)
    )


def outbox_events_retry(*, events: Iterable[OutboxEvent]) -> int:
    """Give undelivered (typically dead) events a fresh set of attempts, now."""
    with transaction.atomic():
        count = OutboxEvent.objects.filter(
            pk__in=[e.pk for e in events], delivered_at__isnull=True
        ).update(dead_at=None, attempts=0, next_attempt_at=timezone.now())
        if count:
            _wake_relay_on_commit()
    return count


def outbox_events_replay(*, events: Iterable[OutboxEvent]) -> int:
    """Publish the current state of the events' questions again, as new events.

    New ids and sequence numbers, so an idempotent viewer applies them and the
    per-question order still holds; re-sending an old event could roll the
    viewer back to an outdated snapshot.
    """
    with transaction.atomic():
        return len(_publish_projections([e.aggregate_id for e in events]))


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise TransactionRequired(
            "publishing must run inside the content change's transaction.atomic()"
        )


def _publish_projections(question_ids: list[int]) -> list[OutboxEvent]:
    _require_transaction()
    if not settings.STUDY_PUBLISH_ENABLED or not question_ids:
        return []
    ids = _publishable(sorted(set(question_ids)))
    events: list[OutboxEvent] = []
    # Ascending id order everywhere: concurrent publishers lock counters in the
    # same order and cannot deadlock on them.
    for start in range(0, len(ids), CHUNK_SIZE):
        chunk = ids[start : start + CHUNK_SIZE]
        last_seqs = _lock_sequences(chunk)
        # Read after locking: a concurrent publisher of the same question has
        # committed by now, so a later sequence number never carries older state.
        questions = Question.objects.filter(pk__in=chunk).select_related("topic")
        planned = {qid: _missing_projection(qid) for qid in chunk}
        planned.update({q.pk: _projection(q) for q in questions})
        events.extend(_write_events(planned, last_seqs))
    if events:
        _wake_relay_on_commit()
    return events


def _publishable(ids: list[int]) -> list[int]:
    """Questions of published topics, and vanished ones the viewer was sent."""
    existing = Question.objects.filter(pk__in=ids)
    published = set(
        existing.filter(topic__is_published=True).values_list("pk", flat=True)
    )
    gone = set(ids) - set(existing.values_list("pk", flat=True))
    vanished = set(
        AggregateSequence.objects.filter(
            aggregate_id__in=gone, last_seq__gt=0
        ).values_list("aggregate_id", flat=True)
    )
    return sorted(published | vanished)


def _projection(question: Question) -> Planned:
    explanation_tombstone = (
        EventKind.EXPLANATION_TOMBSTONE,
        snapshots.explanation_tombstone(question.pk),
    )
    if question.is_deleted:
        planned = []
        if snapshots.explanation_may_be_public(question):
            planned.append(explanation_tombstone)
        planned.append(
            (EventKind.QUESTION_TOMBSTONE, snapshots.question_tombstone(question))
        )
        return planned
    planned = [(EventKind.QUESTION, snapshots.question_snapshot(question))]
    if snapshots.explanation_is_public(question):
        planned.append(
            (EventKind.EXPLANATION, snapshots.explanation_snapshot(question))
        )
    elif snapshots.explanation_may_be_public(question):
        planned.append(explanation_tombstone)
    return planned


def _missing_projection(question_id: int) -> Planned:
    """A question that no longer exists at all (deleted outright)."""
    return [
        (EventKind.EXPLANATION_TOMBSTONE, snapshots.explanation_tombstone(question_id)),
        (EventKind.QUESTION_TOMBSTONE, {"id": question_id, "deleted_at": None}),
    ]


def _lock_sequences(question_ids: list[int]) -> dict[int, int]:
    AggregateSequence.objects.bulk_create(
        [AggregateSequence(aggregate_id=qid) for qid in question_ids],
        ignore_conflicts=True,
    )
    return dict(
        AggregateSequence.objects.select_for_update()
        .filter(aggregate_id__in=question_ids)
        .order_by("aggregate_id")
        .values_list("aggregate_id", "last_seq")
    )


def _write_events(
    planned: dict[int, Planned], last_seqs: dict[int, int]
) -> list[OutboxEvent]:
    now = timezone.now()
    events: list[OutboxEvent] = []
    by_increment: dict[int, list[int]] = defaultdict(list)
    for qid, items in planned.items():
        by_increment[len(items)].append(qid)
        for offset, (kind, snapshot) in enumerate(items, start=1):
            events.append(
                OutboxEvent(
                    aggregate_id=qid,
                    seq=last_seqs[qid] + offset,
                    kind=kind,
                    snapshot=snapshot,
                    created_at=now,
                    next_attempt_at=now,
                )
            )
    for increment, qids in by_increment.items():
        AggregateSequence.objects.filter(aggregate_id__in=qids).update(
            last_seq=F("last_seq") + increment
        )
    return OutboxEvent.objects.bulk_create(events, batch_size=CHUNK_SIZE)


def _wake_relay_on_commit() -> None:
    # robust: a broker hiccup must not fail the request whose data is committed;
    # the every-minute schedule picks the events up anyway.
    transaction.on_commit(_wake_relay, robust=True)


def _wake_relay() -> None:
    async_task(RELAY_TASK, task_name="publishing.relay_outbox", save=False)
