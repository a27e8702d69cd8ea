"""Issue 24, N2: one AI budget per user that every LLM call they cause draws on.

Before, a learner's background work (prefetch after a session, the session
analysis, the results page's request for what is missing) enqueued LLM work
that no limit counted: 32 requests made 46 LLM calls with every limit at 1/h.
"""

import json
import threading

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connections
from django.urls import reverse

from study.documents.summaries import document_summarize
from study.jobs import runner as job_runner
from study.jobs.health import jobs_health
from study.models import AISpend, JobStatus, QuestionJob, QuizMode, SessionJob
from study.services.ai_budget import (
    BUDGET_EXCEEDED,
    AIBudgetExceeded,
    ai_budget_charge,
)
from tests.conftest import make_document
from tests.study.ai_jobs_helpers import DOC, good, q
from tests.study.learner_helpers import answer_all, start

UNSURE = 5


def chat_calls(fake) -> int:
    return sum(1 for r in fake.requests if r.path.endswith("/chat/completions"))


def consume_everything() -> None:
    """Run the runner until nothing is due (each pass takes what is due)."""
    while job_runner.jobs_consume(batch=50):
        pass


def unsure_session(user, topic, questions=6):
    for n in range(1, questions + 1):
        q(topic, n, year=2020, session="1")
    return answer_all(
        start(user, topic, mode=QuizMode.ROUND, round_key="2020-1"),
        lambda p, qid: UNSURE,
    )


def test_background_work_draws_on_the_learners_budget(
    client, user, topic, docs, fake_llm, woken, settings
):
    settings.AI_BUDGET_PER_USER = "3/d"
    fake_llm.reply_json(good(), default=True)
    session = unsure_session(user, topic)
    client.force_login(user)
    client.post(reverse("study:results_ai_prefetch", args=[session.pk]))

    consume_everything()

    assert chat_calls(fake_llm) == 3  # six prefetches and an analysis queued
    assert AISpend.objects.filter(user=user).count() == 3
    jobs = QuestionJob.objects.all()
    assert jobs.filter(status=JobStatus.COMPLETED).count() == 3
    skipped = jobs.filter(status=JobStatus.SKIPPED, error_code=BUDGET_EXCEEDED)
    assert skipped.count() == 3
    analysis = SessionJob.objects.get(session=session)
    assert analysis.status == JobStatus.PENDING  # waits for the budget
    assert analysis.error_code == BUDGET_EXCEEDED and analysis.run_after
    assert analysis.attempts == 0
    page = client.get(reverse("study:results", args=[session.pk])).content.decode()
    assert page.count("미리 만들지 않음") == 3
    assert "이 계정의 AI 사용 한도를 다 썼습니다" in page
    assert "에 다시 시도합니다" in page  # the analysis says when


def test_a_click_over_budget_is_refused_before_any_call(
    client, user, topic, docs, fake_llm, settings
):
    settings.AI_BUDGET_PER_USER = "1/d"
    fake_llm.reply_json(good(), default=True)
    one, two = q(topic, 1), q(topic, 2)
    client.force_login(user)

    def ask(question):
        return client.post(
            reverse("study:ai_explanation_api", args=[question.pk]),
            data=json.dumps({}),
            content_type="application/json",
        )

    assert ask(one).status_code == 200
    refused = ask(two)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "AI 사용 한도(1일에 1번)를 다 썼습니다" in refused.json()["message"]
    assert chat_calls(fake_llm) == 1
    two.refresh_from_db()
    assert two.ai_explanation_status == "none"


def test_search_and_subject_notes_draw_on_the_same_budget(
    client, user, topic, docs, fake_llm, settings
):
    settings.AI_BUDGET_PER_USER = "1/d"
    fake_llm.reply_json({"queries": ["인터록 장치"]}, default=True)
    question = q(topic, 1)
    client.force_login(user)
    url = reverse("study:document_search", args=[topic.pk])
    client.get(url, {"q": "인터록"})
    searched = client.get(url, {"q": "방호장치"}).content.decode()
    note = client.post(reverse("study:subject_note", args=[question.pk]))

    assert chat_calls(fake_llm) == 1
    assert "입력한 검색어로만 찾았습니다" in searched
    assert "AI 사용 한도" in note.content.decode()
    assert list(AISpend.objects.values_list("purpose", flat=True)) == ["rewrite"]


def test_a_subject_note_asked_for_waits_when_the_budget_is_spent_before_it_runs(
    client, user, topic, docs, fake_llm, woken, settings
):
    """The click checks the budget; a note job (run by the runner, paid by the
    asker) that finds it spent by then waits for it with the reason, and
    runs once the budget frees."""
    settings.AI_BUDGET_PER_USER = "1/d"
    fake_llm.reply_json(
        {"note_md": "- **하인리히**: 1:29:300", "evidence": []}, default=True
    )
    question = q(topic, 1)
    client.force_login(user)
    url = reverse("study:subject_note", args=[question.pk])
    assert client.post(url).status_code == 200  # queued
    ai_budget_charge(user_id=user.pk, purpose="explanation", tokens=1)  # spent

    consume_everything()

    job = QuestionJob.objects.get(kind="subject_note")
    assert chat_calls(fake_llm) == 0
    assert job.status == JobStatus.PENDING and job.attempts == 0
    assert job.error_code == BUDGET_EXCEEDED and job.run_after
    card = client.get(url).content.decode()
    assert "이 계정의 AI 사용 한도를 다 썼습니다" in card
    assert "에 다시 시도합니다" in card

    AISpend.objects.all().delete()  # the window passed
    QuestionJob.objects.filter(pk=job.pk).update(run_after=None)
    consume_everything()
    assert chat_calls(fake_llm) == 1
    assert "<strong>하인리히</strong>" in client.get(url).content.decode()


def test_a_document_summary_is_charged_to_its_uploader(
    user, topic, fake_llm, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    fake_llm.reply_json({"summary_md": "인터록에 관한 노트"}, default=True)
    document = make_document(user, topic, DOC, title="노트")
    document_summarize(document_id=document.pk)
    assert list(AISpend.objects.values_list("user", "purpose")) == [
        (user.pk, "summary")
    ]
    settings.AI_BUDGET_PER_USER = "1/d"
    document.summary = ""
    document.save()
    assert document_summarize(document_id=document.pk).summary == ""  # skipped
    assert chat_calls(fake_llm) == 1


def test_the_health_report_shows_spend_per_user(
    user, topic, docs, fake_llm, woken, settings
):
    settings.AI_BUDGET_PER_USER = "2/d"
    fake_llm.reply_json(good(), default=True)
    unsure_session(user, topic, questions=3)
    consume_everything()
    columns, rows = jobs_health()["ai_spend_by_user"]
    row = dict(zip(columns, rows[0], strict=True))
    assert row["user"] == "learner"
    assert (row["calls_24h"], row["calls_7d"]) == (2, 2) and row["tokens_7d"] > 0
    assert row["over_budget_jobs_7d"] == 2  # one prefetch skipped, the analysis
    assert row["budget"] == "2/d"


@pytest.mark.django_db(transaction=True)
def test_calls_at_once_cannot_overspend_the_budget(settings):
    settings.AI_BUDGET_PER_USER = "2/d"
    spender = get_user_model().objects.create_user(username="spender", password="x")
    start_together = threading.Barrier(6, timeout=60)
    outcomes = []

    def charge():
        try:
            start_together.wait()
            ai_budget_charge(user_id=spender.pk, purpose="explanation")
            outcomes.append("charged")
        except AIBudgetExceeded:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=charge) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["charged"] * 2 + ["refused"] * 4
    assert AISpend.objects.filter(user=spender).count() == 2


def test_an_operators_backfill_is_counted_but_not_refused(
    user, topic, docs, fake_llm, woken, settings
):
    settings.AI_BUDGET_PER_USER = "1/d"
    fake_llm.reply_json(good(), default=True)
    for n in range(1, 4):
        q(topic, n)
    call_command("backfill_explanations", "--topic", topic.name, "--wait")
    assert chat_calls(fake_llm) == 3
    assert AISpend.objects.filter(user=user).count() == 3  # the owner's spend
    assert QuestionJob.objects.filter(status=JobStatus.COMPLETED).count() == 3
