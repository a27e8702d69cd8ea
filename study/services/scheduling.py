"""FSRS scheduling (py-fsrs) with day-level intervals for exam preparation.

With an exam date the desired retention rises as the date nears and no review
is planned after it (the rule: study/forecast/retention.py, docs/forecast.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from fsrs import Card, Rating, Scheduler

from study.forecast import retention as exam_rule
from study.models import ExamPlan, LearnerSettings, Outcome

DEFAULT_RETENTION = 0.9


def scheduler_for(desired_retention: float) -> Scheduler:
    # No minute-level learning steps: every review lands on a day.
    return Scheduler(
        desired_retention=desired_retention,
        learning_steps=(),
        relearning_steps=(),
        enable_fuzzing=False,
    )


def rating_for(outcome: str) -> Rating:
    return Rating.Good if outcome == Outcome.CORRECT else Rating.Again


def card_start(*, scheduler: Scheduler, at: datetime) -> Card:
    """A wrong/unsure question enters scheduling: its first review is a failure."""
    card, _ = scheduler.review_card(Card(), Rating.Again, review_datetime=at)
    return card


def card_review(
    *, scheduler: Scheduler, card_data: dict, outcome: str, at: datetime
) -> Card:
    card = Card.from_dict(card_data)  # type: ignore[arg-type]  # stored Card.to_dict()
    if card.last_review and at < card.last_review:
        at = card.last_review
    card, _ = scheduler.review_card(card, rating_for(outcome), review_datetime=at)
    return card


def local_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


@dataclass(frozen=True)
class ReviewContext:
    """How reviews of one learner's topic are scheduled at one moment."""

    scheduler: Scheduler
    exam_date: date | None

    def due(self, card: Card, reviewed_at: datetime) -> datetime:
        return exam_rule.cap_due(
            card.due, reviewed_at=reviewed_at, exam_date=self.exam_date, tz=local_tz()
        )


_SETTINGS = """
SELECT (SELECT desired_retention FROM {settings} WHERE user_id = %s),
       (SELECT exam_date FROM {plans} WHERE user_id = %s AND topic_id = %s)
"""


def review_context(*, user_id: int, topic_id: int, at: datetime) -> ReviewContext:
    """The learner's retention and exam date of the topic, in one query."""
    quote = connection.ops.quote_name
    sql = _SETTINGS.format(
        settings=quote(LearnerSettings._meta.db_table),
        plans=quote(ExamPlan._meta.db_table),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_id, user_id, topic_id])
        stored, exam_date = cursor.fetchone()
    return review_context_for(
        retention=stored or DEFAULT_RETENTION, exam_date=exam_date, at=at
    )


def review_context_for(
    *, retention: float, exam_date: date | None, at: datetime
) -> ReviewContext:
    """The context of a review made at `at`, from the learner's settings."""
    days_left = exam_rule.days_to_exam(exam_date, at, local_tz()) if exam_date else None
    return ReviewContext(
        scheduler=scheduler_for(exam_rule.exam_retention(retention, days_left)),
        exam_date=exam_date,
    )


def review_settings_bulk(
    *, pairs: set[tuple[int, int]]
) -> dict[tuple[int, int], tuple[float, date | None]]:
    """(retention, exam date) of many (user, topic) pairs in two queries."""
    user_ids = {user_id for user_id, _topic in pairs}
    retention = dict(
        LearnerSettings.objects.filter(user_id__in=user_ids).values_list(
            "user_id", "desired_retention"
        )
    )
    exams = {
        (user_id, topic_id): exam_date
        for user_id, topic_id, exam_date in ExamPlan.objects.filter(
            user_id__in=user_ids
        ).values_list("user_id", "topic_id", "exam_date")
    }
    return {
        pair: (retention.get(pair[0]) or DEFAULT_RETENTION, exams.get(pair))
        for pair in pairs
    }
