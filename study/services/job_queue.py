"""What both job tables (question jobs and session jobs) share: claiming the
oldest pending row, retrying or failing, and recovering from dead workers."""

from __future__ import annotations

import json
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from study.models import JobStatus

RETRYABLE_CODES = ("llm_timeout", "parse_fail", "llm_http_error", "unknown")


def stale_after() -> timedelta:
    return timedelta(minutes=settings.STUDY_JOB_STALE_MINUTES)


def job_claim_next(pending: QuerySet):
    """Take the oldest of `pending`; SKIP LOCKED keeps two workers off one row."""
    with transaction.atomic():
        job = (
            pending.select_for_update(skip_locked=True)
            .filter(status=JobStatus.PENDING)
            .order_by("created_at", "id")
            .first()
        )
        if job is None:
            return None
        job.status = JobStatus.PROCESSING
        job.attempts += 1
        job.started_at = timezone.now()
        job.save(update_fields=["status", "attempts", "started_at"])
    return job


def job_retry_or_fail(job) -> None:
    """A job still processing after its run failed: retry if it may, else fail."""
    if job.error_code in RETRYABLE_CODES and job.attempts < job.max_attempts:
        job.status = JobStatus.PENDING
    else:
        job.status = JobStatus.FAILED
        job.completed_at = timezone.now()


def jobs_recover_stale(model) -> int:
    """Jobs stuck in processing (their worker died) go back to pending or fail."""
    stuck = model.objects.filter(
        status=JobStatus.PROCESSING, started_at__lt=timezone.now() - stale_after()
    )
    retried = stuck.filter(attempts__lt=F("max_attempts")).update(
        status=JobStatus.PENDING,
        error_code="stale_processing",
        error_message="worker stopped while processing; retried",
    )
    failed = stuck.update(
        status=JobStatus.FAILED,
        error_code="stale_processing",
        error_message="worker stopped while processing; no attempts left",
        completed_at=timezone.now(),
    )
    return retried + failed


def jobs_insert_pending(
    model, rows: list[dict], *, payload: dict | None = None
) -> list[int]:
    """Insert pending jobs, ON CONFLICT DO NOTHING: the partial unique index on
    active jobs makes this idempotent. Returns the ids of the rows created."""
    if not rows:
        return []
    keys = list(rows[0])
    columns = [*keys, "status", "attempts", "max_attempts", "error_code"]
    columns += ["error_message", "payload", "created_at"]
    one_row = "(" + ", ".join(["%s"] * len(keys)) + ", 'pending', 0, 2, '', '', "
    one_row += "%s::jsonb, now())"
    params: list = []
    for row in rows:
        params += [row[k] for k in keys] + [json.dumps(payload or {})]
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
        f"VALUES {', '.join([one_row] * len(rows))} "
        "ON CONFLICT DO NOTHING RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]
