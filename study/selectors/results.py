"""Reads for the quiz and results pages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, TypedDict

from django.contrib.auth.models import User
from django.db import connection, models
from django.db.models import Count, F, OuterRef, Subquery
from django.db.models.functions import Coalesce
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
MAX_SLOT = 10_000  # beyond any session; keeps a hostile position a valid index


@dataclass(frozen=True)
class AnswerSlot:
    """A session with the question of the answered slot (its key) and the
    question of the slot after it (its card), read in one query."""

    session: QuizSession
    answered: Question | None
    next_question: Question | None


def answer_slot_from(user: User, query: AnswerSlotQuery, row: tuple) -> AnswerSlot:
    """The slot of a row of answer_slot_query's columns (the row may go on:
    the columns after them are the caller's). 404 when the topic is not
    visible to the user."""
    values = query.convert(row)
    session_values, owner_id, is_shared, answered, following = query.split(values)
    if not topic_is_visible_to(user, owner_id=owner_id, is_shared=is_shared):
        raise Http404
    db = connection.alias
    return AnswerSlot(
        session=QuizSession.from_db(db, query.session_names, session_values),
        answered=_question_from(db, query.answered_names, answered),
        next_question=_question_from(db, query.next_names, following),
    )


Converter = Callable[[Any, Any, Any], Any]


@dataclass(frozen=True)
class AnswerSlotQuery:
    """The slot read: `columns` FROM `tables` (aliases s, t, a, n) WHERE
    `where`; its parameters in order come from params()."""

    columns: str
    tables: str
    where: str
    session_names: list[str]
    answered_names: list[str]
    next_names: list[str]
    # (column index, the field's column expression, its converters)
    converters: list[tuple[int, Any, list[Converter]]]

    @property
    def width(self) -> int:
        return (
            len(self.session_names)
            + 2
            + len(self.answered_names)
            + len(self.next_names)
        )

    @staticmethod
    def params(session_id: int, user_id: int, position: int) -> list[int]:
        index = position + 1 if 0 <= position < MAX_SLOT else MAX_SLOT
        return [index, index + 1, session_id, user_id]

    def convert(self, row: tuple) -> list:
        values = list(row[: self.width])
        for index, expression, converters in self.converters:
            for converter in converters:
                values[index] = converter(values[index], expression, connection)
        return values

    def split(self, values: list) -> tuple[list, Any, Any, list, list]:
        n = len(self.session_names)
        a = n + 2 + len(self.answered_names)
        return values[:n], values[n], values[n + 1], values[n + 2 : a], values[a:]


@cache
def answer_slot_query() -> AnswerSlotQuery:
    """The answer path's read: the user's own session (no row otherwise, a 404
    as session_get_for_user) with the questions of slot `position` and of the
    slot after it. The answer service runs it in the statement that records
    the answer (services.quiz_sessions.quiz_answer_submit).

    Raw SQL because it runs on every answer: the same query built by the ORM
    (annotations, the visibility subquery) spent 1–3 ms compiling for a
    0.1 ms query, and a RawQuerySet matched its columns to fields again on
    every call. The columns, their models' fields and converters are worked
    out once, here, from the models' metadata. The topic's visibility is
    checked on its row (answer_slot_from: topic_is_visible_to, the row form
    of Topic.objects.visible_to).
    """
    quote = connection.ops.quote_name
    session_fields = list(QuizSession._meta.concrete_fields)
    answered = _fields(GRADING_FIELDS)
    following = _fields(QUIZ_CARD_FIELDS)
    selected = [
        *(("s", f) for f in session_fields),
        ("t", Topic._meta.get_field("owner")),
        ("t", Topic._meta.get_field("is_shared")),
        *(("a", f) for f in answered),
        *(("n", f) for f in following),
    ]
    converters = []
    for index, (alias, field) in enumerate(selected):
        expression = field.get_col(alias)
        found = [
            *connection.ops.get_db_converters(expression),
            *expression.get_db_converters(connection),
        ]
        if found:
            converters.append((index, expression, found))
    question = quote(Question._meta.db_table)
    return AnswerSlotQuery(
        columns=", ".join(f"{alias}.{quote(_db_column(f))}" for alias, f in selected),
        tables=(
            f"{quote(QuizSession._meta.db_table)} s "
            f"JOIN {quote(Topic._meta.db_table)} t ON t.id = s.topic_id "
            f"LEFT JOIN {question} a ON a.id = s.question_ids[%s] "
            f"LEFT JOIN {question} n ON n.id = s.question_ids[%s]"
        ),
        where="s.id = %s AND s.user_id = %s",
        session_names=[f.attname for f in session_fields],
        answered_names=[f.attname for f in answered],
        next_names=[f.attname for f in following],
        converters=converters,
    )


def _db_column(field: Any) -> str:
    assert isinstance(field, models.Field) and field.column
    return field.column


def _fields(names: tuple[str, ...]) -> list[models.Field]:
    """The concrete fields named, in the model's order (as from_db wants)."""
    return [
        f
        for f in Question._meta.concrete_fields
        if isinstance(f, models.Field) and f.attname in names
    ]


def _question_from(db: str, names: list[str], values: list) -> Question | None:
    if values[0] is None:  # no such slot (the id comes first)
        return None
    return Question.from_db(db, names, values)


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
    # A running mock first (its clock runs whether or not it is listed), then
    # the latest of the others.
    active = list(
        base.filter(status=QuizStatus.ACTIVE).order_by(
            F("deadline_at").asc(nulls_last=True), "-last_activity_at"
        )[:3]
    )
    # The right answers of the five shown sessions only: a correlated count,
    # which PostgreSQL evaluates after the sort and limit. Counting through a
    # join grouped every finished session's attempts first (20,000 answers for
    # a heavy learner: 8 ms of the topic page at full scale).
    correct = (
        Attempt.objects.filter(session=OuterRef("pk"), outcome=Outcome.CORRECT)
        .order_by()
        .values("session")
        .annotate(n=Count("*"))
        .values("n")
    )
    recent = list(
        base.exclude(status=QuizStatus.ACTIVE)
        .annotate(correct=Coalesce(Subquery(correct), 0))
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
