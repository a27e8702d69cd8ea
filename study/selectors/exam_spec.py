"""A topic's exam paper (subjects in order, questions per subject, time) and
how much of it the question bank can fill. The one current subject list:
the mock exam, the start form, scores and 과락, the forecast and the plan all
read it here.

Without an owner's exam spec the paper is the subject list of the most recent
rounds that look complete (study.subjects.current_subjects), not the union of
every name the files ever used; the subjects left off it are the bank's old
subjects, kept apart."""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.postgres.aggregates import BoolOr
from django.db import connection
from django.db.models import Count, Min, Q

from study.models import ExamSpec, Question, QuizMode, QuizSession, Topic
from study.models.exam_spec import DEFAULT_MINUTES_PER_SUBJECT, DEFAULT_PER_SUBJECT
from study.subjects import (
    RoundSubjects,
    SubjectCell,
    current_subjects,
    subject_key,
)


@dataclass(frozen=True)
class ExamPaper:
    subjects: tuple[str, ...]
    per_subject: int
    minutes: int
    # False when the owner has not set a spec and it was derived from the bank.
    is_set: bool
    # A derived paper: the complete rounds it was read from, newest first.
    rounds: tuple[RoundSubjects, ...] = ()
    # Named subjects of the bank that are not on the paper (drillable by
    # subject, left out of the mock exam, stage quizzes and the forecast).
    old_subjects: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        return len(self.subjects) * self.per_subject

    @property
    def all_subjects(self) -> tuple[str, ...]:
        """Every named subject of the bank: the paper's, then the old ones."""
        return (*self.subjects, *self.old_subjects)

    def minutes_for(self, per_subject: int) -> int:
        """Time for a paper of per_subject questions a subject (pro rata, ≥ 1)."""
        return max(1, math.ceil(self.minutes * per_subject / self.per_subject))


@dataclass(frozen=True)
class PaperFill:
    """How many quizzable questions each subject of the paper has."""

    paper: ExamPaper
    available: dict[str, int]

    @property
    def largest(self) -> int:
        """The largest per-subject size every subject can fill."""
        return min(self.available.values(), default=0)

    @property
    def short_subjects(self) -> list[tuple[str, int]]:
        return [
            (name, n)
            for name, n in self.available.items()
            if n < self.paper.per_subject
        ]

    @property
    def fills_spec(self) -> bool:
        return bool(self.available) and self.largest >= self.paper.per_subject

    @property
    def default_size(self) -> int:
        """What the form offers: the spec when it fits, else the largest fill."""
        return min(self.paper.per_subject, self.largest)


# Question.objects.quizzable()'s condition, as an aggregate's filter.
QUIZZABLE = Q(needs_figure=False) | ~Q(figure="")


def subject_cells(*, topic: Topic) -> list[SubjectCell]:
    """Each (round, subject) of the topic's live questions with its size and
    how many a quiz may show, in one index-only pass (study_q_topic_cells
    carries the figure columns). Read through topic_bank, which caches it:
    the rounds, the subjects' counts and the mock's fill are summed from it."""
    rows = (
        Question.objects.alive()
        .filter(topic=topic)
        .values("exam_year", "exam_session", "subject")
        .annotate(
            n=Count("id"),
            first=Min("number"),
            first_id=Min("id"),
            by_subject=BoolOr("numbered_by_subject"),
            quizzable=Count("id", filter=QUIZZABLE),
        )
        .order_by()
    )
    return [
        SubjectCell(
            year=r["exam_year"],
            session=r["exam_session"],
            subject=r["subject"],
            questions=r["n"],
            first_number=r["first"],
            first_id=r["first_id"],
            by_subject=bool(r["by_subject"]),
            quizzable=r["quizzable"],
        )
        for r in rows
    ]


def default_minutes(*, subjects: int, per_subject: int) -> int:
    """30 minutes for 20 questions, pro rata (기사 필기: 1.5 minutes each)."""
    per_question = DEFAULT_MINUTES_PER_SUBJECT / DEFAULT_PER_SUBJECT
    return max(1, math.ceil(per_question * per_subject * max(1, subjects)))


# -- the bank's state, cached per version ---------------------------------------
#
# A topic's cells are a pure function of its live questions' rounds, subjects,
# numbers and figures. study_topic.bank_version (a column of the database
# only, so no save of a Topic can write it back) gets a new random value from
# a trigger in the same transaction as any insert, delete or update of those
# columns of its questions (migration 0027), from every entry point: services,
# admin, shell. The cells and the paper read from them are cached per process
# under that value: a version is never reused (not after a rollback, a
# restore or a clone either), so an entry is never stale, only unused.

_BANK_CACHE_SIZE = 256
_bank_lock = threading.Lock()
_banks: OrderedDict[tuple, TopicBank] = OrderedDict()


@dataclass(frozen=True)
class TopicBank:
    """A topic's rounds and subjects as its bank holds them (with quizzable
    counts) and the paper read from them."""

    cells: tuple[SubjectCell, ...]
    paper: ExamPaper


def _spec_key(spec: ExamSpec | None) -> tuple | None:
    """What of the owner's spec the paper reads (a spec kept only for its
    dates has no subjects and sets no paper)."""
    if spec is None or not spec.subjects:
        return None
    return (tuple(spec.subjects), spec.questions_per_subject, spec.minutes)


# The version and the owner's spec in one row (read raw: through the ORM the
# same row cost 1.1 ms of compiling and building two models on every page).
_BANK_STATE = """
SELECT t.bank_version, s.subjects, s.questions_per_subject, s.time_limit_minutes
FROM study_topic t LEFT JOIN study_examspec s ON s.topic_id = t.id
WHERE t.id = %s
"""


def topic_bank(*, topic: Topic) -> TopicBank:
    """The topic's cells and paper: one query (its bank version and exam
    spec) when this process has seen this version of the bank, one more
    pass over the bank (subject_cells) when not."""
    with connection.cursor() as cursor:
        cursor.execute(_BANK_STATE, [topic.pk])
        row = cursor.fetchone()
    if row is None:  # deleted meanwhile: what is left of it, nothing cached
        cells = tuple(subject_cells(topic=topic))
        return TopicBank(cells=cells, paper=_paper(cells, None))
    version, subjects, per_subject, time_limit = row
    spec = None
    if subjects is not None:  # an unsaved spec, for its derived minutes
        spec = ExamSpec(
            subjects=subjects,
            questions_per_subject=per_subject,
            time_limit_minutes=time_limit,
        )
    spec_key = _spec_key(spec)
    key = (topic.pk, version, spec_key)
    with _bank_lock:
        found = _banks.get(key)
        if found is not None:
            _banks.move_to_end(key)
            return found
    cells = tuple(subject_cells(topic=topic))
    bank = TopicBank(cells=cells, paper=_paper(cells, spec_key))
    with _bank_lock:
        _banks[key] = bank
        while len(_banks) > _BANK_CACHE_SIZE:
            _banks.popitem(last=False)
    return bank


def exam_paper_for_topic(*, topic: Topic) -> ExamPaper:
    """The topic's paper: the owner's exam spec, else the bank's current
    subjects. Every consumer of the subject list reads this one selector
    (or topic_bank, which gives the cells it was read from too)."""
    return topic_bank(topic=topic).paper


def _paper(cells: Sequence[SubjectCell], spec_key: tuple | None) -> ExamPaper:
    current = current_subjects(cells)
    if spec_key is not None:
        subjects, per_subject, minutes = spec_key
        on_paper = set(subjects)
        names = (*current.subjects, *current.old)
        return ExamPaper(
            subjects=subjects,
            per_subject=per_subject,
            minutes=minutes,
            is_set=True,
            old_subjects=tuple(n for n in names if n not in on_paper),
        )
    per_subject = current.per_subject or DEFAULT_PER_SUBJECT
    return ExamPaper(
        subjects=current.subjects,
        per_subject=per_subject,
        minutes=default_minutes(
            subjects=len(current.subjects), per_subject=per_subject
        ),
        is_set=False,
        rounds=current.rounds,
        old_subjects=current.old,
    )


def session_paper(
    *, session: QuizSession, subjects: Sequence[str] = ()
) -> tuple[str, ...]:
    """The subjects a session is judged on, in exam order. A mock keeps the
    paper it was set on (params["subjects"], written at its start), so its
    score needs no pass over the bank; jsonb keeps no key order, so they are
    put in the order its questions come in (`subjects`: each slot's question
    subject, by position; a mock is set subject by subject in exam order).
    Any other session is judged on the topic's current paper
    (exam_paper_for_topic)."""
    paper = (session.params or {}).get("subjects")
    if session.mode == QuizMode.MOCK and isinstance(paper, dict) and paper:
        seen = dict.fromkeys(subject_key(s) for s in subjects)
        return (
            *(name for name in seen if name in paper),
            *(name for name in paper if name not in seen),
        )
    return exam_paper_for_topic(topic=session.topic).subjects


def topic_subject_names(*, topic: Topic) -> list[str]:
    """Every named subject of the bank: the paper's in exam order, then the
    old ones (most recently used first)."""
    return list(exam_paper_for_topic(topic=topic).all_subjects)


def paper_fill(
    *, topic: Topic, paper: ExamPaper, cells: Sequence[SubjectCell] | None = None
) -> PaperFill:
    """The paper's subjects with their quizzable questions, summed from the
    topic's cells (`cells`: topic_bank's, already read by the caller)."""
    if cells is None:
        cells = topic_bank(topic=topic).cells
    summed = dict.fromkeys(paper.subjects, 0)
    for cell in cells:
        if cell.subject in summed:
            summed[cell.subject] += cell.quizzable or 0
    return PaperFill(paper, summed)
