"""Exam dates and the daily plan's quiz session (every write goes through here)."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext

from study.forecast import selectors as fsel
from study.forecast.snapshots import forecast_snapshot_changed
from study.models import ExamPlan, QuizMode, QuizSession, Topic
from study.selectors.quiz_selection import NotEnoughQuestions
from study.services.quiz_sessions import quiz_session_create


@transaction.atomic
def exam_plan_set(
    *, user: User, topic: Topic, exam_date: date, daily_size: int
) -> ExamPlan:
    plan, _ = ExamPlan.objects.update_or_create(
        user=user,
        topic=topic,
        defaults={"exam_date": exam_date, "daily_size": daily_size},
    )
    forecast_snapshot_changed(user_id=user.pk, topic_id=topic.pk)
    return plan


@transaction.atomic
def exam_plan_delete(*, plan: ExamPlan) -> None:
    plan.delete()
    forecast_snapshot_changed(user_id=plan.user_id, topic_id=plan.topic_id)


def plan_session_start(*, user: User, topic: Topic) -> QuizSession:
    """A quiz session with today's plan (reviews first, then the new questions)."""
    today = fsel.daily_plan(user=user, topic=topic)
    if today is None:
        raise ValueError(gettext("시험일을 먼저 정하세요."))
    ids = today.plan.question_ids
    if not ids:
        raise NotEnoughQuestions(0, today.exam_plan.daily_size)
    return quiz_session_create(
        user=user,
        topic=topic,
        mode=QuizMode.PLAN,
        params={
            "size": len(ids),
            "reviews": len(today.plan.reviews),
            "misses": len(today.plan.misses),
            "new": len(today.plan.new),
        },
        question_ids=ids,
    )
