"""Authoring of questions: create, edit (with the stale rule), soft delete."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from study.models import Question, Topic
from study.models.question import CONTENT_FIELDS, ROUND_KEY_FIELDS
from study.services.related_embeddings import (
    question_related_on_create,
    question_related_on_delete,
    question_related_on_update,
)
from study.signals import question_changed

EDITABLE_FIELDS = (*ROUND_KEY_FIELDS, *CONTENT_FIELDS, "figure")


@transaction.atomic
def question_create(*, topic: Topic, data: dict) -> Question:
    question = Question(
        topic=topic, **{k: v for k, v in data.items() if k in EDITABLE_FIELDS}
    )
    question.full_clean()
    question.save()
    question_changed.send(sender=Question, question=question)
    question_related_on_create(question=question)
    return question


@transaction.atomic
def question_update(*, question: Question, data: dict) -> set[str]:
    """Apply the edit; a changed answer turns a ready explanation stale (text kept)."""
    locked = Question.objects.select_for_update().get(pk=question.pk)
    changed = {
        key
        for key, value in data.items()
        if key in EDITABLE_FIELDS and getattr(locked, key) != value
    }
    for key in changed:
        setattr(locked, key, data[key])
    if not changed:
        return changed
    locked.mark_explanation_stale_if_needed(changed)
    locked.full_clean()
    locked.save()
    question_changed.send(sender=Question, question=locked)
    question_related_on_update(question=locked, changed=changed)
    question.refresh_from_db()
    return changed


@transaction.atomic
def question_soft_delete(*, question: Question) -> None:
    deleted = Question.objects.filter(pk=question.pk, deleted_at__isnull=True).update(
        deleted_at=timezone.now(), updated_at=timezone.now()
    )
    if deleted:
        question_changed.send(sender=Question, question=question)
        question_related_on_delete(question=question)
    question.refresh_from_db()


@transaction.atomic
def question_restore(*, question: Question) -> None:
    Question.objects.filter(pk=question.pk).update(
        deleted_at=None, updated_at=timezone.now()
    )
    question_changed.send(sender=Question, question=question)
    question_related_on_delete(question=question)
    question.refresh_from_db()
