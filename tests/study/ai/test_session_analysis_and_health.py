"""Session analysis (calibrated confidence), live results states, health report."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from study.ai.session_analysis import calibrate_confidence
from study.jobs import runner as job_runner
from study.models import (
    AIExplanationStatus,
    JobStatus,
    QuestionJob,
    QuizMode,
    SessionAnalysis,
    SessionJob,
)
from tests.conftest import make_question
from tests.study.learner_helpers import answer_all, start


@pytest.mark.parametrize(
    ("model", "docs", "ready", "expected"),
    [
        # no documents and no ready explanations → at most low
        ("high", 0, 0, "low"),
        ("medium", 0, 0, "low"),
        ("low", 0, 0, "low"),
        # explanations only → at most medium
        ("high", 0, 3, "medium"),
        ("medium", 0, 3, "medium"),
        ("low", 0, 3, "low"),  # more conservative than the cap: never raised
        # documents → the model's value
        ("high", 2, 0, "high"),
        ("medium", 1, 5, "medium"),
        ("low", 3, 3, "low"),
        # invalid values are normalised first
        ("HIGH ", 2, 0, "high"),
        ("very sure", 2, 0, "low"),
        (None, 0, 3, "low"),
    ],
)
def test_calibrate_confidence(model, docs, ready, expected):
    assert (
        calibrate_confidence(model, ctx_docs_count=docs, ready_explanation_count=ready)
        == expected
    )


@pytest.fixture
def woken(monkeypatch):
    monkeypatch.setattr(job_runner, "wake_consumer", lambda: None)


def finished_session(user, topic):
    for n in range(1, 5):
        make_question(topic, n, subject="안전관리론" if n < 3 else "인간공학")
    return answer_all(
        start(user, topic, mode=QuizMode.ROUND, round_key="2020-1"),
        lambda p, q: [2, 1, 5, 2][p],
    )


def test_the_analysis_is_saved_with_calibrated_confidence(user, topic, fake_llm, woken):
    session = finished_session(user, topic)
    ready = session.attempts.get(position=1).question
    ready.ai_explanation = "준비된 해설"
    ready.ai_explanation_status = AIExplanationStatus.READY
    ready.save()
    fake_llm.reply_json(
        {
            "summary_md": "안전관리론을 보강하세요.",
            "weak_subjects": ["안전관리론"],
            "patterns": ["용어 혼동"],
            "next_steps": ["오답 복습"],
            "confidence": "high",
        }
    )
    QuestionJob.objects.all().delete()  # explanations run first; not this test's
    job = job_runner.job_run(job=job_runner.job_claim_next())
    analysis = SessionAnalysis.objects.get(session=session)
    assert job.status == JobStatus.COMPLETED
    assert analysis.confidence == "medium"  # no documents, one explanation
    assert job.payload["latency_s"] >= 0 and job.payload["run_s"] >= 0
    assert {k: job.payload[k] for k in job.payload if k[-2:] != "_s"} == {
        "ctx_docs_count": 0,
        "ready_explanation_count": 1,
        "model_confidence_raw": "high",
        "calibrated_confidence": "medium",
        "prompt_attempts": 4,
        "valid_attempts_total": 4,
        "summary_len": len("안전관리론을 보강하세요."),
    }
    assert "준비된 해설" in fake_llm.requests[-1].body["messages"][-1]["content"]


def test_a_bad_analysis_reply_is_retried_then_failed(user, topic, fake_llm, woken):
    session = finished_session(user, topic)
    fake_llm.reply_text("nonsense", default=True)
    QuestionJob.objects.all().delete()
    job = job_runner.job_run(job=job_runner.job_claim_next())
    assert (job.status, job.error_code) == (JobStatus.PENDING, "parse_fail")
    while job.status == JobStatus.PENDING:
        SessionJob.objects.update(run_after=None)  # its backoff is over
        job = job_runner.job_run(job=job_runner.job_claim_next())
    assert job.status == JobStatus.FAILED and job.completed_at
    assert not SessionAnalysis.objects.filter(session=session).exists()


def test_results_show_states_live_and_polling_stops(
    client, user, topic, fake_llm, woken
):
    session = finished_session(user, topic)
    client.force_login(user)
    html = client.get(reverse("study:results", args=[session.pk])).content.decode()
    assert "AI 해설 대기 중 · 1번째" in html and 'id="ai-poller"' in html
    assert "분석 대기 중 · 3번째" in html  # after the two explanations
    poll = client.get(reverse("study:results_ai_states", args=[session.pk]))
    assert poll.status_code == 200 and 'hx-swap-oob="true"' in poll.content.decode()
    QuestionJob.objects.update(status=JobStatus.SKIPPED)
    SessionJob.objects.update(status=JobStatus.SKIPPED)
    poll = client.get(reverse("study:results_ai_states", args=[session.pk]))
    assert poll.status_code == 286  # htmx stops polling


def test_results_show_the_analysis_when_ready(client, user, topic, fake_llm, woken):
    session = finished_session(user, topic)
    SessionJob.objects.update(status=JobStatus.COMPLETED)
    SessionAnalysis.objects.create(
        session=session,
        summary_md="**핵심** 요약",
        weak_subjects=["인간공학"],
        next_steps=["복습"],
        confidence="low",
    )
    client.force_login(user)
    html = client.get(reverse("study:results", args=[session.pk])).content.decode()
    assert (
        "<strong>핵심</strong>" in html and "신뢰도 낮음" in html and "인간공학" in html
    )


def test_health_report_page_and_command(
    client, staff_user, user, topic, fake_llm, woken, capsys
):
    session = finished_session(user, topic)
    QuestionJob.objects.filter(question__number=2).update(
        status=JobStatus.FAILED, error_code="guard_fail"
    )
    QuestionJob.objects.filter(question__number=3).update(
        status=JobStatus.SKIPPED, error_code="evidence_missing"
    )
    fake_llm.reply_json(
        {
            "summary_md": "요약",
            "weak_subjects": [],
            "patterns": [],
            "next_steps": [],
            "confidence": "high",
        }
    )
    job_runner.job_run(job=job_runner.job_claim_next())
    call_command("jobs_health")
    out = capsys.readouterr().out
    for title in (
        "1. 문항 작업",
        "2. 세션 분석 작업",
        "3. 세션 분석 신뢰도",
        "4. 모델 신뢰도",
        "5. 최근 7일",
        "6. 건너뜀 사유",
        "7. guard_fail",
    ):
        assert title in out
    assert "guard_fail" in out and "evidence_missing" in out and "50.0" in out
    client.force_login(staff_user)
    page = client.get(reverse("jobs_health")).content.decode()
    assert "AI 작업 점검" in page and "evidence_missing" in page
    client.force_login(user)
    assert client.get(reverse("jobs_health")).status_code == 302
    assert session.pk
