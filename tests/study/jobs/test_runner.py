"""The runner's own parts: the one queue order the cards read, and the waiter
that wakes a consumer when a retry is due (one at a time, told of earlier
retries by NOTIFY instead of polling)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from study.ai.explanation_jobs import job_enqueue
from study.ai.states import Queue
from study.jobs import runner as job_runner
from study.jobs.runner import WAITER_LOCK, jobs_due_in_order, jobs_wait_for_due
from study.llm.gate import own_connection
from study.models import JobKind, JobStatus, QuestionJob, Topic
from studyproj.llm_time_model import time_model_errors
from tests.study.ai_jobs_helpers import q


def _job(topic, user, n: int, kind: str = JobKind.EXPLANATION) -> QuestionJob:
    question = q(topic, n)
    assert job_enqueue(question_id=question.pk, user_id=user.pk, kind=kind)
    return QuestionJob.objects.get(question=question, kind=kind)


def test_the_card_reads_the_place_in_the_order_the_runner_claims(topic, user):
    older = _job(topic, user, 1)
    newer = _job(topic, user, 2)
    note = _job(topic, user, 3, kind=JobKind.SUBJECT_NOTE)
    order = [(job.spec.name, job.id) for job in jobs_due_in_order(limit=10)]
    # The learner waiting on a note goes first, then prefetch oldest first.
    assert order == [
        (JobKind.SUBJECT_NOTE, note.pk),
        (JobKind.EXPLANATION, older.pk),
        (JobKind.EXPLANATION, newer.pk),
    ]
    places = Queue().place
    assert places[(JobKind.SUBJECT_NOTE, note.question_id)] == 1
    assert places[(JobKind.EXPLANATION, newer.question_id)] == 3
    claimed = job_runner.job_claim_next()
    assert claimed.pk == note.pk and claimed.status == JobStatus.PROCESSING


def test_the_waiter_wakes_a_consumer_once_the_retry_is_due(topic, user, woken):
    job = _job(topic, user, 1)
    due = timezone.now() + timedelta(seconds=1)
    QuestionJob.objects.filter(pk=job.pk).update(run_after=due)
    assert jobs_wait_for_due(wait_s=30)
    assert timezone.now() >= due and woken == [1]


def test_a_retry_beyond_the_wait_is_left_to_a_later_waiter(topic, user, woken):
    job = _job(topic, user, 1)
    later = timezone.now() + timedelta(minutes=10)
    QuestionJob.objects.filter(pk=job.pk).update(run_after=later)
    assert not jobs_wait_for_due(wait_s=5)
    assert woken == []


def test_only_one_waiter_waits(topic, user, woken):
    job = _job(topic, user, 1)
    QuestionJob.objects.filter(pk=job.pk).update(
        run_after=timezone.now() + timedelta(seconds=1)
    )
    holder = own_connection(application_name="test-waiter")
    try:
        holder.execute("SELECT pg_advisory_lock(%s, %s)", WAITER_LOCK)
        assert not jobs_wait_for_due(wait_s=30)  # another waiter has it
        assert woken == []
        # Released here, not by closing: a closed connection's backend lets
        # go of its locks only when it exits, after the next test may start.
        holder.execute("SELECT pg_advisory_unlock(%s, %s)", WAITER_LOCK)
    finally:
        holder.close()


@pytest.mark.django_db(transaction=True)
def test_an_earlier_retry_wakes_the_waiter_before_the_one_it_waits_for(
    topic, user, woken, fake_llm, docs
):
    Topic.objects.filter(pk=topic.pk).update(ai_independent_check=False)
    far = _job(topic, user, 1)
    far_due = timezone.now() + timedelta(seconds=60)
    QuestionJob.objects.filter(pk=far.pk).update(run_after=far_due)
    woke = []

    def wait() -> None:
        try:
            woke.append(jobs_wait_for_due(wait_s=90))
        finally:
            connection.close()

    waiter = threading.Thread(target=wait)
    waiter.start()
    # Another job fails with Retry-After: 1; the runner announces its retry.
    fake_llm.reply_status(429, "slow down", headers={"Retry-After": "1"})
    near = _job(topic, user, 2)
    job_runner.job_run(job=job_runner.job_claim_next())
    near.refresh_from_db()
    assert near.status == JobStatus.PENDING and near.run_after < far_due
    waiter.join(timeout=45)
    assert not waiter.is_alive() and woke == [True] and woken
    assert timezone.now() < far_due  # it did not wait for the far one


def test_a_waiter_that_would_outlive_its_task_is_refused_at_start():
    limits = {
        "llm_timeout_s": 300,
        "overrun_s": 300,
        "gate_wait_s": 300,
        "slot_wait_s": 60,
        "batch": 1,
        "q_timeout_s": 480,
        "q_retry_s": 540,
        "stale_minutes": 10,
    }
    assert not time_model_errors(**limits, wait_ahead_s=120)
    errors = time_model_errors(**limits, wait_ahead_s=450)
    assert len(errors) == 1 and "STUDY_JOB_WAIT_AHEAD_S=450" in errors[0]
