"""Reads for the quiz and results pages."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django.contrib.auth.models import User
from django.db import connection, models
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy, pgettext_lazy

from study.models import Attempt, Outcome, Question, QuizSession, QuizStatus, Topic
from study.models.question import CHOICE_FIELDS, UNSHOWN_FIELDS
from study.models.topic import topic_is_visible_to
from study.subjects import subject_label

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations  # a dev (typing) requirement

RESULT_TABS = (
    (Outcome.CORRECT, pgettext_lazy("outcome", "정답")),
    (Outcome.WRONG, gettext_lazy("오답")),
    (Outcome.UNSURE, gettext_lazy("모르겠음")),
)


def session_get_for_user(*, user: User, session_id: int) -> QuizSession:
    """The user's own session, while its topic is still visible to them (a topic
    made private takes its sessions with it, results included)."""
    return get_object_or_404(
        QuizSession.objects.select_related("topic"),
        pk=session_id,
        user=user,
        topic__in=Topic.objects.visible_to(user),
    )


def attempt_get_for_user(*, user: User, attempt_id: int) -> Attempt:
    return get_object_or_404(
        Attempt.objects.select_related("question", "session"),
        pk=attempt_id,
        user=user,
        session__topic__in=Topic.objects.visible_to(user),
    )


def session_current_question(*, session: QuizSession) -> Question | None:
    qid = session.current_question_id
    return None if qid is None else Question.objects.defer(*UNSHOWN_FIELDS).get(pk=qid)


# What grading an answer reads of its question, and what the quiz card
# (study/quiz.html#question-card) shows of the next one. Any other field of
# these questions is deferred: reading it costs a query (the pinned query
# counts catch that).
QUIZ_CARD_FIELDS = (
    "id",
    "topic_id",
    "stem",
    *CHOICE_FIELDS,
    "subject",
    "exam_year",
    "exam_session",
    "number",
    "numbered_by_subject",
    "figure",
    "needs_figure",
)
# The answered question: its key, and what the feedback card of a session
# that shows the key after each answer (#feedback-card) shows of it.
GRADING_FIELDS = (
    *QUIZ_CARD_FIELDS,
    "correct_choice",
    "accepted_choices",
    "explanation",
)
_MAX_SLOT = 10_000  # beyond any session; keeps a hostile position a valid index


@dataclass(frozen=True)
class AnswerSlot:
    """A session with the question of the answered slot (its key) and the
    question of the slot after it (its card), read in one query."""

    session: QuizSession
    answered: Question | None
    next_question: Question | None


def answer_slot_get(*, user: User, session_id: int, position: int) -> AnswerSlot:
    """The user's own session (404 otherwise, as session_get_for_user) with the
    questions of slot `position` and of the slot after it.

    Raw SQL because this is the answer path's one read: the same query built
    by the ORM (annotations, the visibility subquery) spent 1–3 ms compiling
    for a 0.1 ms query. The topic's visibility is checked on its row
    (topic_is_visible_to, the row form of Topic.objects.visible_to).
    """
    index = position + 1 if 0 <= position < _MAX_SLOT else _MAX_SLOT
    found = list(
        QuizSession.objects.raw(_slot_sql(), [index, index + 1, session_id, user.pk])
    )
    if not found:
        raise Http404
    session = found[0]
    row = cast(Any, session)  # the raw query's extra columns
    if not topic_is_visible_to(
        user, owner_id=row.topic_owner_id, is_shared=row.topic_is_shared
    ):
        raise Http404
    return AnswerSlot(
        session=session,
        answered=_question_from_row(session, "a", GRADING_FIELDS),
        next_question=_question_from_row(session, "n", QUIZ_CARD_FIELDS),
    )


@cache
def _slot_sql() -> str:
    """Built once from the models' metadata (tables, columns)."""
    quote = connection.ops.quote_name

    def columns(alias: str, fields: tuple[str, ...]) -> str:
        return ", ".join(
            f"{alias}.{quote(_column(name))} AS {alias}_{name}" for name in fields
        )

    question = quote(Question._meta.db_table)
    return (
        f"SELECT s.*, t.owner_id AS topic_owner_id, t.is_shared AS topic_is_shared, "
        f"{columns('a', GRADING_FIELDS)}, {columns('n', QUIZ_CARD_FIELDS)} "
        f"FROM {quote(QuizSession._meta.db_table)} s "
        f"JOIN {quote(Topic._meta.db_table)} t ON t.id = s.topic_id "
        f"LEFT JOIN {question} a ON a.id = s.question_ids[%s] "
        f"LEFT JOIN {question} n ON n.id = s.question_ids[%s] "
        f"WHERE s.id = %s AND s.user_id = %s"
    )


def _column(attname: str) -> str:
    name = attname.removesuffix("_id") if attname.endswith("_id") else attname
    field = Question._meta.get_field(name)
    assert isinstance(field, models.Field) and field.column
    return field.column


def _question_from_row(
    session: QuizSession, alias: str, fields: tuple[str, ...]
) -> Question | None:
    if getattr(session, f"{alias}_id") is None:  # no such slot
        return None
    # from_db takes the values in the model's field order.
    names = [f.attname for f in Question._meta.concrete_fields if f.attname in fields]
    values = [getattr(session, f"{alias}_{name}") for name in names]
    return Question.from_db(session._state.db, names, values)


def session_attempt_at(*, session: QuizSession, position: int | None) -> Attempt | None:
    """The answer given in one slot of the session, with its question."""
    if position is None:
        return None
    return session.attempts.filter(position=position).select_related("question").first()


class CorrectCount(TypedDict):
    correct: int


def sessions_for_topic(
    *, user: User, topic: Topic
) -> tuple[list[QuizSession], list[WithAnnotations[QuizSession, CorrectCount]]]:
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
    questions = Question.objects.only(*QUIZ_CARD_FIELDS).in_bulk(session.question_ids)
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
