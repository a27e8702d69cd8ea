"""Per-learner progress: upsert at finalize, FSRS reviews, 학습완료 marks."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone
from fsrs import Card

from study.models import Attempt, Outcome, QuestionProgress
from study.models.progress import NOT_CORRECT
from study.services import scheduling
from study.services.bulk_insert import unnest_columns, unnest_insert_sql
from study.services.patterns import (
    history_merge_same_day,
    history_push,
    pattern_classify,
)


def progress_apply_session(*, user_id: int, attempts: list[Attempt]) -> None:
    """Fold a session's attempts into the progress rows (one per question)."""
    if not attempts:
        return
    question_ids = {a.question_id for a in attempts}
    rows = {
        p.question_id: p
        for p in QuestionProgress.objects.select_for_update().filter(
            user_id=user_id, question_id__in=question_ids
        )
    }
    context = None
    for attempt in attempts:
        row = rows.get(attempt.question_id)
        if row is None:
            row = rows[attempt.question_id] = QuestionProgress(
                user_id=user_id,
                topic_id=attempt.question.topic_id,
                question_id=attempt.question_id,
            )
        if row.is_scheduled and context is None:
            context = scheduling.review_context(
                user_id=user_id, topic_id=row.topic_id, at=attempt.created_at
            )
        _apply_attempt(row, attempt, context)
    _save_rows(rows.values())


def _same_day(row: QuestionProgress, attempt: Attempt) -> bool:
    if row.last_attempted_at is None or attempt.created_at is None:
        return False
    return timezone.localdate(row.last_attempted_at) == timezone.localdate(
        attempt.created_at
    )


def _apply_attempt(
    row: QuestionProgress,
    attempt: Attempt,
    context: scheduling.ReviewContext | None,
) -> None:
    fold = history_merge_same_day if _same_day(row, attempt) else history_push
    history = fold(
        row.pattern_window,
        row.had_correct_before_window,
        row.had_wrong_before_window,
        attempt.outcome,
    )
    row.pattern_window = list(history.window)
    row.had_correct_before_window = history.correct_before
    row.had_wrong_before_window = history.wrong_before
    row.pattern_state = pattern_classify(history)
    row.pattern_updated_at = timezone.now()
    row.last_outcome = attempt.outcome
    row.last_attempted_at = attempt.created_at
    row.last_attempt = attempt
    row.attempt_count += 1
    row.correct_count += attempt.outcome == Outcome.CORRECT
    if row.fsrs_card is not None:
        # A scheduled row: every caller passes its review context then.
        assert context is not None
        card = scheduling.card_review(
            scheduler=context.scheduler,
            card_data=row.fsrs_card,
            outcome=attempt.outcome,
            at=attempt.created_at,
        )
        _store_card(row, card, context, attempt.created_at)
        row.review_stage = (
            row.review_stage + 1 if attempt.outcome == Outcome.CORRECT else 0
        )


def _store_card(
    row: QuestionProgress,
    card: Card,
    context: scheduling.ReviewContext,
    at: datetime,
) -> None:
    row.fsrs_card = card.to_dict()
    row.due_at = context.due(card, at)  # never after the exam date


PROGRESS_FIELDS = [
    "pattern_window",
    "had_correct_before_window",
    "had_wrong_before_window",
    "pattern_state",
    "pattern_updated_at",
    "last_outcome",
    "last_attempted_at",
    "last_attempt",
    "attempt_count",
    "correct_count",
    "fsrs_card",
    "due_at",
    "review_stage",
]


def _save_rows(rows: Iterable[QuestionProgress]) -> None:
    """One INSERT … SELECT FROM unnest(…) ON CONFLICT (user, question) DO
    UPDATE for the whole session: a row read under the lock is updated, a new
    one inserted, and the values cost the ORM nothing each (a mock's 120 rows
    were two bulk_create statements, about 2,000 values prepared one by one)."""
    rows = list(rows)
    fields, sql = unnest_insert_sql(
        QuestionProgress,
        conflict=("user", "question"),
        update=tuple(PROGRESS_FIELDS),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, unnest_columns(fields, rows))


@transaction.atomic
def attempt_mark_reviewed(*, attempt: Attempt) -> QuestionProgress | None:
    """학습완료 on a results card: the attempt and every earlier unchecked miss of
    the question are checked, and a wrong or unsure answer gets its first review."""
    now = timezone.now()
    Attempt.objects.filter(pk=attempt.pk).update(reviewed_at=now)
    attempt.reviewed_at = now
    _check_misses(user_id=attempt.user_id, question_ids=[attempt.question_id], at=now)
    progress = (
        QuestionProgress.objects.select_for_update()
        .filter(user_id=attempt.user_id, question_id=attempt.question_id)
        .first()
    )
    if progress is None:  # the session is not finalized yet
        return None
    _review(progress, attempt.outcome, now, context=None)
    progress.save(update_fields=REVIEW_FIELDS)
    return progress


REVIEW_FIELDS = ["last_reviewed_at", "fsrs_card", "due_at", "review_stage"]


def _check_misses(*, user_id: int, question_ids: Iterable[int], at: datetime) -> None:
    """Checking a question checks every miss of it answered so far (확인 안 함
    counts misses with no check since: study/selectors/counts.py)."""
    Attempt.objects.filter(
        user_id=user_id,
        question_id__in=list(question_ids),
        outcome__in=NOT_CORRECT,
        reviewed_at__isnull=True,
        created_at__lte=at,
    ).update(reviewed_at=at)


def _review(
    progress: QuestionProgress,
    outcome: str,
    now: datetime,
    context: scheduling.ReviewContext | None,
) -> None:
    """Reviewed now; a wrong or unsure answer gets its first review date."""
    progress.last_reviewed_at = now
    _schedule_first_review(progress, outcome, now, context)


def _schedule_first_review(
    progress: QuestionProgress,
    outcome: str,
    now: datetime,
    context: scheduling.ReviewContext | None,
) -> None:
    if outcome in NOT_CORRECT and not progress.is_scheduled:
        if context is None:
            context = scheduling.review_context(
                user_id=progress.user_id, topic_id=progress.topic_id, at=now
            )
        card = scheduling.card_start(scheduler=context.scheduler, at=now)
        _store_card(progress, card, context, now)
        progress.review_stage = 0


@transaction.atomic
def question_review_complete(*, user: User, question_ids: Iterable[int]) -> int:
    """확인 완료 from the review queue or the question page: the learner's
    answers to each question are checked (every miss so far), and wrong or
    unsure ones enter 오늘 복습's schedule. Returns how many rows."""
    now = timezone.now()
    rows = list(
        QuestionProgress.objects.select_for_update().filter(
            user=user, question_id__in=list(question_ids)
        )
    )
    if not rows:
        return 0
    contexts: dict[int, scheduling.ReviewContext] = {}
    for progress in rows:
        if progress.topic_id not in contexts:
            contexts[progress.topic_id] = scheduling.review_context(
                user_id=user.pk, topic_id=progress.topic_id, at=now
            )
        _review(progress, progress.last_outcome, now, contexts[progress.topic_id])
    QuestionProgress.objects.bulk_update(rows, REVIEW_FIELDS)
    _check_misses(user_id=user.pk, question_ids=[p.question_id for p in rows], at=now)
    attempt_ids = [p.last_attempt_id for p in rows if p.last_attempt_id]
    Attempt.objects.filter(pk__in=attempt_ids, reviewed_at__isnull=True).update(
        reviewed_at=now
    )
    return len(rows)


@transaction.atomic
def attempt_unmark_reviewed(*, attempt: Attempt) -> None:
    """학습완료 taken back: the attempt is unchecked again, and when it is the
    question's latest answer the question returns to 확인 안 함 (its review
    schedule, once started, stays)."""
    Attempt.objects.filter(pk=attempt.pk).update(reviewed_at=None)
    attempt.reviewed_at = None
    QuestionProgress.objects.filter(
        user_id=attempt.user_id, question_id=attempt.question_id, last_attempt=attempt
    ).update(last_reviewed_at=None)


ContextAt = Callable[[datetime], "scheduling.ReviewContext"]


def progress_replay(
    row: QuestionProgress,
    *,
    attempts: list[Attempt],
    reviews: Iterable[datetime],
    context_at: ContextAt,
) -> None:
    """Rebuild a progress row from the learner's answers to its question, in
    the order finalize folded them, with the review marks in between (a miss
    checked at time t starts its FSRS card at t). The regrade of a corrected
    key uses it; `last_reviewed_at` is a fact and stays."""
    fresh = QuestionProgress(
        user_id=row.user_id, topic_id=row.topic_id, question_id=row.question_id
    )
    marks = sorted(set(reviews))
    for attempt in attempts:
        while marks and marks[0] <= attempt.created_at:
            _replay_mark(fresh, marks.pop(0), context_at)
        context = context_at(attempt.created_at) if fresh.is_scheduled else None
        _apply_attempt(fresh, attempt, context)
    for at in marks:
        _replay_mark(fresh, at, context_at)
    for name in PROGRESS_FIELDS:
        setattr(row, name, getattr(fresh, name))


def _replay_mark(row: QuestionProgress, at: datetime, context_at: ContextAt) -> None:
    if row.attempt_count:  # a mark before any answer schedules nothing
        _schedule_first_review(row, row.last_outcome, at, context_at(at))


def progress_save_replayed(rows: list[QuestionProgress]) -> None:
    QuestionProgress.objects.bulk_update(rows, PROGRESS_FIELDS)
