"""Explanation prefetch (Phase 4-A): enqueue, claim, run, retry, recover.

Jobs go through the same explanation service as the learner's click, at
background priority, so a prefetched explanation is exactly what a click
would have produced.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from study.llm.client import llm_configured
from study.llm.gate import Priority
from study.models import (
    AIExplanationStatus,
    JobKind,
    JobStatus,
    Question,
    QuestionJob,
)
from study.services import job_queue
from study.services.explanations import explanation_generate, explanation_save

logger = logging.getLogger(__name__)

FINAL_ERRORS = ("guard_fail", "evidence_missing")
BACKFILL_MAX = 30


def questions_needing_explanation(question_ids: Iterable[int]) -> list[int]:
    """Status none or failed; never stale, skipped, pending or ready; and not a
    question whose latest job ended in guard_fail or evidence_missing."""
    latest_error = (
        QuestionJob.objects.filter(question=OuterRef("pk"), kind=JobKind.EXPLANATION)
        .exclude(status__in=[JobStatus.PENDING, JobStatus.PROCESSING])
        .order_by("-created_at")
        .values("error_code")[:1]
    )
    rows = (
        Question.objects.alive()
        .filter(pk__in=list(question_ids))
        .filter(
            ai_explanation_status__in=[
                AIExplanationStatus.NONE,
                AIExplanationStatus.FAILED,
            ]
        )
        .annotate(latest_error=Subquery(latest_error))
        .filter(Q(latest_error__isnull=True) | ~Q(latest_error__in=FINAL_ERRORS))
        .values_list("id", flat=True)
    )
    return list(rows)


def job_enqueue(
    *, question_id: int, user_id: int, kind: str = JobKind.EXPLANATION, payload=None
) -> bool:
    """Idempotent at the database: True when a new active job was created."""
    return bool(
        _insert_jobs([(question_id, user_id)], kind=kind, payload=payload or {})
    )


def _insert_jobs(
    pairs: list[tuple[int, int]], *, kind: str, payload: dict
) -> list[int]:
    rows = [{"question_id": qid, "user_id": uid, "kind": kind} for qid, uid in pairs]
    ids = job_queue.jobs_insert_pending(QuestionJob, rows, payload=payload)
    if ids:
        transaction.on_commit(wake_consumer)
    return ids


def explanation_jobs_enqueue(
    *, user_id: int, question_ids: Iterable[int], max_count: int | None = None
) -> int:
    """Enqueue prefetch for the questions that need it; returns how many were new."""
    if not llm_configured():
        return 0
    wanted = questions_needing_explanation(question_ids)
    if max_count is not None:
        wanted = wanted[:max_count]
    created = _insert_jobs(
        [(qid, user_id) for qid in wanted], kind=JobKind.EXPLANATION, payload={}
    )
    return len(created)


def wake_consumer() -> None:
    """Start a consumer now rather than at the next safety-net tick."""
    from django_q.tasks import async_task

    try:
        async_task("study.tasks.explanation_jobs_consume", q_options={"timeout": 600})
    except Exception:  # the one-minute schedule still picks the job up
        logger.warning("could not wake the explanation consumer", exc_info=True)


def jobs_recover_stale() -> int:
    return job_queue.jobs_recover_stale(QuestionJob)


def job_claim(*, kind: str = JobKind.EXPLANATION) -> QuestionJob | None:
    return job_queue.job_claim_next(QuestionJob.objects.filter(kind=kind))


def explanation_jobs_consume(*, batch: int | None = None) -> int:
    """Run up to `batch` jobs; wake another consumer if work remains.

    Without an LLM configured nothing is consumed: jobs wait, they do not fail.
    """
    jobs_recover_stale()
    if not llm_configured():
        return 0
    batch = batch or settings.STUDY_JOB_BATCH_SIZE
    done = 0
    for _ in range(batch):
        job = job_claim()
        if job is None:
            break
        explanation_job_run(job=job)
        done += 1
    if done and QuestionJob.objects.filter(status=JobStatus.PENDING).exists():
        wake_consumer()
    return done


def explanation_job_run(*, job: QuestionJob) -> QuestionJob:
    """Seed 001's run_explanation_job: every branch ends in a definite state."""
    try:
        _run(job)
    except Exception as exc:  # an unexpected error must still be retryable
        logger.exception("explanation job %s failed unexpectedly", job.pk)
        job.error_code, job.error_message = (
            "unknown",
            f"{type(exc).__name__}: {exc}"[:2000],
        )
    if job.status == JobStatus.PROCESSING:
        job_queue.job_retry_or_fail(job)
    job.save()
    return job


def _finish(job: QuestionJob, status: str, code: str = "", message: str = "") -> None:
    job.status, job.error_code, job.error_message = status, code, message
    job.completed_at = timezone.now()


def _run(job: QuestionJob) -> None:
    question = Question.objects.filter(pk=job.question_id).first()
    if question is None or question.deleted_at is not None:
        _finish(
            job, JobStatus.SKIPPED, "evidence_missing", "question deleted or missing"
        )
        return
    regenerate = bool(job.payload.get("regenerate"))
    if question.ai_explanation_status == AIExplanationStatus.READY and not regenerate:
        _finish(job, JobStatus.COMPLETED)
        return
    result = explanation_generate(question=question, priority=Priority.BACKGROUND)
    job.payload = {**job.payload, **result.payload}
    if result.status == "skipped":
        _save_unless_deleted(job, question.pk, result)
        _finish(job, JobStatus.SKIPPED, result.error_code, result.message)
    elif result.status == "ready":
        if _save_unless_deleted(job, question.pk, result):
            _finish(job, JobStatus.COMPLETED)
    elif result.error_code == "guard_fail":
        _save_unless_deleted(job, question.pk, result)
        _finish(job, JobStatus.FAILED, "guard_fail", result.message)
    else:
        code = (
            "llm_timeout" if result.error_code == "gate_timeout" else result.error_code
        )
        job.error_code, job.error_message = code, result.message[:2000]


def _save_unless_deleted(job: QuestionJob, question_id: int, result) -> bool:
    """A question deleted while its job ran is not written to (job skipped)."""
    with transaction.atomic():
        alive = (
            Question.objects.select_for_update()
            .filter(pk=question_id, deleted_at__isnull=True)
            .exists()
        )
        if not alive:
            _finish(
                job,
                JobStatus.SKIPPED,
                "evidence_missing",
                "question deleted while running",
            )
            return False
        explanation_save(question_id=question_id, result=result)
    return True


def job_retry(*, job: QuestionJob) -> bool:
    """Admin retry of a failed job: a new row, never the old one resurrected."""
    if job.status != JobStatus.FAILED:
        return False
    return job_enqueue(question_id=job.question_id, user_id=job.user_id, kind=job.kind)


def explanation_regenerate_enqueue(*, question: Question, user_id: int) -> bool:
    return job_enqueue(
        question_id=question.pk, user_id=user_id, payload={"regenerate": True}
    )
