"""Quiz sessions: start in one of the modes, answer slot by slot, finalize."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from study.models import (
    UNSURE_CHOICE,
    Attempt,
    Outcome,
    Question,
    QuizMode,
    QuizSession,
    QuizStatus,
    Topic,
)
from study.selectors import quiz_selection as sel
from study.services.progress import progress_apply_session

logger = logging.getLogger(__name__)
MAX_TIME_MS = 60 * 60 * 1000
PASS_SUBJECT_MIN = 40
PASS_AVERAGE_MIN = 60


class AnswerRejected(Exception):
    """An answer that cannot be recorded; the message is shown to the learner."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class QuizRequest:
    mode: str
    stage: str = ""
    size: int = 20
    round_key: str = ""
    subjects: tuple[str, ...] = ()
    per_subject: int = 20
    tab: str = ""


def quiz_session_start(
    *, user, topic: Topic, request: QuizRequest, rng=random
) -> QuizSession:
    """Pick the questions and create the session (raises NotEnoughQuestions)."""
    params: dict = {}
    if request.mode == QuizMode.STAGE:
        ids = sel.select_for_stage(
            user=user, topic=topic, stage=request.stage, size=request.size, rng=rng
        )
        params = {"size": request.size}
    elif request.mode == QuizMode.ROUND:
        year, _, session = request.round_key.partition("-")
        ids = sel.select_for_round(topic=topic, year=int(year), session=session)
        params = {"round": request.round_key}
    elif request.mode == QuizMode.SUBJECT:
        ids = sel.select_for_subjects(
            user=user,
            topic=topic,
            subjects=request.subjects,
            size=request.size,
            rng=rng,
        )
        params = {"subjects": list(request.subjects), "size": request.size}
    elif request.mode == QuizMode.MOCK:
        ids, counts = sel.select_for_mock(
            topic=topic, per_subject=request.per_subject, rng=rng
        )
        params = {"per_subject": request.per_subject, "subjects": counts}
    elif request.mode == QuizMode.REVIEW:
        ids = sel.select_for_review_tab(
            user=user, topic=topic, tab=request.tab, size=request.size
        )
        params = {"tab": request.tab}
    else:
        raise ValueError(f"unknown mode {request.mode}")
    return QuizSession.objects.create(
        user=user,
        topic=topic,
        mode=request.mode,
        stage=request.stage if request.mode == QuizMode.STAGE else "",
        params=params,
        question_ids=ids,
    )


def _outcome_for(question: Question, choice: int) -> tuple[str, int | None]:
    if choice == UNSURE_CHOICE:
        return Outcome.UNSURE, None
    return (Outcome.CORRECT if question.is_correct(choice) else Outcome.WRONG), choice


def quiz_answer_record(
    *,
    session: QuizSession,
    position: int,
    question_id: int,
    choice: int,
    time_taken_ms: int | None,
) -> Attempt:
    """Record the answer of one slot; the last one finalizes the session.

    The slot is claimed with a conditional UPDATE on answered_count, so a
    double click or a replay cannot record two attempts for one slot.
    """
    if not 1 <= choice <= UNSURE_CHOICE:
        raise AnswerRejected("보기는 1~5 중에서 고르세요.")
    if (
        not 0 <= position < session.size
        or session.question_ids[position] != question_id
    ):
        raise AnswerRejected("이 세션의 문제가 아닙니다.")
    try:
        with transaction.atomic():
            attempt = _claim_and_record(
                session, position, question_id, choice, time_taken_ms
            )
    except IntegrityError as exc:  # the slot claim makes this a last line of defence
        raise AnswerRejected("이미 답한 문제입니다.", status=409) from exc
    return attempt


def _claim_and_record(
    session: QuizSession,
    position: int,
    question_id: int,
    choice: int,
    time_taken_ms: int | None,
) -> Attempt:
    claimed = QuizSession.objects.filter(
        pk=session.pk, status=QuizStatus.ACTIVE, answered_count=position
    ).update(answered_count=F("answered_count") + 1, last_activity_at=timezone.now())
    if not claimed:
        raise _why_not_claimed(session, position)
    question = Question.objects.get(pk=question_id)
    outcome, selected = _outcome_for(question, choice)
    attempt = Attempt.objects.create(
        user_id=session.user_id,
        session=session,
        question=question,
        position=position,
        outcome=outcome,
        selected_choice=selected,
        time_taken_ms=_time_taken(session, time_taken_ms),
    )
    session.answered_count = position + 1
    if session.answered_count >= session.size:
        quiz_session_finalize(session=session, status=QuizStatus.FINISHED)
    return attempt


def _why_not_claimed(session: QuizSession, position: int) -> AnswerRejected:
    current = QuizSession.objects.get(pk=session.pk)
    if current.status != QuizStatus.ACTIVE:
        return AnswerRejected("이미 끝난 세션입니다.", status=409)
    if position < current.answered_count:
        return AnswerRejected("이미 답한 문제입니다.", status=409)
    return AnswerRejected("아직 풀 차례가 아닌 문제입니다.", status=409)


def _time_taken(session: QuizSession, reported_ms: int | None) -> int:
    if reported_ms is not None and 0 <= reported_ms <= MAX_TIME_MS:
        return reported_ms
    elapsed = timezone.now() - session.last_activity_at
    return min(MAX_TIME_MS, max(0, int(elapsed.total_seconds() * 1000)))


@transaction.atomic
def quiz_session_finalize(*, session: QuizSession, status: str) -> QuizSession:
    """Close the session, upsert progress and persist the session summary."""
    locked = QuizSession.objects.select_for_update().get(pk=session.pk)
    if locked.finished_at is not None:
        return locked
    attempts = list(locked.attempts.select_related("question").order_by("position"))
    summary = progress_apply_session(user_id=locked.user_id, attempts=attempts)
    locked.status = status
    locked.finished_at = timezone.now()
    locked.recovered_count = summary.recovered
    locked.regressed_count = summary.regressed
    locked.newly_correct_count = summary.newly_correct
    locked.repeated_wrong_count = summary.repeated_wrong
    if locked.mode == QuizMode.MOCK:
        locked.result = mock_exam_score(attempts)
    locked.save()
    _enqueue_ai_work(locked, attempts)
    session.refresh_from_db()
    return locked


def _enqueue_ai_work(session: QuizSession, attempts: list[Attempt]) -> None:
    """Prefetch explanations of wrong/unsure answers and queue the session analysis.
    Best effort: a failure here never breaks finalize (its savepoint rolls back)."""
    from study.services.explanation_jobs import explanation_jobs_enqueue
    from study.services.session_analysis import session_job_enqueue

    missed = missed_in_card_order(attempts)
    try:
        with transaction.atomic():
            explanation_jobs_enqueue(user_id=session.user_id, question_ids=missed)
            if attempts:
                session_job_enqueue(session=session)
    except Exception:
        logger.exception("could not enqueue AI work for session %s", session.pk)


def missed_in_card_order(attempts: list[Attempt]) -> list[int]:
    """Question ids in the order the results page shows their cards: wrong
    answers, then 모르겠음, each in question order. Prefetch runs in this order."""
    rank = {Outcome.WRONG: 0, Outcome.UNSURE: 1}
    missed = [a for a in attempts if a.outcome in rank]
    missed.sort(key=lambda a: (rank[a.outcome], a.position))
    return [a.question_id for a in missed]


def session_explanations_backfill(*, session: QuizSession) -> int:
    """The learner's explicit request (a POST) to queue what is still missing
    (≤ 30, in card order; recent failures wait out their backoff)."""
    from study.services.explanation_jobs import BACKFILL_MAX, explanation_jobs_enqueue

    missed = missed_in_card_order(list(session.attempts.order_by("position")))
    try:
        with transaction.atomic():
            return explanation_jobs_enqueue(
                user_id=session.user_id, question_ids=missed, max_count=BACKFILL_MAX
            )
    except Exception:
        logger.exception("explanation backfill for session %s failed", session.pk)
        return 0


def quiz_session_abandon(*, session: QuizSession) -> QuizSession:
    """Stop early; what was answered still counts."""
    if session.status != QuizStatus.ACTIVE:
        raise AnswerRejected("이미 끝난 세션입니다.", status=409)
    return quiz_session_finalize(session=session, status=QuizStatus.ABANDONED)


def mock_exam_score(attempts: list[Attempt]) -> dict:
    """Per-subject scores out of 100; pass needs every subject ≥ 40 and mean ≥ 60."""
    by_subject: dict[str, list[int]] = {}
    for attempt in attempts:
        stats = by_subject.setdefault(attempt.question.subject or "과목 없음", [0, 0])
        stats[1] += 1
        stats[0] += attempt.outcome == Outcome.CORRECT
    subjects = [
        {"subject": name, "correct": c, "total": t, "score": round(100 * c / t, 1)}
        for name, (c, t) in by_subject.items()
    ]
    average = (
        round(sum(s["score"] for s in subjects) / len(subjects), 1) if subjects else 0
    )
    failing = [s["subject"] for s in subjects if s["score"] < PASS_SUBJECT_MIN]
    return {
        "subjects": subjects,
        "average": average,
        "failing_subjects": failing,
        "passed": bool(subjects) and not failing and average >= PASS_AVERAGE_MIN,
    }
