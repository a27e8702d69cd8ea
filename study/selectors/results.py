"""Reads for the quiz and results pages."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy, pgettext_lazy

from study.models import Attempt, Outcome, Question, QuizSession, QuizStatus, Topic
from study.subjects import subject_label

RESULT_TABS = (
    (Outcome.CORRECT, pgettext_lazy("outcome", "정답")),
    (Outcome.WRONG, gettext_lazy("오답")),
    (Outcome.UNSURE, gettext_lazy("모르겠음")),
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


def session_attempt_at(*, session: QuizSession, position: int | None) -> Attempt | None:
    """The answer given in one slot of the session, with its question."""
    if position is None:
        return None
    return session.attempts.filter(position=position).select_related("question").first()


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


@dataclass(frozen=True)
class SheetItem:
    position: int
    question: Question
    choice: int | None
    marked: bool

    @property
    def number(self) -> int:
        return self.position + 1


@dataclass(frozen=True)
class MockSheet:
    items: list[SheetItem]
    groups: list[tuple[str, list[SheetItem]]]
    remaining_ms: int

    @property
    def answered(self) -> int:
        return sum(1 for i in self.items if i.choice)

    @property
    def unanswered(self) -> int:
        return len(self.items) - self.answered

    @property
    def marked(self) -> int:
        return sum(1 for i in self.items if i.marked)

    @property
    def remaining_label(self) -> str:
        total = -(-self.remaining_ms // 1000)
        hours, rest = divmod(total, 3600)
        minutes, seconds = divmod(rest, 60)
        if hours:
            return f"{hours}:{minutes:02d}:{seconds:02d}"
        return f"{minutes}:{seconds:02d}"


def mock_sheet(*, session: QuizSession) -> MockSheet:
    """Every question of a running mock with the learner's saved drafts; no
    answer keys are needed and none are read into the page."""
    questions = Question.objects.in_bulk(session.question_ids)
    marked = set(session.marked)
    items = [
        SheetItem(
            position=pos,
            question=questions[qid],
            choice=session.drafts.get(str(pos)),
            marked=pos in marked,
        )
        for pos, qid in enumerate(session.question_ids)
        if qid in questions
    ]
    groups: dict[str, list[SheetItem]] = {}
    for item in items:
        groups.setdefault(subject_label(item.question.subject), []).append(item)
    return MockSheet(
        items=items,
        groups=list(groups.items()),
        remaining_ms=mock_remaining_ms(session=session),
    )


def mock_remaining_ms(*, session: QuizSession) -> int:
    """Time left by the server's clock (the browser only counts it down)."""
    if session.deadline_at is None:
        return 0
    remaining = session.deadline_at - timezone.now()
    return max(0, int(remaining.total_seconds() * 1000))
