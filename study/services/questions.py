"""Authoring of questions: create, edit (with the stale rule), soft delete, restore.

Every change to a question comes here, one at a time (the question form, the
admin change form) or many at once (the importer, the admin actions), so each
has the same side effects in the same transaction: `updated_at`, a ready
explanation turned stale by an edit of what decides the answer, the outbox
events (publishing), re-embedding and the invalidated relation caches; a
changed answer key regrades every answer to the question (services/regrade.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import transaction
from django.utils import timezone

from study.db.copy import copy_insert
from study.imports.identity import identity as question_identity
from study.models import Question, Topic
from study.models.question import CONTENT_FIELDS, ROUND_KEY_FIELDS
from study.related.embeddings import (
    question_related_on_create,
    question_related_on_update,
    questions_related_on_create,
    questions_related_on_delete,
    questions_related_on_update,
)
from study.services.figures import figure_is_new, figure_quota_check
from study.services.regrade import questions_regrade
from study.signals import question_changed, questions_changed

EDITABLE_FIELDS = (*ROUND_KEY_FIELDS, *CONTENT_FIELDS, "figure")
# Curators (Django admin) may also move a question to another topic and set its
# AI explanation by hand.
CURATOR_FIELDS = (
    *EDITABLE_FIELDS,
    "topic",
    "ai_explanation",
    "ai_explanation_status",
    "ai_explanation_model",
)
BATCH_SIZE = 1000
# The bulk services run inside an import's (or an admin action's) transaction:
# they take no savepoint of their own (two queries each, and nothing to keep
# when they fail), so @transaction.atomic(savepoint=False).


@transaction.atomic
def question_create(
    *, topic: Topic, data: dict, fields: Sequence[str] = EDITABLE_FIELDS
) -> Question:
    question = Question(
        topic=topic,
        **{k: v for k, v in data.items() if k in fields and k != "topic"},
    )
    _figure_quota(question)
    question.full_clean()
    question.save()
    question_changed.send(sender=Question, question=question)
    question_related_on_create(question=question)
    return question


@transaction.atomic
def question_update(
    *, question: Question, data: dict, fields: Sequence[str] = EDITABLE_FIELDS
) -> set[str]:
    """Apply the edit; a changed answer turns a ready explanation stale (text kept)."""
    locked = Question.objects.select_for_update().get(pk=question.pk)
    previous_topic_id = locked.topic_id
    previous_key = locked.accepted_set
    changed = {
        key
        for key, value in data.items()
        if key in fields and getattr(locked, key) != value
    }
    for key in changed:
        setattr(locked, key, data[key])
    if not changed:
        return changed
    locked.mark_explanation_stale_if_needed(changed)
    if "figure" in changed:
        _figure_quota(locked)
    locked.full_clean()
    locked.save()
    if locked.accepted_set != previous_key:
        questions_regrade(questions=[locked])
    question_changed.send(sender=Question, question=locked)
    question_related_on_update(
        question=locked, changed=changed, previous_topic_id=previous_topic_id
    )
    question.refresh_from_db()
    return changed


def _figure_quota(question: Question) -> None:
    """A new figure fits its topic owner's quota (FigureRejected), counted
    under the owner's lock until this transaction ends."""
    if figure_is_new(question.figure):
        figure_quota_check(
            owner=question.topic.owner,
            incoming_bytes=question.figure.size,
            lock=True,
        )


@transaction.atomic(savepoint=False)
def questions_bulk_create(*, topic: Topic, questions: list[Question]) -> None:
    """question_create for many new questions of one topic (the importer).

    One COPY instead of an INSERT each; the rows must be valid already and
    carry a round key (year and number), by which their ids are read back onto
    the instances (Question.identity).
    """
    if not questions:
        return
    copy_insert(Question, questions)
    # Read back the ids of these keys only (an import writes in batches into
    # topics of any size): the years and numbers narrow it, the keys decide.
    ids = {
        question_identity(year, session, subject, number, by_subject): pk
        for pk, year, session, subject, number, by_subject in Question.objects.filter(
            topic=topic,
            exam_year__in={q.exam_year for q in questions},
            number__in={q.number for q in questions},
        ).values_list(
            "id",
            "exam_year",
            "exam_session",
            "subject",
            "number",
            "numbered_by_subject",
        )
    }
    for question in questions:
        question.pk = ids[question.identity]
    questions_changed.send(sender=Question, questions=questions)
    questions_related_on_create(question_ids=[q.pk for q in questions])


@transaction.atomic(savepoint=False)
def questions_bulk_update(*, edits: Iterable[tuple[Question, dict]]) -> list[Question]:
    """question_update for many questions at once (the importer), with the same
    stale rule and side effects; a few UPDATEs instead of one per question.

    The questions are the caller's rows (loaded with the fields it edits and
    `ai_explanation_status`); returns those that changed.
    """
    now = timezone.now()
    changes: list[tuple[Question, set[str]]] = []
    rekeyed: list[Question] = []
    written = {"ai_explanation_status", "updated_at"}
    for question, data in edits:
        changed = {
            key
            for key, value in data.items()
            if key in EDITABLE_FIELDS and getattr(question, key) != value
        }
        if not changed:
            continue
        previous_key = question.accepted_set
        for key in changed:
            setattr(question, key, data[key])
        if question.accepted_set != previous_key:
            rekeyed.append(question)
        question.mark_explanation_stale_if_needed(changed)
        question.updated_at = now
        written |= changed
        changes.append((question, changed))
    updated = [question for question, _ in changes]
    if not updated:
        return updated
    Question.objects.bulk_update(updated, sorted(written), batch_size=BATCH_SIZE)
    questions_regrade(questions=rekeyed)
    questions_changed.send(sender=Question, questions=updated)
    questions_related_on_update(changes=changes)
    return updated


def question_soft_delete(*, question: Question) -> None:
    questions_soft_delete(question_ids=[question.pk])
    question.refresh_from_db()


def question_restore(*, question: Question) -> None:
    questions_restore(question_ids=[question.pk])
    question.refresh_from_db()


@transaction.atomic(savepoint=False)
def questions_soft_delete(*, question_ids: Iterable[int]) -> int:
    """Soft delete the live ones among the questions; returns how many."""
    return _set_deleted(question_ids, deleted=True)


@transaction.atomic(savepoint=False)
def questions_restore(*, question_ids: Iterable[int]) -> int:
    """Bring back the deleted ones among the questions; returns how many."""
    return _set_deleted(question_ids, deleted=False)


def _set_deleted(question_ids: Iterable[int], *, deleted: bool) -> int:
    now = timezone.now()
    questions = list(
        Question.objects.select_for_update()
        .filter(pk__in=list(question_ids), deleted_at__isnull=deleted)
        .only("id", "topic_id")
        .order_by("id")
    )
    if not questions:
        return 0
    Question.objects.filter(pk__in=[q.pk for q in questions]).update(
        deleted_at=now if deleted else None, updated_at=now
    )
    questions_changed.send(sender=Question, questions=questions)
    questions_related_on_delete(questions=questions)
    return len(questions)
