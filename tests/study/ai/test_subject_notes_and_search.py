"""모르겠음 subject notes and the document search page with query rewriting."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from study.jobs.runner import jobs_recover_stale
from study.models import (
    AIExplanationStatus,
    JobKind,
    JobStatus,
    MaterialType,
    QuestionJob,
    SubjectNote,
    SubjectNoteStatus,
)
from tests.conftest import make_document, make_question
from tests.study.ai_jobs_helpers import run_due_jobs

TEXTBOOK = (
    "안전관리론은 재해 예방과 안전관리 조직을 다룬다. "
    "하인리히는 1:29:300 법칙을 제시했다. " * 12
)
LAW = "법령 자료: 안전보건관리책임자는 사업장을 실질적으로 총괄하는 사람이다. " * 12


@pytest.fixture
def docs(user, topic, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return [
        make_document(user, topic, text, title=name, material_type=kind)
        for name, text, kind in (
            ("교재", TEXTBOOK, MaterialType.TEXTBOOK),
            ("법령", LAW, MaterialType.LAW),
        )
    ]


def test_an_unsure_card_gets_a_cached_subject_note(client, user, topic, docs, fake_llm):
    question = make_question(
        topic, 1, stem="하인리히 법칙에서 300은?", scope="재해이론"
    )
    explained = make_question(topic, 2, stem="다른 문제")
    explained.ai_explanation = "준비된 해설"
    explained.ai_explanation_status = AIExplanationStatus.READY
    explained.save()
    fake_llm.reply_json(
        {
            "note_md": "- **하인리히**: 1:29:300",
            "evidence": [
                {"source": "D1", "quote": "하인리히는 1:29:300 법칙을 제시했다"}
            ],
        }
    )
    client.force_login(user)
    url = reverse("study:subject_note", args=[question.pk])
    client.post(url)
    run_due_jobs()
    html = client.get(url).content.decode()
    assert "<strong>하인리히</strong>" in html
    note = SubjectNote.objects.get(topic=topic, subject="안전관리론", scope="재해이론")
    assert note.status == "ready" and note.evidence[0]["kind"] == "document"
    prompt = fake_llm.requests[-1].body["messages"][-1]["content"]
    assert "준비된 해설" in prompt  # other questions' ready explanations are evidence
    calls = len(fake_llm.requests)
    assert "하인리히" in client.get(url).content.decode()
    client.post(url)  # cached: no new call
    run_due_jobs()
    assert len(fake_llm.requests) == calls
    fake_llm.reply_json({"note_md": "새 설명", "evidence": []})
    client.post(url, {"regenerate": "1"})
    run_due_jobs()
    assert "새 설명" in client.get(url).content.decode()


def test_a_note_failure_is_reported_and_retryable(client, user, topic, docs, fake_llm):
    question = make_question(topic, 1)
    fake_llm.reply_text("garbage")
    client.force_login(user)
    client.post(reverse("study:subject_note", args=[question.pk]))
    run_due_jobs()
    html = client.get(
        reverse("study:subject_note", args=[question.pk])
    ).content.decode()
    assert "실패: 생성하지 못했습니다" in html and "다시 시도" in html


def test_search_rewrites_the_query_and_filters_every_variant(
    client, user, topic, docs, fake_llm
):
    fake_llm.reply_json(
        {"queries": ["재해 예방 이론", "하인리히 도미노", "안전보건관리책임자"]}
    )
    client.force_login(user)
    url = reverse("study:document_search", args=[topic.pk])
    html = client.get(url, {"q": "하인리히"}).content.decode()
    assert "함께 찾은 검색어" in html and "하인리히 도미노" in html
    assert "교재" in html
    html = client.get(
        url, {"q": "하인리히", "material_type": "textbook"}
    ).content.decode()
    assert "법령 자료" not in html  # the rewritten variants obey the filter too
    html = client.get(url, {"q": "하인리히", "year": 1999}).content.decode()
    assert "찾은 자료가 없습니다" in html


def test_search_works_without_an_llm(client, user, topic, docs, settings):
    settings.LLM_BASE_URL = ""
    client.force_login(user)
    html = client.get(
        reverse("study:document_search", args=[topic.pk]), {"q": "안전보건관리책임자"}
    ).content.decode()
    assert "법령 자료" in html and "함께 찾은 검색어" not in html


def test_search_survives_a_dead_llm(client, user, topic, docs, fake_llm):
    for _ in range(3):
        fake_llm.reply_status(500, "down")
    client.force_login(user)
    html = client.get(
        reverse("study:document_search", args=[topic.pk]), {"q": "하인리히"}
    ).content.decode()
    assert "교재" in html


def test_asking_for_a_note_queues_a_job_and_the_card_shows_its_place(
    client, user, topic, docs, fake_llm
):
    question = make_question(
        topic, 1, stem="하인리히 법칙에서 300은?", scope="재해이론"
    )
    same_subject = make_question(topic, 2, stem="1:29:300에서 29는?", scope="재해이론")
    client.force_login(user)
    html = client.post(
        reverse("study:subject_note", args=[question.pk])
    ).content.decode()
    assert fake_llm.requests == []  # nothing is generated inside the request
    assert "분야 설명 대기 중 · 1번째" in html and 'hx-trigger="every 2s"' in html
    client.post(reverse("study:subject_note", args=[same_subject.pk]))
    jobs = QuestionJob.objects.filter(kind=JobKind.SUBJECT_NOTE)
    assert jobs.count() == 1  # one note, one job, whichever question asked
    html = client.get(
        reverse("study:subject_note", args=[same_subject.pk])
    ).content.decode()
    assert "분야 설명 대기 중" in html


def test_a_note_whose_worker_died_shows_the_failure(
    client, user, topic, docs, fake_llm, settings
):
    question = make_question(topic, 1, scope="재해이론")
    client.force_login(user)
    client.post(reverse("study:subject_note", args=[question.pk]))
    job = QuestionJob.objects.get(kind=JobKind.SUBJECT_NOTE)
    started = timezone.now() - timedelta(hours=1)
    QuestionJob.objects.filter(pk=job.pk).update(
        status=JobStatus.PROCESSING, started_at=started, attempts=1
    )
    SubjectNote.objects.create(
        topic=topic,
        subject=question.subject,
        scope=question.scope,
        status=SubjectNoteStatus.PENDING,
        started_at=started,
    )
    jobs_recover_stale()
    html = client.get(
        reverse("study:subject_note", args=[question.pk])
    ).content.decode()
    assert "실패: 생성하지 못했습니다: 작업하던 워커가 멈췄습니다" in html
    assert "다시 시도" in html
