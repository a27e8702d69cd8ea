"""Per-learner progress: upsert at finalize, FSRS reviews, 학습완료 marks."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from study.models import Attempt, Outcome, QuestionProgress
from study.models.progress import NOT_CORRECT
from study.services import scheduling
from study.services.patterns import (
    history_merge_same_day,
    history_push,
    pattern_classify,
)


@dataclass
class SessionSummary:
    recovered: int = 0
    regressed: int = 0
    newly_correct: int = 0
    repeated_wrong: int = 0


def _count_change(summary: SessionSummary, previous: str | None, outcome: str) -> None:
    if outcome == Outcome.CORRECT:
        if previous is None:
            summary.newly_correct += 1
        elif previous in NOT_CORRECT:
            summary.recovered += 1
    elif previous == Outcome.CORRECT and outcome == Outcome.WRONG:
        summary.regressed += 1
    elif previous in NOT_CORRECT:
        summary.repeated_wrong += 1


def progress_apply_session(*, user_id: int, attempts: list[Attempt]) -> SessionSummary:
    """Fold a session's attempts into the progress rows (one per question)."""
    summary = SessionSummary()
    if not attempts:
        return summary
    question_ids = {a.question_id for a in attempts}
    rows = {
        p.question_id: p
        for p in QuestionProgress.objects.select_for_update().filter(
            user_id=user_id, question_id__in=question_ids
        )
    }
    context = None
    first_outcome: dict[int, str | None] = {}
    for attempt in attempts:
        row = rows.get(attempt.question_id)
        first_outcome.setdefault(attempt.question_id, row.last_outcome if row else None)
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
    for qid, row in rows.items():
        last = row.last_outcome
        _count_change(summary, first_outcome[qid], last)
    _save_rows(rows.values())
    return summary


def _same_day(row: QuestionProgress, attempt: Attempt) -> bool:
    if row.last_attempted_at is None or attempt.created_at is None:
        return False
    return timezone.localdate(row.last_attempted_at) == timezone.localdate(
        attempt.created_at
    )


def _apply_attempt(row: QuestionProgress, attempt: Attempt, context) -> None:
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


def _store_card(row: QuestionProgress, card, context, at) -> None:
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


def _save_rows(rows) -> None:
    """One INSERT … ON CONFLICT (user, question) DO UPDATE for the whole session."""
    QuestionProgress.objects.bulk_create(
        list(rows),
        update_conflicts=True,
        unique_fields=["user", "question"],
        update_fields=PROGRESS_FIELDS,
    )


@transaction.atomic
def attempt_mark_reviewed(*, attempt: Attempt) -> QuestionProgress | None:
    """학습완료: mark the attempt and the progress row; schedule a first review."""
    now = timezone.now()
    Attempt.objects.filter(pk=attempt.pk).update(reviewed_at=now)
    attempt.reviewed_at = now
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


def _review(progress: QuestionProgress, outcome: str, now, context) -> None:
    """Reviewed now; a wrong or unsure answer gets its first review date."""
    progress.last_reviewed_at = now
    if outcome in NOT_CORRECT and not progress.is_scheduled:
        if context is None:
            context = scheduling.review_context(
                user_id=progress.user_id, topic_id=progress.topic_id, at=now
            )
        card = scheduling.card_start(scheduler=context.scheduler, at=now)
        _store_card(progress, card, context, now)
        progress.review_stage = 0


@transaction.atomic
def question_review_complete(*, user, question_ids) -> int:
    """확인 완료 from the review queue or the question page: the learner's
    latest answer to each question is reviewed (its attempt marked too), and
    wrong or unsure ones enter 오늘 복습's schedule. Returns how many rows."""
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
    attempt_ids = [p.last_attempt_id for p in rows if p.last_attempt_id]
    Attempt.objects.filter(pk__in=attempt_ids, reviewed_at__isnull=True).update(
        reviewed_at=now
    )
    return len(rows)


@transaction.atomic
def attempt_unmark_reviewed(*, attempt: Attempt) -> None:
    """Only the attempt reverts: another attempt may have been reviewed too."""
    Attempt.objects.filter(pk=attempt.pk).update(reviewed_at=None)
    attempt.reviewed_at = None
