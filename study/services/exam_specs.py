"""The owner's exam spec for a topic (one write path: topic settings, admin):
the paper a mock exam imitates and the dates its rounds were held."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from django.db import transaction

from study.amendments.services import topic_amendments_compute_enqueue
from study.exam_dates import session_dates_store, usual_dates
from study.models import ExamRound, ExamSpec, Topic
from study.models.exam_spec import DEFAULT_PER_SUBJECT


@transaction.atomic
def exam_spec_save(
    *,
    topic: Topic,
    subjects: Sequence[str],
    questions_per_subject: int,
    time_limit_minutes: int | None,
    session_dates: Mapping[str, str] | None = None,
) -> ExamSpec:
    names = list(dict.fromkeys(s.strip() for s in subjects if s.strip()))
    defaults: dict = {
        "subjects": names,
        "questions_per_subject": questions_per_subject,
        "time_limit_minutes": time_limit_minutes or None,
    }
    if session_dates is not None:  # as stored: {"1": "03-05"} (the admin)
        given = usual_dates(session_dates)
        defaults["session_dates"] = session_dates_store(
            {n: day for n, day in given.items() if str(n) in session_dates}
        )
    spec, _ = ExamSpec.objects.update_or_create(topic=topic, defaults=defaults)
    return spec


@transaction.atomic
def exam_spec_clear(*, topic: Topic) -> None:
    """Back to the paper derived from the bank (its subjects, 20 each, 30 min);
    the exam dates the owner set are kept."""
    spec = ExamSpec.objects.select_for_update().filter(topic=topic).first()
    if spec is None:
        return
    if not spec.session_dates:
        spec.delete()
        return
    spec.subjects = []
    spec.questions_per_subject = DEFAULT_PER_SUBJECT
    spec.time_limit_minutes = None
    spec.save(update_fields=["subjects", "questions_per_subject", "time_limit_minutes"])


@transaction.atomic
def exam_dates_save(
    *,
    topic: Topic,
    session_dates: Mapping[int, tuple[int, int]],
    round_dates: Mapping[tuple[int, str], date],
) -> None:
    """The usual date of each 회차 (kept in the exam spec; the 기사 필기
    defaults fill in the rest) and the rounds that carry their own date
    (exactly those given)."""
    spec = ExamSpec.objects.select_for_update().filter(topic=topic).first()
    stored = session_dates_store(session_dates)
    if spec is not None:
        spec.session_dates = stored
        spec.save(update_fields=["session_dates"])
    elif stored:  # a spec kept for its dates: the paper stays the bank's
        ExamSpec.objects.create(topic=topic, subjects=[], session_dates=stored)
    keep = []
    for (year, session), held_on in round_dates.items():
        row, _ = ExamRound.objects.update_or_create(
            topic=topic,
            exam_year=year,
            exam_session=session,
            defaults={"held_on": held_on},
        )
        keep.append(row.pk)
    ExamRound.objects.filter(topic=topic).exclude(pk__in=keep).delete()
    topic_amendments_compute_enqueue(topic=topic)  # exam dates decide the flags


@transaction.atomic
def exam_round_set(
    *, topic: Topic, year: int, session: str, held_on: date
) -> ExamRound:
    """One round's own date (the admin); `session` is a canonical sitting."""
    row, _ = ExamRound.objects.update_or_create(
        topic=topic,
        exam_year=year,
        exam_session=session,
        defaults={"held_on": held_on},
    )
    topic_amendments_compute_enqueue(topic=topic)
    return row


@transaction.atomic
def exam_round_clear(*, round_ids: Sequence[int]) -> int:
    deleted, _ = ExamRound.objects.filter(pk__in=round_ids).delete()
    return deleted
