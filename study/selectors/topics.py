"""Reads for the topic and round pages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext

from study import rounds
from study.models import Question, Topic
from study.models.question import QuestionQuerySet
from study.models.topic import TopicQuerySet
from study.selectors.exam_spec import ExamPaper, topic_bank
from study.subjects import SubjectCell, subject_label, subject_order


@dataclass(frozen=True)
class RoundSummary:
    """One round of a topic as its pages show it. The topic page caches the
    rounds' links and menu keyed by the list's repr, so everything a round
    shows must derive from these fields (and the language)."""

    year: int
    session: str
    questions: int
    quizzable: int

    @property
    def key(self) -> str:
        return rounds.round_key(self.year, self.session)

    @property
    def figure_pending(self) -> int:
        return self.questions - self.quizzable

    @property
    def label(self) -> str:
        return rounds.round_label(self.year, self.session)


@dataclass(frozen=True)
class SubjectSummary:
    name: str  # as shown
    questions: int
    subject: str = ""  # as stored ("" for questions without one)
    # A named subject that is not on the exam's current paper (kept apart).
    is_old: bool = False


def topics_for_user(*, user: User | AnonymousUser) -> TopicQuerySet:
    """The topics the user may read, each with its count of live questions:
    counted per topic on the partial index of live questions (an index-only
    scan), not by joining every question of every topic (a 100,000-question
    bank read 140 MB of question rows for the home page)."""
    alive = (
        Question.objects.filter(topic=OuterRef("pk"), deleted_at__isnull=True)
        .order_by()
        .values("topic")
        .annotate(n=Count("*"))
        .values("n")
    )
    return (
        Topic.objects.visible_to(user)
        .select_related("owner")
        .annotate(
            question_count=Coalesce(
                Subquery(alive, output_field=IntegerField()), Value(0)
            )
        )
        .order_by("name", "id")
    )


def topic_get_for_user(*, user: User | AnonymousUser, topic_id: int) -> Topic:
    """The topic if the user may read it, else 404 (never 403: ids stay private)."""
    return get_object_or_404(
        Topic.objects.visible_to(user).select_related("owner"), pk=topic_id
    )


def topic_get_editable(*, user: User | AnonymousUser, topic_id: int) -> Topic:
    return get_object_or_404(Topic.objects.editable_by(user), pk=topic_id)


def topic_rounds(
    *, topic: Topic, cells: Sequence[SubjectCell] | None = None
) -> list[RoundSummary]:
    """The topic's rounds with their questions and quizzable questions,
    summed from the topic's cells (`cells`: topic_bank's, already read by the
    caller)."""
    if cells is None:
        cells = topic_bank(topic=topic).cells
    sums: dict[tuple[int, str], list[int]] = {}
    for cell in cells:
        if cell.year is None or cell.session == "":
            continue
        total = sums.setdefault((cell.year, cell.session), [0, 0])
        total[0] += cell.questions
        total[1] += cell.quizzable or 0
    found = [RoundSummary(y, s, n, q) for (y, s), (n, q) in sums.items()]
    # Newest sitting first; the forms of one sitting in order (A형, B형).
    found.sort(key=lambda r: rounds.session_sort_key(r.session))
    found.sort(
        key=lambda r: (r.year, rounds.session_sitting_sort_key(r.session)), reverse=True
    )
    return found


def topic_subjects(
    *,
    topic: Topic,
    paper: ExamPaper | None = None,
    cells: Sequence[SubjectCell] | None = None,
) -> list[SubjectSummary]:
    """Every subject with its questions: the paper's in exam order, then the
    old ones, then questions without a subject, summed from the topic's cells
    (`paper`, `cells`: topic_bank's, already read by the caller)."""
    if paper is None or cells is None:
        bank = topic_bank(topic=topic)
        paper, cells = paper or bank.paper, bank.cells
    counts: dict[str, int] = {}
    for cell in cells:
        counts[cell.subject] = counts.get(cell.subject, 0) + cell.questions
    old = set(paper.old_subjects)
    names = subject_order(paper=paper.all_subjects, names=counts)
    names.sort(key=lambda name: name == "")
    return [
        SubjectSummary(subject_label(name), counts[name], name, name in old)
        for name in names
    ]


class TopicNotFound(LookupError):
    pass


class TopicAmbiguous(LookupError):
    pass


def topic_get_by_name(*, name: str, owner_username: str | None = None) -> Topic:
    """The one topic with that name (of that owner when given), for commands.

    Never a silent pick: TopicNotFound when there is none, TopicAmbiguous when
    owners share the name; the message says to give --owner.
    """
    topics = Topic.objects.filter(name=name)
    if owner_username:
        topics = topics.filter(owner__username=owner_username)
    found = list(topics.order_by("id")[:2])
    if not found:
        raise TopicNotFound(f"'{name}' 토픽이 없습니다.")
    if len(found) > 1:
        raise TopicAmbiguous(f"'{name}' 토픽이 여러 개입니다. --owner 로 지정하세요.")
    return found[0]


def parse_round_key(key: str) -> tuple[int, str]:
    try:
        return rounds.round_key_parse(key)
    except rounds.SessionLabelError as exc:
        raise Http404(gettext("회차 형식이 올바르지 않습니다.")) from exc


def round_questions(*, topic: Topic, year: int, session: str) -> QuestionQuerySet:
    return (
        Question.objects.alive()
        .filter(topic=topic, exam_year=year, exam_session=session)
        .in_round_order()
    )


def question_get_for_user(*, user: User | AnonymousUser, question_id: int) -> Question:
    visible = Topic.objects.visible_to(user)
    return get_object_or_404(
        Question.objects.alive().select_related("topic").filter(topic__in=visible),
        pk=question_id,
    )


def question_get_editable(*, user: User | AnonymousUser, question_id: int) -> Question:
    editable = Topic.objects.editable_by(user)
    return get_object_or_404(
        Question.objects.alive().select_related("topic").filter(topic__in=editable),
        pk=question_id,
    )
