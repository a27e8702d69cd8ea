"""The one runner for every kind of background LLM job.

Kinds (explanation prefetch, session analysis, subject notes) differ only in
what one run does; everything else lives here once: enqueueing, the queue's
order (`queue_position`, which the cards' "place in line" reads too), waiting
for an LLM slot *before* a job counts as processing, the retry policy (one
retryable set, exponential backoff with jitter, Retry-After), waking a
consumer when a retry becomes due (`jobs_wait_for_due`), draining (a consumer
that leaves work behind wakes the next), stale recovery, and the bookkeeping
the health report reads.

The public API, for job kinds and for what meters them:

- `JobKindSpec` + `job_kind_register`: a kind supplies its rows and one step.
- `jobs_insert_pending`: enqueue (idempotent; wakes a consumer on commit).
- `job_finish` / `job_error`: what a step calls to end a job or fail an attempt.
- `jobs_consume`, `jobs_wait_for_due`, `wake_consumer`: the worker's entry
  points (study.tasks), and `jobs_due_in_order` for the cards.

Time model (docs/llm-time-model.md): a job is *pending* (queued) until a
consumer holds an LLM slot; only then is it claimed, so a job is *processing*
only while it actually runs, and stale recovery never touches queued work.
"""

from __future__ import annotations

import json
import logging
import random
import time
import zlib
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Min, Q, QuerySet
from django.utils import timezone
from django_q.tasks import async_task

from study.jobs.queue import task_after_commit
from study.llm.client import llm_configured
from study.llm.gate import GateTimeout, Priority, llm_gate, own_connection
from study.models import JobError, JobStatus, QuestionJob, SessionJob
from study.services.ai_budget import BUDGET_EXCEEDED, ai_budget_blocked, ai_spender

logger = logging.getLogger(__name__)
CONSUME_TASK = "study.tasks.ai_jobs_consume"

Job = QuestionJob | SessionJob

# The one retryable set: failures that may well not happen again.
RETRYABLE_CODES: frozenset[str] = frozenset(
    {
        JobError.LLM_TIMEOUT,
        JobError.GATE_TIMEOUT,
        JobError.PARSE_FAIL,
        JobError.LLM_HTTP_ERROR,
        JobError.UNKNOWN,
    }
)
# Retried at once, without using up an attempt: the input changed under the
# run, or a learner's click was generating the same thing.
REQUEUE_CODES: frozenset[str] = frozenset({JobError.CONTENT_CHANGED, JobError.BUSY})
BUSY_REQUEUE_S = 5
# The job's user has spent their AI budget (study.services.ai_budget): the
# kind's `over_budget` decides between waiting for it and skipping the job.
BUDGET_CODE = BUDGET_EXCEEDED
# A job an operator queued from the shell (a backfill): its calls are counted
# against the job's user, never refused.
OPERATOR_PAYLOAD = "operator"

# The waiter ("timekeeper") that wakes a consumer when a retry becomes due:
# one at a time across every process and machine (a session advisory lock),
# told of earlier retries by NOTIFY on this channel.
WAITER_LOCK = (zlib.crc32(b"gichul.jobs.waiter") & 0x7FFFFFFF, 0)
DUE_CHANNEL = "gichul_jobs_due"


@dataclass(frozen=True)
class JobKindSpec:
    name: str
    model: type[QuestionJob] | type[SessionJob]
    filter: Q  # this kind's rows in the model's table
    run: Callable[[Any], None]  # (job) -> None: ends the job, or leaves an error code
    # A kind generated for the same transaction goes after lower ranks
    # (explanations of a session before its analysis).
    rank: int = 0
    # (job) -> None once a job has failed for good.
    on_failed: Callable[[Any], None] | None = None
    # A learner is looking at the card and waiting (a subject note they asked
    # for): such jobs go before prefetch, and take the slot as a click would.
    urgent: bool = False
    # Over its user's AI budget: "wait" until it frees, or "skip" (work that
    # others' clicks or prefetch can do again, like a shared explanation).
    over_budget: str = "skip"

    def jobs(self) -> QuerySet[Any]:
        return self.model._default_manager.filter(self.filter)

    @property
    def about(self) -> str:
        """The column naming what a job is about (its place-in-line key)."""
        return "session_id" if self.model is SessionJob else "question_id"


_KINDS: dict[str, JobKindSpec] = {}


def job_kind_register(spec: JobKindSpec) -> None:
    _KINDS[spec.name] = spec


def job_kinds() -> list[JobKindSpec]:
    """Every registered kind; each registers itself when its module is imported
    (StudyConfig.ready imports them all)."""
    return sorted(_KINDS.values(), key=lambda spec: spec.rank)


def spec_for(job: Job) -> JobKindSpec:
    kinds = job_kinds()
    if isinstance(job, SessionJob):
        return next(s for s in kinds if s.model is SessionJob)
    return next(s for s in kinds if s.model is QuestionJob and s.name == job.kind)


# -- enqueue ----------------------------------------------------------------


def jobs_insert_pending(
    model: type[QuestionJob] | type[SessionJob],
    rows: list[dict[str, Any]],
    *,
    payload: dict[str, Any] | None = None,
    max_attempts: int | None = None,
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
    one_row = "(" + ", ".join(["%s"] * len(keys)) + ", %s, 0, %s, '', '', "
    one_row += "%s::jsonb, now())"
    params: list[Any] = []
    attempts = max_attempts or settings.STUDY_JOB_MAX_ATTEMPTS
    for row in rows:
        params += [row[k] for k in keys]
        params += [JobStatus.PENDING.value, attempts, json.dumps(payload or {})]
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
        f"VALUES {', '.join([one_row] * len(rows))} "
        "ON CONFLICT DO NOTHING RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()]
    if ids:
        _wake_after_commit()
    return ids


def _wake_after_commit() -> None:
    """Wake a consumer once the transaction commits, once per transaction: a
    finished session queues explanations and its analysis, and one consumer
    drains both (study.jobs.queue: in the transaction on the ORM broker)."""
    task_after_commit(
        CONSUME_TASK, q_options={"timeout": settings.Q_CLUSTER["timeout"]}
    )


def wake_consumer() -> None:
    """Start a consumer now rather than at the next safety-net tick."""
    _start_task(CONSUME_TASK)


def jobs_on_worker_start(**kwargs: Any) -> None:
    """django-q's post_spawn: a worker that (re)starts drains what is due at
    once instead of at the next tick (up to 90 s)."""
    wake_consumer()


def wake_waiter() -> None:
    """Start the waiter that wakes a consumer when the next retry is due."""
    _start_task("study.tasks.ai_jobs_wait")


def _start_task(func: str) -> None:
    try:
        async_task(func, q_options={"timeout": settings.Q_CLUSTER["timeout"]})
    except Exception:  # the one-minute schedule still picks the job up
        logger.warning("could not start %s", func, exc_info=True)


# -- the queue's order --------------------------------------------------------


def _due(now: datetime | None = None) -> Q:
    return Q(status=JobStatus.PENDING) & (
        Q(run_after__isnull=True) | Q(run_after__lte=now or timezone.now())
    )


@dataclass(frozen=True)
class DueJob:
    """A due pending job, where it stands in the queue."""

    spec: JobKindSpec
    id: int
    created_at: datetime
    about_id: int  # the question or session it is about

    @property
    def key(self) -> tuple[str, int]:
        """What a card looks a job up by: (kind, question or session id)."""
        return (self.spec.name, self.about_id)


def queue_position(job: DueJob) -> tuple[int, datetime, int, int]:
    """The one order jobs run in: urgent kinds first, then oldest first; in
    one transaction, lower-ranked kinds first."""
    return (0 if job.spec.urgent else 1, job.created_at, job.spec.rank, job.id)


def jobs_due_in_order(*, limit: int) -> list[DueJob]:
    """The first `limit` due jobs of every kind, in the order they will run."""
    now = timezone.now()
    found: list[DueJob] = []
    for spec in job_kinds():
        rows = (
            spec.jobs()
            .filter(_due(now))
            .order_by("created_at", "id")
            .values_list("id", "created_at", spec.about)[:limit]
        )
        found += [DueJob(spec, pk, created, about) for pk, created, about in rows]
    return sorted(found, key=queue_position)[:limit]


# -- claim ------------------------------------------------------------------


def job_claim_next() -> Job | None:
    """The next due job in queue order. SKIP LOCKED keeps two workers off one
    row; another worker may take the candidate first, so look again."""
    for _ in range(5):
        candidates = jobs_due_in_order(limit=len(_KINDS) or 1)
        if not candidates:
            return None
        for candidate in candidates:
            job = _claim(candidate.spec, candidate.id)
            if job is not None:
                return job
    return None


def _claim(spec: JobKindSpec, job_id: int) -> Job | None:
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


def next_due_at() -> datetime | None:
    """When the earliest pending job waiting out a backoff becomes due."""
    times = [
        spec.jobs()
        .filter(status=JobStatus.PENDING, run_after__isnull=False)
        .aggregate(first=Min("run_after"))["first"]
        for spec in job_kinds()
    ]
    known = [t for t in times if t is not None]
    return min(known) if known else None


# -- run --------------------------------------------------------------------


def job_finish(job: Job, status: str, code: str = "", message: str = "") -> None:
    """End a job. A completed job carries no error code of an earlier attempt."""
    job.status, job.error_code, job.error_message = status, code, message[:2000]
    job.completed_at = timezone.now()
    job.run_after = None


def job_error(
    job: Job, code: str, message: str, *, retry_after_s: float | None = None
) -> None:
    """Record a failed attempt; the runner decides between retry and failure."""
    job.error_code, job.error_message = code, str(message)[:2000]
    if retry_after_s is not None:
        job.payload = {**job.payload, "retry_after_s": retry_after_s}


def job_run(*, job: Job) -> Job:
    """Run a claimed job; every branch ends in a definite, saved state. Its
    LLM calls are charged to the job's user; over that user's budget it does
    not run (it waits or is skipped, as its kind says)."""
    spec = spec_for(job)
    enforce = not job.payload.get(OPERATOR_PAYLOAD)
    blocked = ai_budget_blocked(user_id=job.user_id) if enforce else None
    if blocked is not None:
        _over_budget(job, spec, str(blocked), blocked.retry_after_s)
        job.save()
        if job.status == JobStatus.PENDING:  # waits: the waiter wakes it
            transaction.on_commit(_announce_retry)
        return job
    started = time.monotonic()
    try:
        with ai_spender(user_id=job.user_id, enforce=enforce):
            spec.run(job)
    except Exception as exc:  # an unexpected error must still be retryable
        logger.exception("%s job %s failed unexpectedly", spec.name, job.pk)
        job_error(job, JobError.UNKNOWN, f"{type(exc).__name__}: {exc}")
    job.payload = {**job.payload, "run_s": round(time.monotonic() - started, 3)}
    if job.status == JobStatus.PROCESSING and job.error_code == BUDGET_CODE:
        retry_after = job.payload.pop("retry_after_s", None) or BUSY_REQUEUE_S
        _over_budget(job, spec, job.error_message, retry_after)
    if job.status == JobStatus.PROCESSING:
        _retry_or_fail(job)
    if job.status == JobStatus.FAILED and spec.on_failed is not None:
        spec.on_failed(job)
    job.save()
    if job.status == JobStatus.PENDING and job.run_after is not None:
        transaction.on_commit(_announce_retry)
    return job


def _over_budget(
    job: Job, spec: JobKindSpec, message: str, retry_after_s: float
) -> None:
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


def _retry_or_fail(job: Job) -> None:
    job.completed_at = None
    if job.error_code in REQUEUE_CODES:
        job.status = JobStatus.PENDING
        job.attempts = max(0, job.attempts - 1)
        delay: float = BUSY_REQUEUE_S if job.error_code == JobError.BUSY else 0
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


def _announce_retry() -> None:
    """A retry is set: the waiter, if one waits, looks at the time again; if
    none does, one is started."""
    # The waiter started next covers a lost notice.
    with suppress(Exception), connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, '')", [DUE_CHANNEL])
    wake_waiter()


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
            error_code=JobError.STALE_PROCESSING,
            error_message="worker stopped while processing; retried",
        )
        failed_ids = list(stuck.values_list("id", flat=True))
        stuck.update(
            status=JobStatus.FAILED,
            error_code=JobError.STALE_PROCESSING,
            error_message="worker stopped while processing; no attempts left",
            completed_at=now,
        )
        count += len(failed_ids)
        if spec.on_failed is not None:
            for job in spec.model._default_manager.filter(pk__in=failed_ids):
                spec.on_failed(job)
    return count


def _slot_priority() -> Priority:
    """A learner waiting on the next job gets the slot as a click would."""
    head = jobs_due_in_order(limit=1)
    return Priority.FOREGROUND if head and head[0].spec.urgent else Priority.BACKGROUND


def jobs_consume(*, batch: int | None = None) -> int:
    """Run up to `batch` due jobs of any kind, each inside an LLM slot taken
    before the job is claimed; wake another consumer if due work remains, or
    the waiter if work becomes due later.

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
                _slot_priority(),
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
    elif _due_within_wait():
        wake_waiter()
    return done


def _due_within_wait() -> bool:
    due_at = next_due_at()
    horizon = timezone.now() + timedelta(seconds=settings.STUDY_JOB_WAIT_AHEAD_S)
    return due_at is not None and due_at <= horizon


def jobs_wait_for_due(*, wait_s: float | None = None) -> bool:
    """The waiter: sleep until the earliest retry is due, then wake a consumer.

    One waiter at a time (a session advisory lock on a connection of its
    own); a second one exits at once. It blocks on the connection's socket
    (LISTEN), not in a polling loop: a retry set for earlier than the one it
    waits for wakes it (NOTIFY) and it looks again. It waits for what is due
    within STUDY_JOB_WAIT_AHEAD_S, so the task fits its django-q timeout;
    later retries are the next waiter's (the every-minute tick starts one).
    Returns whether it woke a consumer."""
    wait_s = settings.STUDY_JOB_WAIT_AHEAD_S if wait_s is None else wait_s
    deadline = time.monotonic() + wait_s
    conn = own_connection(application_name="gichul-jobs-waiter")
    try:
        locked = conn.execute(
            "SELECT pg_try_advisory_lock(%s, %s)", WAITER_LOCK
        ).fetchone()
        if not (locked and locked[0]):
            return False
        conn.execute(f"LISTEN {DUE_CHANNEL}")
        while True:
            due_at = next_due_at()
            if due_at is None:
                return False
            until_due = (due_at - timezone.now()).total_seconds()
            if until_due <= 0:
                wake_consumer()
                return True
            left = deadline - time.monotonic()
            if until_due > left:
                return False
            # Blocks on the socket until a notice comes or the retry is due.
            for _ in conn.notifies(timeout=until_due, stop_after=1):
                pass
    finally:
        with suppress(psycopg.Error):
            conn.close()  # closing frees the lock and stops listening
