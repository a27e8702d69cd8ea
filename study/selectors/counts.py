"""Every count a learner sees about their answers, defined once.

- 정답 / 오답 / 모르겠음: attempts by outcome (a mock's blank counts as 모르겠음).
- 확인 안 함: a miss (오답 or 모르겠음) not checked since it was given. 학습완료
  on a results card and 확인 완료 in the review queue check a question, which
  checks every miss of it so far (study.services.progress). A session counts
  its own attempts, so its results page says the same thing forever; the
  review queue counts questions whose latest answer is such a miss.
- What changed in a session, per question, from the learner's previous answer
  to it (in a session finished earlier) to their last answer in this one:
  새로 맞힘 (first answer ever, right), 회복 (missed before, right now),
  퇴행 (right before, 오답 now) and 반복 오답 (missed before, 오답 again).
  퇴행 and 반복 오답 are 오답 of this session, so neither exceeds its 오답.
- 바로 할 일 of a session: its 확인 안 함, 오답 and 모르겠음 apart.
- 오늘 복습: scheduled reviews due before the end of today; when there are
  none, the day the next ones fall due.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.contrib.auth.models import User
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from study.models import Attempt, Outcome, Pattern, QuestionProgress, QuizSession, Topic
from study.models.progress import NOT_CORRECT
from study.selectors.review_queue import end_of_today, live_progress, pending_review_q


@dataclass(frozen=True)
class SessionChanges:
    newly_correct: int = 0
    recovered: int = 0
    regressed: int = 0
    repeated_wrong: int = 0


@dataclass(frozen=True)
class SessionCounts:
    correct: int
    wrong: int
    unsure: int
    unchecked_wrong: int
    unchecked_unsure: int

    @property
    def unchecked(self) -> int:
        return self.unchecked_wrong + self.unchecked_unsure

    def by_outcome(self) -> dict[str, int]:
        return {
            Outcome.CORRECT: self.correct,
            Outcome.WRONG: self.wrong,
            Outcome.UNSURE: self.unsure,
        }


def session_counts(*, attempts: Iterable[Attempt]) -> SessionCounts:
    """The session's own attempts, counted (no query)."""
    attempts = list(attempts)

    def count(outcome: str, *, unchecked: bool = False) -> int:
        return sum(
            1
            for a in attempts
            if a.outcome == outcome and (not unchecked or a.reviewed_at is None)
        )

    return SessionCounts(
        correct=count(Outcome.CORRECT),
        wrong=count(Outcome.WRONG),
        unsure=count(Outcome.UNSURE),
        unchecked_wrong=count(Outcome.WRONG, unchecked=True),
        unchecked_unsure=count(Outcome.UNSURE, unchecked=True),
    )


def session_unchecked(*, session: QuizSession) -> SessionCounts:
    """session_counts in one query, for the HTMX answer to 학습완료."""
    return session_counts(
        attempts=session.attempts.only("outcome", "reviewed_at", "session_id")
    )


def session_changes(
    *, session: QuizSession, attempts: Iterable[Attempt]
) -> SessionChanges:
    """새로 맞힘, 회복, 퇴행, 반복 오답 of a finished session (one query)."""
    now: dict[int, str] = {}
    for attempt in sorted(attempts, key=lambda a: a.position):
        now[attempt.question_id] = attempt.outcome
    if not now or session.finished_at is None:
        return SessionChanges()
    before = dict(
        Attempt.objects.filter(
            user_id=session.user_id,
            question_id__in=list(now),
            session__finished_at__lt=session.finished_at,
        )
        .order_by("question_id", "-session__finished_at", "-session_id", "-position")
        .distinct("question_id")
        .values_list("question_id", "outcome")
    )
    tally = {"newly_correct": 0, "recovered": 0, "regressed": 0, "repeated_wrong": 0}
    for question_id, outcome in now.items():
        change = change_of(before.get(question_id), outcome)
        if change:
            tally[change] += 1
    return SessionChanges(**tally)


def change_of(previous: str | None, outcome: str) -> str | None:
    """The one change a question's answer makes, if any."""
    if outcome == Outcome.CORRECT:
        if previous is None:
            return "newly_correct"
        return "recovered" if previous in NOT_CORRECT else None
    if outcome == Outcome.WRONG and previous == Outcome.CORRECT:
        return "regressed"
    if outcome == Outcome.WRONG and previous in NOT_CORRECT:
        return "repeated_wrong"
    return None


@dataclass(frozen=True)
class QueueCounts:
    """The review queue's tabs, counted now."""

    due_today: int
    pending_wrong: int
    pending_unsure: int
    chronic: int
    regressed: int
    mastered: int

    @property
    def pending_review(self) -> int:
        return self.pending_wrong + self.pending_unsure

    def by_tab(self) -> dict[str, int]:
        return {
            "due_today": self.due_today,
            "pending_review": self.pending_review,
            "chronic": self.chronic,
            "regressed": self.regressed,
            "mastered": self.mastered,
        }


def queue_counts(*, user: User, topic: Topic) -> QueueCounts:
    """Every tab of the review queue in one query (the tabs' own filters)."""
    pending = pending_review_q()
    counts = _live_progress(user, topic).aggregate(
        due_today=Count(
            "id", filter=Q(due_at__isnull=False, due_at__lt=end_of_today())
        ),
        pending_wrong=Count("id", filter=pending & Q(last_outcome=Outcome.WRONG)),
        pending_unsure=Count("id", filter=pending & Q(last_outcome=Outcome.UNSURE)),
        chronic=Count("id", filter=Q(pattern_state=Pattern.CHRONIC_WRONG)),
        regressed=Count("id", filter=Q(pattern_state=Pattern.REGRESSED)),
        mastered=Count("id", filter=Q(pattern_state=Pattern.STABLE)),
    )
    return QueueCounts(**counts)


@dataclass(frozen=True)
class NextReviews:
    day: date
    count: int


def next_reviews(*, user: User, topic: Topic) -> NextReviews | None:
    """The first day after today with reviews due, and how many (one query)."""
    first = (
        _live_progress(user, topic)
        .filter(due_at__gte=end_of_today())
        .annotate(day=TruncDate("due_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(n=Count("id"))
        .order_by("day")
        .first()
    )
    return NextReviews(day=first["day"], count=first["n"]) if first else None


def answered_any(*, user: User) -> bool:
    """Has the learner answered anything yet (home's first steps until then)."""
    return Attempt.objects.filter(user=user).exists()


def _live_progress(user: User, topic: Topic) -> QuerySet[QuestionProgress]:
    return live_progress(user=user, topic=topic)
