"""The date each question's round was held (study.exam_dates reads the
rules; this reads the topic's spec and rounds, one query each)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from study.exam_dates import exam_date, usual_dates
from study.models import ExamRound, ExamSpec, Question


@dataclass(frozen=True)
class ExamCalendar:
    usual: dict[int, tuple[int, int]]
    held: dict[tuple[int, str], date]
    usual_set: bool  # the owner set some usual dates (else the defaults)

    def date_of(self, question: Question) -> date | None:
        return exam_date(
            question.exam_year,
            question.exam_session,
            usual=self.usual,
            held=self.held,
        )


def exam_calendar(*, topic_id: int) -> ExamCalendar:
    stored = (
        ExamSpec.objects.filter(topic_id=topic_id)
        .values_list("session_dates", flat=True)
        .first()
    )
    held = {
        (year, session): day
        for year, session, day in ExamRound.objects.filter(
            topic_id=topic_id
        ).values_list("exam_year", "exam_session", "held_on")
    }
    return ExamCalendar(usual=usual_dates(stored), held=held, usual_set=bool(stored))


def question_exam_dates(questions: Iterable[Question]) -> dict[int, date | None]:
    """Each question's exam date (one calendar per topic)."""
    calendars: dict[int, ExamCalendar] = {}
    dates: dict[int, date | None] = {}
    for question in questions:
        calendar = calendars.get(question.topic_id)
        if calendar is None:
            calendar = calendars[question.topic_id] = exam_calendar(
                topic_id=question.topic_id
            )
        dates[question.pk] = calendar.date_of(question)
    return dates
