"""Live AI state of a results page: per-question explanation state and the analysis."""

from __future__ import annotations

from study.models import (
    AIExplanationStatus,
    Attempt,
    JobKind,
    JobStatus,
    QuestionJob,
    QuizSession,
    SessionAnalysis,
    SessionJob,
)

ACTIVE = [JobStatus.PENDING, JobStatus.PROCESSING]


def explanation_states(*, attempts: list[Attempt]) -> dict[int, str]:
    """question id → ready | pending | failed | skipped | stale | none (one query)."""
    ids = {a.question_id for a in attempts}
    queued = set(
        QuestionJob.objects.filter(
            question_id__in=ids, kind=JobKind.EXPLANATION, status__in=ACTIVE
        ).values_list("question_id", flat=True)
    )
    states = {}
    for attempt in attempts:
        status = attempt.question.ai_explanation_status
        if status != AIExplanationStatus.READY and attempt.question_id in queued:
            status = AIExplanationStatus.PENDING
        states[attempt.question_id] = status
    return states


def session_analysis_state(
    *, session: QuizSession
) -> tuple[SessionAnalysis | None, bool]:
    analysis = SessionAnalysis.objects.filter(session=session).first()
    pending = (
        analysis is None
        and SessionJob.objects.filter(session=session, status__in=ACTIVE).exists()
    )
    return analysis, pending
