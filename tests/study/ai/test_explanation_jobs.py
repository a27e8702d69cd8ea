"""Explanation prefetch jobs: enqueue, terminal branches, retries, recovery, faults."""

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from study.ai import explanation_jobs as jobs
from study.jobs import runner as job_runner
from study.models import AIExplanationStatus, JobStatus, Question, QuestionJob, QuizMode
from tests.study.ai_jobs_helpers import due_now, good, q
from tests.study.learner_helpers import answer_all, start


def enqueue_and_claim(question, user):
    assert jobs.job_enqueue(question_id=question.pk, user_id=user.pk)
    return job_runner.job_claim_next()


def test_enqueue_is_idempotent_while_a_job_is_active(user, topic, fake_llm, woken):
    question = q(topic)
    assert jobs.job_enqueue(question_id=question.pk, user_id=user.pk) is True
    assert jobs.job_enqueue(question_id=question.pk, user_id=user.pk) is False
    assert QuestionJob.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_enqueues_make_one_job(user, topic, fake_llm, woken):
    question = q(topic)
    results: list[bool] = []
    barrier = threading.Barrier(20)

    def enqueue():
        barrier.wait()
        try:
            results.append(jobs.job_enqueue(question_id=question.pk, user_id=user.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=enqueue) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert results.count(True) == 1 and len(results) == 20
    assert QuestionJob.objects.filter(status=JobStatus.PENDING).count() == 1


def test_finalize_enqueues_wrong_and_unsure_questions(user, topic, fake_llm, woken):
    for n in range(1, 6):
        q(topic, n)
    session = start(user, topic, mode=QuizMode.ROUND, round_key="2020-1")
    answer_all(session, lambda p, _: [2, 1, 5, 2, 3][p])
    queued = set(QuestionJob.objects.values_list("question__number", flat=True))
    assert queued == {2, 3, 5}


def test_no_llm_means_no_jobs(user, topic, settings, woken):
    settings.LLM_BASE_URL = ""
    q(topic)
    answer_all(start(user, topic, mode=QuizMode.ROUND, round_key="2020-1"), 1)
    assert not QuestionJob.objects.exists()


def test_a_failing_enqueue_never_breaks_finalize(user, topic, fake_llm, monkeypatch):
    def boom(**kwargs):
        raise RuntimeError("queue down")

    monkeypatch.setattr(jobs, "explanation_jobs_enqueue", boom)
    q(topic)
    session = answer_all(start(user, topic, mode=QuizMode.ROUND, round_key="2020-1"), 1)
    assert session.status == "finished" and session.finished_at


def test_opening_results_never_writes_and_the_post_backfills_up_to_thirty(
    client, user, topic, settings, fake_llm, woken
):
    settings.LLM_BASE_URL = ""
    for n in range(1, 36):
        q(topic, n)
    session = answer_all(start(user, topic, mode=QuizMode.ROUND, round_key="2020-1"), 1)
    assert not QuestionJob.objects.exists()
    settings.LLM_BASE_URL = fake_llm.base_url
    client.force_login(user)
    page = client.get(reverse("study:results", args=[session.pk]))
    assert not QuestionJob.objects.exists()  # GET never writes
    assert "아직 AI 해설이 없는 문제가 35개" in page.content.decode()
    client.post(reverse("study:results_ai_prefetch", args=[session.pk]))
    assert QuestionJob.objects.count() == 30


def test_the_needs_explanation_helper(user, topic, fake_llm, woken):
    cases = {
        "none": (AIExplanationStatus.NONE, True),
        "failed": (AIExplanationStatus.FAILED, True),
        "ready": (AIExplanationStatus.READY, False),
        "stale": (AIExplanationStatus.STALE, False),
        "skipped": (AIExplanationStatus.SKIPPED, False),
        "pending": (AIExplanationStatus.PENDING, False),
    }
    made = {}
    for n, (name, (status, _)) in enumerate(cases.items(), start=1):
        made[name] = q(topic, n, ai_explanation_status=status)
    guarded = q(topic, 20, ai_explanation_status=AIExplanationStatus.FAILED)
    QuestionJob.objects.create(
        question=guarded, user=user, status=JobStatus.FAILED, error_code="guard_fail"
    )
    timed_out = q(topic, 21, ai_explanation_status=AIExplanationStatus.FAILED)
    QuestionJob.objects.create(
        question=timed_out, user=user, status=JobStatus.FAILED, error_code="llm_timeout"
    )
    ids = [x.pk for x in made.values()] + [guarded.pk, timed_out.pk]
    wanted = set(jobs.questions_needing_explanation(ids))
    expected = {made[k].pk for k, (_, yes) in cases.items() if yes} | {timed_out.pk}
    assert wanted == expected


def test_the_needs_explanation_helper_reads_active_jobs_the_latest_one_and_backoff(
    user, topic, fake_llm, woken
):
    now = timezone.now()
    fresh, active, deleted, retried, backing_off, waited = (
        q(topic, n, ai_explanation_status=AIExplanationStatus.FAILED)
        for n in range(1, 7)
    )
    QuestionJob.objects.create(question=active, user=user, status=JobStatus.PENDING)
    Question.objects.filter(pk=deleted.pk).update(deleted_at=now)
    # A guard_fail long ago, then a job that ended otherwise: the latest decides.
    QuestionJob.objects.create(
        question=retried, user=user, status=JobStatus.FAILED, error_code="guard_fail"
    )
    QuestionJob.objects.create(
        question=retried, user=user, status=JobStatus.FAILED, error_code="llm_timeout"
    )
    QuestionJob.objects.filter(question=retried, error_code="guard_fail").update(
        created_at=now - timedelta(days=2)
    )
    window = timedelta(seconds=settings.STUDY_JOB_RETRY_MAX_S)
    for question, ended in ((backing_off, now), (waited, now - 2 * window)):
        QuestionJob.objects.create(
            question=question,
            user=user,
            status=JobStatus.FAILED,
            error_code="llm_timeout",
            completed_at=ended,
        )
    asked = [waited, retried, backing_off, deleted, active, fresh]
    assert jobs.questions_needing_explanation([x.pk for x in asked]) == [
        waited.pk,
        retried.pk,
        fresh.pk,
    ]  # in the order asked
    assert jobs.questions_needing_explanation([]) == []


def test_success_saves_a_ready_explanation_and_payload(
    user, topic, docs, fake_llm, woken
):
    question = q(topic)
    fake_llm.reply_json(good())
    job = job_runner.job_run(job=enqueue_and_claim(question, user))
    question.refresh_from_db()
    assert job.status == JobStatus.COMPLETED and job.completed_at
    assert question.ai_explanation_status == AIExplanationStatus.READY
    assert question.ai_explanation_model == "fake-model"
    assert job.payload["confidence"] == "medium"
    assert job.payload["explanation_capped"] is False
    assert job.payload["explanation_len_saved"] == len(question.ai_explanation)


def test_a_deleted_question_is_skipped(user, topic, fake_llm, woken):
    question = q(topic)
    job = enqueue_and_claim(question, user)
    Question.objects.filter(pk=question.pk).update(deleted_at=timezone.now())
    job = job_runner.job_run(job=job)
    assert (job.status, job.error_code) == (JobStatus.SKIPPED, "evidence_missing")
    assert job.completed_at and not fake_llm.requests


def test_an_already_ready_question_completes_at_once(user, topic, fake_llm, woken):
    question = q(
        topic, ai_explanation="있음", ai_explanation_status=AIExplanationStatus.READY
    )
    job = job_runner.job_run(job=enqueue_and_claim(question, user))
    assert job.status == JobStatus.COMPLETED and not fake_llm.requests


def test_no_evidence_skips_job_and_question_without_a_call(
    user, topic, fake_llm, woken
):
    question = q(topic)
    job = job_runner.job_run(job=enqueue_and_claim(question, user))
    question.refresh_from_db()
    assert (job.status, job.error_code) == (JobStatus.SKIPPED, "evidence_missing")
    assert question.ai_explanation_status == AIExplanationStatus.SKIPPED
    assert not fake_llm.requests


def test_guard_fail_fails_job_and_question_without_retry(
    user, topic, docs, fake_llm, woken
):
    question = q(topic)
    fake_llm.reply_json(good(answer=3))
    job = job_runner.job_run(job=enqueue_and_claim(question, user))
    question.refresh_from_db()
    assert (job.status, job.error_code, job.attempts) == (
        JobStatus.FAILED,
        "guard_fail",
        1,
    )
    assert question.ai_explanation_status == AIExplanationStatus.FAILED
    assert jobs.questions_needing_explanation([question.pk]) == []


@pytest.mark.parametrize(
    ("program", "code", "reason"),
    [
        (lambda f: f.reply_text(""), "llm_timeout", None),
        (lambda f: f.reply_text("not json at all"), "parse_fail", "not_json_object"),
        (
            lambda f: f.reply_json({**good(), "answer_choice": "x"}),
            "parse_fail",
            "invalid_answer_choice",
        ),
        (
            lambda f: f.reply_json({**good(), "explanation_md": ""}),
            "parse_fail",
            "empty_explanation_md",
        ),
    ],
)
def test_retryable_failures_back_off_then_fail_visibly(
    user, topic, docs, fake_llm, woken, settings, program, code, reason
):
    question = q(topic)
    for _ in range(12):
        program(fake_llm)
    job = job_runner.job_run(job=enqueue_and_claim(question, user))
    assert (job.status, job.error_code, job.completed_at) == (
        JobStatus.PENDING,
        code,
        None,
    )
    if reason:
        assert job.payload["parse_fail_reason"] == reason
        assert 0 < len(job.payload["debug_raw_preview"]) <= 1000
    assert job.run_after > timezone.now()  # backs off: not retried at once
    assert job_runner.job_claim_next() is None
    while job.status == JobStatus.PENDING:
        due_now()
        job = job_runner.job_run(job=job_runner.job_claim_next())
    assert job.status == JobStatus.FAILED and job.completed_at
    assert job.attempts == settings.STUDY_JOB_MAX_ATTEMPTS
    question.refresh_from_db()
    # Defect 5: a failure shows on the question, never a silent "none".
    assert question.ai_explanation_status == AIExplanationStatus.FAILED


def test_an_unexpected_error_is_unknown_and_retryable(
    user, topic, fake_llm, woken, monkeypatch
):
    question = q(topic)

    def explode(**kwargs):
        raise KeyError("surprise")

    monkeypatch.setattr(jobs, "explanation_generate", explode)
    job = job_runner.job_run(job=enqueue_and_claim(question, user))
    assert (job.status, job.error_code) == (JobStatus.PENDING, "unknown")


def test_a_question_deleted_while_its_job_runs(
    user, topic, docs, fake_llm, woken, monkeypatch
):
    question = q(topic)
    real = jobs.explanation_generate

    def delete_meanwhile(**kwargs):
        result = real(**kwargs)
        Question.objects.filter(pk=question.pk).update(deleted_at=timezone.now())
        return result

    monkeypatch.setattr(jobs, "explanation_generate", delete_meanwhile)
    fake_llm.reply_json(good())
    job = job_runner.job_run(job=enqueue_and_claim(question, user))
    question.refresh_from_db()
    assert (job.status, job.error_code) == (JobStatus.SKIPPED, "evidence_missing")
    assert question.ai_explanation == ""


def test_stale_processing_jobs_are_recovered(user, topic, docs, fake_llm, woken):
    first, second = q(topic, 1), q(topic, 2)
    old = timezone.now() - timedelta(minutes=11)
    QuestionJob.objects.create(
        question=first,
        user=user,
        status=JobStatus.PROCESSING,
        attempts=1,
        started_at=old,
    )
    QuestionJob.objects.create(
        question=second,
        user=user,
        status=JobStatus.PROCESSING,
        attempts=2,
        started_at=old,
    )
    QuestionJob.objects.create(
        question=q(topic, 3),
        user=user,
        status=JobStatus.PROCESSING,
        attempts=1,
        started_at=timezone.now(),
    )
    assert job_runner.jobs_recover_stale() == 2
    states = dict(QuestionJob.objects.values_list("question__number", "status"))
    assert states == {
        1: JobStatus.PENDING,
        2: JobStatus.FAILED,
        3: JobStatus.PROCESSING,
    }


def test_a_worker_killed_mid_job_is_finished_by_the_next(
    user, topic, docs, fake_llm, woken
):
    question = q(topic)
    job = enqueue_and_claim(question, user)  # claimed, then the worker "dies"
    QuestionJob.objects.filter(pk=job.pk).update(
        started_at=timezone.now() - timedelta(minutes=30)
    )
    fake_llm.reply_json(good())
    assert job_runner.jobs_consume(batch=5) == 1
    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED and job.attempts == 2


def test_an_llm_down_for_a_while_loses_nothing(
    client, user, topic, docs, fake_llm, woken, settings
):
    """Defect 2: a short outage used to fail jobs for good (immediate retries)."""
    question = q(topic)
    answer_all(start(user, topic, mode=QuizMode.ROUND, round_key="2020-1"), 1)
    settings.LLM_BASE_URL = "http://127.0.0.1:9/v1"  # nothing listens: the LLM is down
    settings.LLM_TIMEOUT_S = 1
    for _ in range(3):  # three rounds of the consumer while the LLM is down
        job_runner.jobs_consume(batch=5)
        assert not QuestionJob.objects.filter(status=JobStatus.FAILED).exists()
        due_now()
    job = QuestionJob.objects.get()
    assert (job.status, job.error_code) == (JobStatus.PENDING, "llm_timeout")
    settings.LLM_BASE_URL = fake_llm.base_url  # back up
    fake_llm.reply_json(good())
    job_runner.jobs_consume(batch=5)
    question.refresh_from_db()
    job.refresh_from_db()
    assert question.ai_explanation_status == AIExplanationStatus.READY
    # Defect 8: the completed job no longer carries the earlier error code.
    assert (job.status, job.error_code, job.error_message) == (
        JobStatus.COMPLETED,
        "",
        "",
    )


def test_retry_after_is_honoured(user, topic, docs, fake_llm, woken):
    question = q(topic)
    fake_llm.reply_status(503, "busy", headers={"Retry-After": "120"})
    job = job_runner.job_run(job=enqueue_and_claim(question, user))
    assert (job.status, job.error_code) == (JobStatus.PENDING, "llm_http_error")
    assert job.run_after >= timezone.now() + timedelta(seconds=119)
    assert "retry_after_s" not in job.payload


def test_backoff_grows_with_jitter_inside_its_bounds(settings):
    settings.STUDY_JOB_RETRY_BASE_S = 30
    settings.STUDY_JOB_RETRY_MAX_S = 900
    for attempts, ceiling in [(1, 30), (2, 60), (3, 120), (6, 900), (9, 900)]:
        delays = {job_runner.retry_delay_s(attempts) for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
    assert job_runner.retry_delay_s(1, retry_after_s=300) == 300


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_never_claim_the_same_job(user, topic, fake_llm, woken):
    for n in range(1, 11):
        jobs.job_enqueue(question_id=q(topic, n).pk, user_id=user.pk)
    claimed: list[int] = []
    lock = threading.Lock()

    def worker():
        try:
            while (job := job_runner.job_claim_next()) is not None:
                with lock:
                    claimed.append(job.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(claimed) == len(set(claimed)) == 10


def test_admin_retry_creates_a_new_row(
    client, staff_user, user, topic, fake_llm, woken
):
    question = q(topic)
    failed = QuestionJob.objects.create(
        question=question, user=user, status=JobStatus.FAILED, error_code="llm_timeout"
    )
    client.force_login(staff_user)
    client.post(
        reverse("admin:study_questionjob_changelist"),
        {"action": "retry_failed", "_selected_action": [failed.pk]},
    )
    failed.refresh_from_db()
    assert failed.status == JobStatus.FAILED
    assert QuestionJob.objects.filter(status=JobStatus.PENDING).count() == 1


def test_admin_regenerate_action_regenerates_a_ready_explanation(
    client, staff_user, topic, docs, fake_llm, woken
):
    question = q(
        topic, ai_explanation="옛 해설", ai_explanation_status=AIExplanationStatus.READY
    )
    client.force_login(staff_user)
    client.post(
        reverse("admin:study_question_changelist"),
        {"action": "regenerate_explanation", "_selected_action": [question.pk]},
    )
    fake_llm.reply_json(
        good(text="정답은 2번입니다. 새로 쓴 해설이며 근거를 들어 설명합니다.")
    )
    job_runner.jobs_consume(batch=1)
    question.refresh_from_db()
    assert (
        question.ai_explanation
        == "정답은 2번입니다. 새로 쓴 해설이며 근거를 들어 설명합니다."
    )


def test_enqueue_wakes_the_consumer_after_commit(user, topic, fake_llm, monkeypatch):
    from django_q.models import OrmQ

    question = q(topic)
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        jobs.job_enqueue(question_id=question.pk, user_id=user.pk)
    assert OrmQ.objects.count() == 1


def test_backfill_command_with_wait(user, topic, docs, fake_llm, capsys):
    from django.core.management import call_command

    for n in range(1, 4):
        q(topic, n)
    fake_llm.reply_json(good(), default=True)
    call_command("backfill_explanations", "--topic", topic.name, "--wait")
    out = capsys.readouterr().out
    assert "3개 작업" in out
    assert Question.objects.filter(ai_explanation_status="ready").count() == 3


def test_without_an_llm_the_consumer_leaves_jobs_waiting(
    user, topic, fake_llm, woken, settings
):
    for n in (1, 2):
        q(topic, n)
    answer_all(start(user, topic, mode=QuizMode.ROUND, round_key="2020-1"), 1)
    settings.LLM_BASE_URL = ""  # e.g. a worker started without the LLM settings
    assert job_runner.jobs_consume(batch=5) == 0
    assert set(QuestionJob.objects.values_list("status", flat=True)) == {
        JobStatus.PENDING
    }
