"""The owner's exam spec for a topic (one write path: topic settings, admin)."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from study.models import ExamSpec, Topic


@transaction.atomic
def exam_spec_save(
    *,
    topic: Topic,
    subjects: Sequence[str],
    questions_per_subject: int,
    time_limit_minutes: int | None,
) -> ExamSpec:
    names = list(dict.fromkeys(s.strip() for s in subjects if s.strip()))
    spec, _ = ExamSpec.objects.update_or_create(
        topic=topic,
        defaults={
            "subjects": names,
            "questions_per_subject": questions_per_subject,
            "time_limit_minutes": time_limit_minutes or None,
        },
    )
    return spec


@transaction.atomic
def exam_spec_clear(*, topic: Topic) -> None:
    """Back to the spec derived from the bank (its subjects, 20 each, 30 min)."""
    ExamSpec.objects.filter(topic=topic).delete()
