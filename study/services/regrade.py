"""A corrected answer key regrades every answer to the question.

In the real CBT a 최종정답 correction credits everyone who chose the corrected
answer. Here a key change (question form, admin, import update: all through
study/services/questions.py) re-scores every attempt on the question in the
edit's transaction, and with it what is built from attempts:

- the attempt's outcome (a 모르겠음 stays 모르겠음) and `regraded_at`, which the
  results card shows as "정답이 정정되어 다시 채점했습니다";
- the learner's progress row, replayed from their attempts and review marks
  (pattern, counts and the FSRS card: study.services.progress.progress_replay);
- the stored score of every finished mock that held the question.

Session scores, tab counts and what changed in a session are read from the
attempts when shown, so they follow by themselves; the learners' forecast
snapshots are marked out of date (the pages compute the forecast until the
schedule refreshes them).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

from study.forecast.snapshots import forecast_snapshots_invalidate_many
from study.models import Attempt, Outcome, Question, QuestionProgress, QuizSession
from study.models.quiz_session import QuizMode
from study.services import scheduling
from study.services.progress import (
    ContextAt,
    progress_replay,
    progress_save_replayed,
)
from study.services.quiz_sessions import mock_exam_score

Pair = tuple[int, int]  # (user id, question id)


@dataclass(frozen=True)
class RegradeReport:
    attempts: int = 0  # answers whose outcome changed
    progress: int = 0  # progress rows replayed
    mocks: int = 0  # finished mocks rescored


@transaction.atomic(savepoint=False)
def questions_regrade(*, questions: Sequence[Question]) -> RegradeReport:
    """Regrade every attempt on these questions against their current key.

    Called by the question services inside the edit's transaction, after the
    new key is saved and with the question rows locked or freshly written."""
    keyed = {q.pk: q for q in questions}
    if not keyed:
        return RegradeReport()
    now = timezone.now()
    attempts = _attempts(keyed)
    changed = _rescore(attempts, keyed)
    Attempt.objects.filter(question_id__in=keyed).update(regraded_at=now)
    Attempt.objects.bulk_update(changed, ["outcome"], batch_size=1000)
    mocks = _rescore_mocks({a.session_id for a in changed if _is_finished_mock(a)})
    replayed = _replay_progress(attempts)
    forecast_snapshots_invalidate_many(
        pairs=((a.user_id, keyed[a.question_id].topic_id) for a in changed)
    )
    return RegradeReport(attempts=len(changed), progress=replayed, mocks=mocks)


def _attempts(keyed: dict[int, Question]) -> list[Attempt]:
    """Every answer to the questions, in the order finalize folded them."""
    return list(
        Attempt.objects.filter(question_id__in=keyed)
        .select_related("session")
        .only(
            "id",
            "user_id",
            "question_id",
            "session_id",
            "position",
            "outcome",
            "selected_choice",
            "created_at",
            "reviewed_at",
            "session__finished_at",
            "session__mode",
        )
        .order_by("session__finished_at", "session_id", "position")
    )


def _rescore(attempts: list[Attempt], keyed: dict[int, Question]) -> list[Attempt]:
    changed = []
    for attempt in attempts:
        if attempt.selected_choice is None:  # 모르겠음 stays 모르겠음
            continue
        correct = keyed[attempt.question_id].is_correct(attempt.selected_choice)
        outcome = Outcome.CORRECT if correct else Outcome.WRONG
        if outcome != attempt.outcome:
            attempt.outcome = outcome
            changed.append(attempt)
    return changed


def _is_finished_mock(attempt: Attempt) -> bool:
    session = attempt.session
    return session.mode == QuizMode.MOCK and session.finished_at is not None


def _rescore_mocks(session_ids: set[int]) -> int:
    if not session_ids:
        return 0
    sessions = list(
        QuizSession.objects.select_for_update()
        .filter(pk__in=session_ids)
        .order_by("pk")
        .only("id", "result")
    )
    by_session: dict[int, list[Attempt]] = defaultdict(list)
    for attempt in (
        Attempt.objects.filter(session_id__in=session_ids)
        .select_related("question")
        .only("session_id", "position", "outcome", "question__subject")
        .order_by("session_id", "position")
    ):
        by_session[attempt.session_id].append(attempt)
    for session in sessions:
        session.result = mock_exam_score(by_session[session.pk])
    QuizSession.objects.bulk_update(sessions, ["result"])
    return len(sessions)


def _context_at(retention: float, exam_date: date | None) -> ContextAt:
    def context_at(at: datetime) -> scheduling.ReviewContext:
        return scheduling.review_context_for(
            retention=retention, exam_date=exam_date, at=at
        )

    return context_at


def _replay_progress(attempts: list[Attempt]) -> int:
    folded: dict[Pair, list[Attempt]] = defaultdict(list)
    marks: dict[Pair, list[datetime]] = defaultdict(list)
    for attempt in attempts:
        pair = (attempt.user_id, attempt.question_id)
        if attempt.session.finished_at is not None:  # finalize folds the rest
            folded[pair].append(attempt)
        if attempt.reviewed_at is not None:
            marks[pair].append(attempt.reviewed_at)
    rows = list(
        QuestionProgress.objects.select_for_update()
        .filter(
            question_id__in={q for _u, q in folded}, user_id__in={u for u, _q in folded}
        )
        .order_by("pk")
    )
    rows = [row for row in rows if (row.user_id, row.question_id) in folded]
    settings = scheduling.review_settings_bulk(
        pairs={(row.user_id, row.topic_id) for row in rows}
    )
    for row in rows:
        pair = (row.user_id, row.question_id)
        retention, exam_date = settings[(row.user_id, row.topic_id)]
        reviews = marks[pair] + ([row.last_reviewed_at] if row.last_reviewed_at else [])
        progress_replay(
            row,
            attempts=folded[pair],
            reviews=reviews,
            context_at=_context_at(retention, exam_date),
        )
    progress_save_replayed(rows)
    return len(rows)
