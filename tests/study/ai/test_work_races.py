"""Issue 13: AI work under races and faults, one test per defect found, plus
the time model and the learner's order. Each failed before its fix."""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection, connections
from django.urls import reverse

from study.ai import explanation_jobs as jobs
from study.ai.explanations import explanation_claim
from study.jobs import runner as job_runner
from study.llm.calls import llm_json
from study.llm.client import LLMTimeout
from study.llm.gate import Priority, llm_gate
from study.models import (
    AIExplanationStatus,
    JobStatus,
    Outcome,
    Question,
    QuestionJob,
    QuizMode,
    SessionAnalysis,
    SessionJob,
)
from study.services.questions import question_update
from studyproj.llm_time_model import default_q_timeout_s, time_model_errors
from tests.fakes.openai_server import FakeOpenAI
from tests.study.ai_jobs_helpers import good, q
from tests.study.learner_helpers import answer_all, start

BASE_DIR = Path(__file__).resolve().parents[3]
ANALYSIS = {
    "summary_md": "복습하세요.",
    "weak_subjects": [],
    "patterns": [],
    "next_steps": [],
    "confidence": "low",
}


def wait_for(condition, timeout_s=60):
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


# 1 ---------------------------------------------------------------------------


def test_1_an_explanation_of_the_old_key_is_never_saved_as_ready(
    user, topic, docs, fake_llm, woken, monkeypatch
):
    question = q(topic)  # correct_choice 2
    real = jobs.explanation_generate

    def edit_meanwhile(**kwargs):
        result = real(**kwargs)  # written for key 2
        # the owner moves the device to choice 3 and keys it (a key the
        # documents still support: a key they contradict is refused by the
        # 근거 카드's guard, tests/study/ai/test_card_prompt.py)
        question_update(
            question=Question.objects.get(pk=question.pk),
            data={"correct_choice": 3, "choice_2": "양수조작식", "choice_3": "인터록"},
        )
        return result

    monkeypatch.setattr(jobs, "explanation_generate", edit_meanwhile)
    fake_llm.reply_json(good(answer=2))
    jobs.job_enqueue(question_id=question.pk, user_id=user.pk)
    job = job_runner.job_run(job=job_runner.job_claim_next())
    question.refresh_from_db()
    assert question.ai_explanation_status != AIExplanationStatus.READY
    assert question.ai_explanation == ""
    assert (job.status, job.error_code, job.attempts) == (
        JobStatus.PENDING,
        "content_changed",
        0,  # retried at once, without using up an attempt
    )
    monkeypatch.setattr(jobs, "explanation_generate", real)
    fake_llm.reply_json(
        good(
            answer=3,
            text="정답은 3번입니다. 동력 차단 원리와 작업자 보호 효과를 씁니다.",
        )
    )
    job_runner.job_run(job=job_runner.job_claim_next())
    question.refresh_from_db()
    assert question.ai_explanation_status == AIExplanationStatus.READY
    assert (
        question.ai_explanation
        == "정답은 3번입니다. 동력 차단 원리와 작업자 보호 효과를 씁니다."
    )


# 2: test_explanation_jobs.py::test_an_llm_down_for_a_while_loses_nothing and
#    ::test_retry_after_is_honoured.

# 3 ---------------------------------------------------------------------------


def test_3_a_backlog_of_session_analyses_drains_without_waiting_for_ticks(
    user, topic, fake_llm, woken
):
    q(topic)
    for _ in range(3):
        answer_all(start(user, topic, mode=QuizMode.ROUND, round_key="2020-1"), 1)
    fake_llm.reply_json(ANALYSIS, default=True)
    job_runner.jobs_consume(batch=1)  # one safety-net tick
    while woken:  # each consumer that leaves work behind wakes the next
        woken.pop()
        job_runner.jobs_consume(batch=1)
    assert SessionAnalysis.objects.count() == 3
    assert not SessionJob.objects.filter(status=JobStatus.PENDING).exists()


# 4 ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_4_a_click_while_a_job_generates_waits_for_that_job(
    client, user, topic, docs, fake_llm, woken
):
    question = q(topic)
    fake_llm.reply_json(good(), delay_s=1.5)
    jobs.job_enqueue(question_id=question.pk, user_id=user.pk)

    def worker():
        try:
            job_runner.jobs_consume(batch=1)
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    wait_for(lambda: len(fake_llm.requests) == 1)  # the job is generating
    client.force_login(user)
    url = reverse("study:ai_explanation", args=[question.pk])
    html = client.post(url, HTTP_HX_REQUEST="true").content.decode()
    assert "해설 생성 중" in html and "every 2s" in html  # it shows the job's progress
    api = client.post(
        reverse("study:ai_explanation_api", args=[question.pk]),
        {},
        content_type="application/json",
    )
    assert api.status_code == 202 and api.json()["status"] == "pending"
    thread.join(timeout=60)
    panel = client.get(reverse("study:ai_panel", args=[question.pk])).content.decode()
    assert "정답은 2번, 인터록입니다." in panel
    assert len(fake_llm.requests) == 1  # one generation, one write


def test_4_a_job_whose_question_a_click_is_generating_waits_its_turn(
    user, topic, docs, fake_llm, woken
):
    question = q(topic)
    jobs.job_enqueue(question_id=question.pk, user_id=user.pk)
    assert explanation_claim(question_id=question.pk)  # a click is generating
    job = job_runner.job_run(job=job_runner.job_claim_next())
    assert (job.status, job.error_code, job.attempts) == (JobStatus.PENDING, "busy", 0)
    assert fake_llm.requests == []


# 5 ---------------------------------------------------------------------------


def test_5_failures_show_and_page_views_never_enqueue(
    client, user, topic, docs, fake_llm, woken, settings
):
    for n in range(1, 4):
        q(topic, n)
    session = answer_all(start(user, topic, mode=QuizMode.ROUND, round_key="2020-1"), 1)
    settings.STUDY_JOB_MAX_ATTEMPTS = 1
    QuestionJob.objects.update(max_attempts=1)
    SessionJob.objects.all().delete()
    fake_llm.reply_status(500, "down", default=True)
    job_runner.jobs_consume(batch=10)
    assert set(QuestionJob.objects.values_list("status", flat=True)) == {"failed"}
    assert set(Question.objects.values_list("ai_explanation_status", flat=True)) == {
        AIExplanationStatus.FAILED
    }
    client.force_login(user)
    requests_before = len(fake_llm.requests)
    for _ in range(3):
        html = client.get(reverse("study:results", args=[session.pk])).content.decode()
    assert QuestionJob.objects.count() == 3  # nothing re-enqueued by GETs
    assert len(fake_llm.requests) == requests_before
    assert html.count("AI 해설 실패") == 3 and "LLM 서버가 오류로 답했습니다" in html
    # An explicit request within the backoff window does not hammer the LLM.
    client.post(reverse("study:results_ai_prefetch", args=[session.pk]))
    assert QuestionJob.objects.count() == 3


# 6: test_llm_client.py::test_a_transient_server_error_keeps_the_response_format
#    and ::test_a_refused_format_is_remembered_and_probed_again_later.

# 7 ---------------------------------------------------------------------------


def test_7_a_timed_out_call_keeps_its_slot_while_the_server_may_still_run(
    settings,
):
    settings.LLM_CONCURRENCY = 1
    settings.LLM_TIMEOUT_S = 0.3
    settings.LLM_TIMEOUT_OVERRUN_S = 2.0  # longer than the server's 1 s
    with FakeOpenAI() as fake:
        settings.LLM_BASE_URL = fake.base_url
        fake.delay(1.0)
        timeouts = []

        def ask():
            try:
                llm_json(
                    priority=Priority.FOREGROUND,
                    system="JSON",
                    user="질문",
                    schema={},
                    schema_name="x",
                    wait_timeout_s=30,
                )
            except LLMTimeout:
                timeouts.append(1)
            finally:
                connection.close()

        threads = [threading.Thread(target=ask) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        wait_for(lambda: fake._in_flight == 0)
    assert len(timeouts) == 3 and len(fake.requests) == 3
    assert fake.concurrent_max == 1


# 8: test_explanation_jobs.py::test_an_llm_down_for_a_while_loses_nothing
#    (the completed job's error code is cleared).


def test_8_a_completed_session_job_clears_its_earlier_error(
    user, topic, fake_llm, woken
):
    q(topic)
    answer_all(start(user, topic, mode=QuizMode.ROUND, round_key="2020-1"), 1)
    QuestionJob.objects.all().delete()
    fake_llm.reply_text("nonsense")
    job = job_runner.job_run(job=job_runner.job_claim_next())
    assert job.error_code == "parse_fail"
    SessionJob.objects.update(run_after=None)
    fake_llm.reply_json(ANALYSIS)
    job = job_runner.job_run(job=job_runner.job_claim_next())
    assert (job.status, job.error_code, job.error_message) == ("completed", "", "")


# 9 ---------------------------------------------------------------------------


def test_9_the_gate_connects_with_djangos_own_connection_parameters(
    settings, monkeypatch
):
    """DATABASE_URL=postgres://user@/db?host=/socket/dir puts the host in
    OPTIONS; the gate used to drop it."""
    settings_dict = connections["default"].settings_dict
    host = settings_dict["HOST"]
    monkeypatch.setitem(settings_dict, "HOST", "")
    monkeypatch.setitem(
        settings_dict, "OPTIONS", {**settings_dict["OPTIONS"], "host": host}
    )
    with llm_gate(Priority.FOREGROUND, wait_timeout_s=5) as slot:
        assert slot == 0


# The time model ----------------------------------------------------------------


def test_contradictory_limits_are_refused_at_start_up():
    env = {**os.environ, "DEBUG": "true", "Q_TIMEOUT_S": "100"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "Q_TIMEOUT_S=100 would kill AI job consumers" in result.stderr


@pytest.mark.parametrize(
    ("name", "llm_timeout_s", "overrun_s", "gate_wait_s", "slot_wait_s"),
    [("slow CPU", 300, 300, 300, 60), ("fast GPU", 30, 30, 60, 10)],
)
def test_the_defaults_fit_slow_cpu_and_fast_gpu_servers(
    name, llm_timeout_s, overrun_s, gate_wait_s, slot_wait_s
):
    q_timeout = default_q_timeout_s(
        llm_timeout_s=llm_timeout_s, slot_wait_s=slot_wait_s, batch=1
    )
    assert not time_model_errors(
        llm_timeout_s=llm_timeout_s,
        overrun_s=overrun_s,
        gate_wait_s=gate_wait_s,
        slot_wait_s=slot_wait_s,
        batch=1,
        q_timeout_s=q_timeout,
        q_retry_s=q_timeout + 60,
        stale_minutes=max(10.0, (llm_timeout_s + 120) / 60),
    )


def test_each_contradiction_is_named():
    errors = time_model_errors(
        llm_timeout_s=600,
        overrun_s=0,
        gate_wait_s=300,
        slot_wait_s=60,
        batch=2,
        q_timeout_s=300,
        q_retry_s=300,
        stale_minutes=5,
    )
    assert len(errors) == 3
    assert any("Q_TIMEOUT_S=300" in e for e in errors)
    assert any("Q_RETRY_S=300" in e for e in errors)
    assert any("STUDY_JOB_STALE_MINUTES=5" in e for e in errors)


def test_a_job_waiting_for_a_slot_stays_queued_not_processing(
    user, topic, docs, fake_llm, woken, settings
):
    settings.STUDY_JOB_SLOT_WAIT_S = 0.2
    question = q(topic)
    jobs.job_enqueue(question_id=question.pk, user_id=user.pk)
    with llm_gate(Priority.FOREGROUND):  # a learner's click holds the only slot
        assert job_runner.jobs_consume(batch=1) == 0
    job = QuestionJob.objects.get()
    assert (job.status, job.attempts, job.started_at) == (JobStatus.PENDING, 0, None)
    assert fake_llm.requests == []


# Order ---------------------------------------------------------------------------


def test_prefetch_runs_in_card_order_then_the_session_analysis(
    user, topic, fake_llm, woken
):
    for n in range(1, 7):
        q(topic, n)
    # positions 0..5: wrong, unsure, correct, unsure, wrong, wrong
    picks = [1, 5, 2, 5, 3, 4]
    session = answer_all(
        start(user, topic, mode=QuizMode.ROUND, round_key="2020-1"),
        lambda p, _q: picks[p],
    )
    by_position = {a.position: a for a in session.attempts.order_by("position")}
    assert [by_position[p].outcome for p in range(6)] == [
        Outcome.WRONG,
        Outcome.UNSURE,
        Outcome.CORRECT,
        Outcome.UNSURE,
        Outcome.WRONG,
        Outcome.WRONG,
    ]
    expected = [by_position[p].question_id for p in (0, 4, 5, 1, 3)]
    claimed = []
    while (job := job_runner.job_claim_next()) is not None:
        claimed.append(
            getattr(job, "question_id", None)
            if isinstance(job, QuestionJob)
            else "analysis"
        )
        job_runner.job_finish(job, JobStatus.COMPLETED)
        job.save()
    assert claimed == [*expected, "analysis"]
