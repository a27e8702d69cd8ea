"""The one runner for every kind of background LLM job.

Kinds (explanation prefetch, session analysis) differ only in what one run
does; everything else lives here once: enqueueing, claiming in the learner's
order, waiting for an LLM slot *before* a job counts as processing, the retry
policy (one retryable set, exponential backoff with jitter, Retry-After),
draining (a consumer that leaves work behind wakes the next), stale recovery,
and the bookkeeping the health report reads.

Time model (docs/llm-time-model.md): a job is *pending* (queued) until a
consumer holds an LLM slot; only then is it claimed, so a job is *processing*
only while it actually runs, and stale recovery never touches queued work.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django_q.tasks import async_task

from study.llm.client import llm_configured
from study.llm.gate import GateTimeout, Priority, llm_gate
from study.models import JobStatus, QuestionJob, SessionJob
from study.services.ai_budget import BUDGET_EXCEEDED, ai_budget_blocked, ai_spender

logger = logging.getLogger(__name__)

# The one retryable set: failures that may well not happen again.
RETRYABLE_CODES = frozenset(
    {"llm_timeout", "gate_timeout", "parse_fail", "llm_http_error", "unknown"}
)
# Retried at once, without using up an attempt: the input changed under the
# run, or a learner's click was generating the same thing.
REQUEUE_CODES = frozenset({"content_changed", "busy"})
BUSY_REQUEUE_S = 5
# The job's user has spent their AI budget (study.services.ai_budget): the
# kind's `over_budget` decides between waiting for it and skipping the job.
BUDGET_CODE = BUDGET_EXCEEDED
# A job an operator queued from the shell (a backfill): its calls are counted
# against the job's user, never refused.
OPERATOR_PAYLOAD = "operator"


@dataclass(frozen=True)
class JobKindSpec:
    name: str
    model: type[models.Model]  # QuestionJob or SessionJob
    filter: Q  # this kind's rows in the model's table
    run: Callable  # (job) -> None: ends the job, or leaves an error code
    # A kind generated for the same transaction goes after lower ranks
    # (explanations of a session before its analysis).
    rank: int = 0
    on_failed: Callable | None = None  # (job) -> None once a job has failed for good
    # Over its user's AI budget: "wait" until it frees, or "skip" (work that
    # others' clicks or prefetch can do again, like a shared explanation).
    over_budget: str = "skip"

    def jobs(self) -> QuerySet:
        return self.model._default_manager.filter(self.filter)


_KINDS: dict[str, JobKindSpec] = {}


def job_kind_register(spec: JobKindSpec) -> None:
    _KINDS[spec.name] = spec


def job_kinds() -> list[JobKindSpec]:
    """Every registered kind; each registers itself when its module is imported
    (StudyConfig.ready imports them all)."""
    return sorted(_KINDS.values(), key=lambda spec: spec.rank)


def spec_for(job) -> JobKindSpec:
    kinds = job_kinds()
    if isinstance(job, SessionJob):
        return next(s for s in kinds if s.model is SessionJob)
    return next(s for s in kinds if s.model is QuestionJob and s.name == job.kind)


# -- enqueue ----------------------------------------------------------------


def jobs_insert_pending(
    model, rows: list[dict], *, payload: dict | None = None
) -> list[int]:
    """Insert pending jobs in the given order, ON CONFLICT DO NOTHING: the
    partial unique index on active jobs makes this idempotent. Ids follow the
    order of `rows`, which is the order they will run in. Wakes a consumer
    once the transaction commits."""
    if not rows:
        return []
    keys = list(rows[0])
    columns = [*keys, "status", "attempts", "max_attempts", "error_code"]
    columns += ["error_message", "payload", "created_at"]
    one_row = "(" + ", ".join(["%s"] * len(keys)) + ", 'pending', 0, %s, '', '', "
    one_row += "%s::jsonb, now())"
    params: list = []
    for row in rows:
        params += [row[k] for k in keys]
        params += [settings.STUDY_JOB_MAX_ATTEMPTS, json.dumps(payload or {})]
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
        f"VALUES {', '.join([one_row] * len(rows))} "
        "ON CONFLICT DO NOTHING RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()]
    if ids:
        transaction.on_commit(wake_consumer)
    return ids


def wake_consumer() -> None:
    """Start a consumer now rather than at the next safety-net tick."""
    try:
        async_task(
            "study.tasks.ai_jobs_consume",
            q_options={"timeout": settings.Q_CLUSTER["timeout"]},
        )
    except Exception:  # the one-minute schedule still picks the job up
        logger.warning("could not wake the AI job consumer", exc_info=True)


# -- claim ------------------------------------------------------------------


def _due() -> Q:
    return Q(status=JobStatus.PENDING) & (
        Q(run_after__isnull=True) | Q(run_after__lte=timezone.now())
    )


def job_claim_next():
    """The next due job of any kind, oldest first; in one transaction, the
    order it was enqueued in, lower-ranked kinds first. SKIP LOCKED keeps two
    workers off one row."""
    for _ in range(5):  # another worker may take the candidate first
        candidates = []
        for spec in job_kinds():
            head = (
                spec.jobs()
                .filter(_due())
                .order_by("created_at", "id")
                .values_list("id", "created_at")
                .first()
            )
            if head:
                candidates.append((head[1], spec.rank, head[0], spec))
        if not candidates:
            return None
        for _created, _rank, job_id, spec in sorted(candidates, key=lambda c: c[:3]):
            job = _claim(spec, job_id)
            if job is not None:
                return job
    return None


def _claim(spec: JobKindSpec, job_id: int):
    with transaction.atomic():
        job = (
            spec.jobs()
            .select_for_update(skip_locked=True)
            .filter(_due(), pk=job_id)
            .first()
        )
        if job is None:
            return None
        job.status = JobStatus.PROCESSING
        job.attempts += 1
        job.started_at = timezone.now()
        job.save(update_fields=["status", "attempts", "started_at"])
    return job


def jobs_due_exist() -> bool:
    return any(spec.jobs().filter(_due()).exists() for spec in job_kinds())


# -- run --------------------------------------------------------------------


def job_finish(job, status: str, code: str = "", message: str = "") -> None:
    """End a job. A completed job carries no error code of an earlier attempt."""
    job.status, job.error_code, job.error_message = status, code, message[:2000]
    job.completed_at = timezone.now()
    job.run_after = None


def job_error(job, code: str, message: str, *, retry_after_s=None) -> None:
    """Record a failed attempt; the runner decides between retry and failure."""
    job.error_code, job.error_message = code, str(message)[:2000]
    if retry_after_s is not None:
        job.payload = {**job.payload, "retry_after_s": retry_after_s}


def job_run(*, job):
    """Run a claimed job; every branch ends in a definite, saved state. Its
    LLM calls are charged to the job's user; over that user's budget it does
    not run (it waits or is skipped, as its kind says)."""
    spec = spec_for(job)
    enforce = not job.payload.get(OPERATOR_PAYLOAD)
    blocked = ai_budget_blocked(user_id=job.user_id) if enforce else None
    if blocked is not None:
        _over_budget(job, spec, str(blocked), blocked.retry_after_s)
        job.save()
        return job
    started = time.monotonic()
    try:
        with ai_spender(user_id=job.user_id, enforce=enforce):
            spec.run(job)
    except Exception as exc:  # an unexpected error must still be retryable
        logger.exception("%s job %s failed unexpectedly", spec.name, job.pk)
        job_error(job, "unknown", f"{type(exc).__name__}: {exc}")
    job.payload = {**job.payload, "run_s": round(time.monotonic() - started, 3)}
    if job.status == JobStatus.PROCESSING and job.error_code == BUDGET_CODE:
        retry_after = job.payload.pop("retry_after_s", None) or BUSY_REQUEUE_S
        _over_budget(job, spec, job.error_message, retry_after)
    if job.status == JobStatus.PROCESSING:
        _retry_or_fail(job)
    if job.status == JobStatus.FAILED and spec.on_failed is not None:
        spec.on_failed(job)
    job.save()
    return job


def _over_budget(job, spec: JobKindSpec, message: str, retry_after_s: float) -> None:
    """The user's budget is spent: wait until it frees, or skip (the kind says).
    Waiting uses no attempt."""
    if spec.over_budget != "wait":
        job_finish(job, JobStatus.SKIPPED, BUDGET_CODE, message)
        return
    job.status, job.completed_at = JobStatus.PENDING, None
    job.attempts = max(0, job.attempts - 1)
    job.error_code, job.error_message = BUDGET_CODE, message[:2000]
    job.run_after = timezone.now() + timedelta(seconds=retry_after_s)


def retry_delay_s(attempts: int, retry_after_s: float | None = None) -> float:
    """Exponential backoff with 'equal jitter' (half fixed, half random), never
    sooner than the server's Retry-After."""
    ceiling = min(
        settings.STUDY_JOB_RETRY_MAX_S,
        settings.STUDY_JOB_RETRY_BASE_S * 2 ** max(0, attempts - 1),
    )
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)
    return max(delay, retry_after_s or 0.0)


def _retry_or_fail(job) -> None:
    job.completed_at = None
    if job.error_code in REQUEUE_CODES:
        job.status = JobStatus.PENDING
        job.attempts = max(0, job.attempts - 1)
        delay: float = BUSY_REQUEUE_S if job.error_code == "busy" else 0
        job.run_after = timezone.now() + timedelta(seconds=delay)
    elif job.error_code in RETRYABLE_CODES and job.attempts < job.max_attempts:
        job.status = JobStatus.PENDING
        retry_after = job.payload.pop("retry_after_s", None)
        delay = retry_delay_s(job.attempts, retry_after)
        job.run_after = timezone.now() + timedelta(seconds=delay)
    else:
        job.status = JobStatus.FAILED
        job.completed_at = timezone.now()
        job.run_after = None


# -- consume ----------------------------------------------------------------


def stale_after() -> timedelta:
    return timedelta(minutes=settings.STUDY_JOB_STALE_MINUTES)


def jobs_recover_stale() -> int:
    """Jobs processing for longer than any run can take lost their worker:
    back to pending (at once) or failed. Queued jobs are never touched."""
    count = 0
    now = timezone.now()
    for spec in job_kinds():
        stuck = spec.jobs().filter(
            status=JobStatus.PROCESSING, started_at__lt=now - stale_after()
        )
        count += stuck.filter(attempts__lt=F("max_attempts")).update(
            status=JobStatus.PENDING,
            run_after=None,
            error_code="stale_processing",
            error_message="worker stopped while processing; retried",
        )
        failed_ids = list(stuck.values_list("id", flat=True))
        stuck.update(
            status=JobStatus.FAILED,
            error_code="stale_processing",
            error_message="worker stopped while processing; no attempts left",
            completed_at=now,
        )
        count += len(failed_ids)
        if spec.on_failed is not None:
            for job in spec.model._default_manager.filter(pk__in=failed_ids):
                spec.on_failed(job)
    return count


def jobs_consume(*, batch: int | None = None) -> int:
    """Run up to `batch` due jobs of any kind, each inside an LLM slot taken
    before the job is claimed; wake another consumer if due work remains.

    Without an LLM configured nothing is consumed: jobs wait, they do not fail.
    A consumer that gets no slot within STUDY_JOB_SLOT_WAIT_S stops quietly;
    whoever holds the slot wakes the next consumer when done.
    """
    jobs_recover_stale()
    if not llm_configured():
        return 0
    done = 0
    for _ in range(batch or settings.STUDY_JOB_BATCH_SIZE):
        if not jobs_due_exist():
            break
        try:
            with llm_gate(
                Priority.BACKGROUND,
                wait_timeout_s=settings.STUDY_JOB_SLOT_WAIT_S,
                share_with_callees=True,
            ):
                job = job_claim_next()
                if job is None:
                    break
                job_run(job=job)
                done += 1
        except GateTimeout:
            return done  # the slot holder (or the next tick) carries on
    if done and jobs_due_exist():
        wake_consumer()
    return done
