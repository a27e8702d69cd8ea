"""Explanation prefetch: what to enqueue, and what one explanation job does.

Jobs go through the same explanation service as the learner's click, at
background priority, so a prefetched explanation is exactly what a click
would have produced. Claiming, retries, draining and recovery are the job
runner's (study.jobs.runner).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from study.ai.explanations import (
    GenerationResult,
    explanation_claim,
    explanation_generate,
    explanation_save,
    stage_timer,
)
from study.jobs import runner as job_runner
from study.llm.client import llm_configured
from study.llm.gate import Priority
from study.models import (
    AIExplanationStatus,
    JobError,
    JobKind,
    JobStatus,
    Question,
    QuestionJob,
)

FINAL_ERRORS = (JobError.GUARD_FAIL, JobError.EVIDENCE_MISSING)
BACKFILL_MAX = 30


def failed_recently_cutoff() -> datetime:
    """A question whose last job failed within the backoff window is not
    enqueued again (by anything but an explicit retry)."""
    return timezone.now() - timedelta(seconds=settings.STUDY_JOB_RETRY_MAX_S)


# One statement written out: the ORM's Exists/Subquery chain cost several
# times the query itself to build and compile (it runs at every finished
# session, a mock's 120 questions included, and on every results page).
_NEEDING = """
SELECT q.id FROM {question} q
WHERE q.id = ANY(%(ids)s) AND q.deleted_at IS NULL
  AND q.ai_explanation_status = ANY(%(open)s)
  AND NOT EXISTS (
    SELECT 1 FROM {job} j WHERE j.question_id = q.id AND j.kind = %(kind)s
      AND j.status = ANY(%(active)s))
  AND NOT EXISTS (
    SELECT 1 FROM {job} j WHERE j.question_id = q.id AND j.kind = %(kind)s
      AND j.status = %(failed)s AND j.completed_at > %(cutoff)s)
  AND COALESCE((
    SELECT j.error_code <> ALL(%(final)s) FROM {job} j
    WHERE j.question_id = q.id AND j.kind = %(kind)s
      AND NOT (j.status = ANY(%(active)s))
    ORDER BY j.created_at DESC, j.id DESC LIMIT 1), true)
"""


def questions_needing_explanation(question_ids: Iterable[int]) -> list[int]:
    """In the given order: status none or failed, with no active job; never
    stale, skipped, pending or ready; not a question whose latest job ended in
    guard_fail or evidence_missing, nor one whose latest job failed within the
    backoff window."""
    ordered = list(dict.fromkeys(question_ids))
    if not ordered:
        return []
    sql = _NEEDING.format(
        question=connection.ops.quote_name(Question._meta.db_table),
        job=connection.ops.quote_name(QuestionJob._meta.db_table),
    )
    params: dict[str, Any] = {
        "ids": ordered,
        "open": [AIExplanationStatus.NONE.value, AIExplanationStatus.FAILED.value],
        "kind": JobKind.EXPLANATION.value,
        "active": [JobStatus.PENDING.value, JobStatus.PROCESSING.value],
        "failed": JobStatus.FAILED.value,
        "cutoff": failed_recently_cutoff(),
        "final": [error.value for error in FINAL_ERRORS],
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        wanted = {row[0] for row in cursor.fetchall()}
    return [qid for qid in ordered if qid in wanted]


def job_enqueue(
    *,
    question_id: int,
    user_id: int,
    kind: str = JobKind.EXPLANATION,
    payload: dict[str, Any] | None = None,
) -> bool:
    """Idempotent at the database: True when a new active job was created."""
    return bool(
        job_runner.jobs_insert_pending(
            QuestionJob,
            [{"question_id": question_id, "user_id": user_id, "kind": kind}],
            payload=payload or {},
        )
    )


def explanation_jobs_enqueue(
    *,
    user_id: int,
    question_ids: Iterable[int],
    max_count: int | None = None,
    operator: bool = False,
) -> int:
    """Enqueue prefetch, in the given order, for the questions that need it;
    returns how many were new. An operator's backfill is counted against the
    user's AI budget but not refused by it."""
    if not llm_configured():
        return 0
    wanted = questions_needing_explanation(question_ids)
    if max_count is not None:
        wanted = wanted[:max_count]
    rows = [
        {"question_id": qid, "user_id": user_id, "kind": JobKind.EXPLANATION}
        for qid in wanted
    ]
    payload = {job_runner.OPERATOR_PAYLOAD: True} if operator else {}
    return len(job_runner.jobs_insert_pending(QuestionJob, rows, payload=payload))


def run_explanation_job(job: QuestionJob) -> None:
    """One explanation job: every branch ends the job or leaves an error code."""
    question = Question.objects.filter(pk=job.question_id).first()
    if question is None or question.deleted_at is not None:
        job_runner.job_finish(
            job,
            JobStatus.SKIPPED,
            JobError.EVIDENCE_MISSING,
            "question deleted or missing",
        )
        return
    regenerate = bool(job.payload.get("regenerate"))
    if question.ai_explanation_status == AIExplanationStatus.READY and not regenerate:
        job_runner.job_finish(job, JobStatus.COMPLETED)
        return
    # The same claim as a click: while one of them generates, the other waits.
    if not explanation_claim(question_id=question.pk):
        job_runner.job_error(job, JobError.BUSY, "a learner's click is generating it")
        return
    result = explanation_generate(question=question, priority=Priority.BACKGROUND)
    stages = result.payload.setdefault("stages_s", {})
    with stage_timer(stages, "write"):
        saved = _save_unless_deleted(job, question.pk, result)
    job.payload = {**job.payload, **result.payload}
    if not saved:
        return
    if result.status == "skipped":
        job_runner.job_finish(job, JobStatus.SKIPPED, result.error_code, result.message)
    elif result.status == "ready":
        job_runner.job_finish(job, JobStatus.COMPLETED)
    elif result.error_code == JobError.GUARD_FAIL:
        job_runner.job_finish(
            job, JobStatus.FAILED, JobError.GUARD_FAIL, result.message
        )
    else:
        job_runner.job_error(
            job, result.error_code, result.message, retry_after_s=result.retry_after_s
        )


def _save_unless_deleted(
    job: QuestionJob, question_id: int, result: GenerationResult
) -> bool:
    """A question deleted while its job ran is not written to (job skipped)."""
    with transaction.atomic():
        alive = (
            Question.objects.select_for_update()
            .filter(pk=question_id, deleted_at__isnull=True)
            .exists()
        )
        if not alive:
            job_runner.job_finish(
                job,
                JobStatus.SKIPPED,
                JobError.EVIDENCE_MISSING,
                "question deleted while running",
            )
            return False
        explanation_save(question_id=question_id, result=result)
    return True


def explanation_job_failed(job: QuestionJob) -> None:
    """A job that failed for good shows on the question (never a silent none)."""
    Question.objects.filter(
        pk=job.question_id,
        ai_explanation_status__in=[
            AIExplanationStatus.NONE,
            AIExplanationStatus.PENDING,
        ],
    ).update(
        ai_explanation_status=AIExplanationStatus.FAILED,
        ai_explanation_started_at=None,
    )


job_runner.job_kind_register(
    job_runner.JobKindSpec(
        name=JobKind.EXPLANATION,
        model=QuestionJob,
        filter=Q(kind=JobKind.EXPLANATION),
        run=run_explanation_job,
        rank=0,
        on_failed=explanation_job_failed,
    )
)


def job_retry(*, job: QuestionJob) -> bool:
    """Admin retry of a failed job: a new row, never the old one resurrected."""
    if job.status != JobStatus.FAILED:
        return False
    return job_enqueue(question_id=job.question_id, user_id=job.user_id, kind=job.kind)


def explanation_regenerate_enqueue(*, question: Question, user_id: int) -> bool:
    return job_enqueue(
        question_id=question.pk, user_id=user_id, payload={"regenerate": True}
    )
