"""Reads for the quiz and results pages."""

from __future__ import annotations

from collections import Counter

from django.db.models import Count, Q
from django.shortcuts import get_object_or_404

from study.models import Attempt, Outcome, Question, QuizSession, QuizStatus, Topic

RESULT_TABS = (
    (Outcome.CORRECT, "정답"),
    (Outcome.WRONG, "오답"),
    (Outcome.UNSURE, "모르겠음"),
)


def session_get_for_user(*, user, session_id: int) -> QuizSession:
    """The user's own session, while its topic is still visible to them (a topic
    made private takes its sessions with it, results included)."""
    return get_object_or_404(
        QuizSession.objects.select_related("topic"),
        pk=session_id,
        user=user,
        topic__in=Topic.objects.visible_to(user),
    )


def attempt_get_for_user(*, user, attempt_id: int) -> Attempt:
    return get_object_or_404(
        Attempt.objects.select_related("question", "session"),
        pk=attempt_id,
        user=user,
        session__topic__in=Topic.objects.visible_to(user),
    )


def session_current_question(*, session: QuizSession) -> Question | None:
    qid = session.current_question_id
    return None if qid is None else Question.objects.get(pk=qid)


def session_outcome_counts(*, session: QuizSession) -> dict[str, int]:
    counts = Counter(session.attempts.values_list("outcome", flat=True))
    return {value: counts.get(value, 0) for value, _ in RESULT_TABS}


def session_attempts_for_tab(*, session: QuizSession, tab: str):
    return (
        session.attempts.filter(outcome=tab)
        .select_related("question")
        .order_by("position")
    )


def sessions_for_topic(*, user, topic: Topic):
    """Active sessions to resume and the latest finished ones."""
    base = QuizSession.objects.filter(user=user, topic=topic)
    active = list(
        base.filter(status=QuizStatus.ACTIVE).order_by("-last_activity_at")[:3]
    )
    recent = list(
        base.exclude(status=QuizStatus.ACTIVE)
        .annotate(
            correct=Count("attempts", filter=Q(attempts__outcome=Outcome.CORRECT))
        )
        .order_by("-finished_at")[:5]
    )
    return active, recent
