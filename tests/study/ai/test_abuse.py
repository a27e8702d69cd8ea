"""M2: shared AI text is replaced only by its owner or staff; LLM use is limited."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from study.models import AIExplanationStatus, RateLimitHit, SubjectNote
from study.services.rate_limits import Rate
from tests.conftest import make_document, make_question
from tests.study.ai.test_explanations import DOC, good_reply
from tests.study.ai_jobs_helpers import run_due_jobs


@pytest.fixture
def shared(user, topic, settings, tmp_path):
    """A shared topic with a document and a question whose explanation is ready."""
    settings.MEDIA_ROOT = tmp_path
    topic.is_shared = True
    topic.save()
    make_document(user, topic, DOC, title="방호장치 노트")
    question = make_question(
        topic, 1, stem="가드가 열리면 멈추는 장치는?", choice_2="인터록"
    )
    question.ai_explanation = "소유자가 본 해설"
    question.ai_explanation_status = AIExplanationStatus.READY
    question.save()
    return question


@pytest.fixture
def reader(db):
    return get_user_model().objects.create_user(username="reader", password="x")


def ask_api(client, question, regenerate):
    return client.post(
        reverse("study:ai_explanation_api", args=[question.pk]),
        data=json.dumps({"regenerate": regenerate}),
        content_type="application/json",
    )


def test_a_reader_cannot_regenerate_a_shared_explanation(
    client, reader, shared, fake_llm
):
    fake_llm.reply_json(
        good_reply(
            text="정답은 2번입니다. 읽는 사람이 바꾼 해설이며 근거를 들어 설명합니다."
        ),
        default=True,
    )
    client.force_login(reader)

    api = ask_api(client, shared, regenerate=True)
    htmx = client.post(
        reverse("study:ai_explanation", args=[shared.pk]), {"regenerate": "1"}
    ).content.decode()

    assert api.status_code == 403
    assert api.json()["message"] == "다시 생성은 토픽 소유자와 관리자만 할 수 있습니다."
    assert "토픽 소유자와 관리자만" in htmx
    assert fake_llm.requests == []
    shared.refresh_from_db()
    assert shared.ai_explanation == "소유자가 본 해설"
    # The reader still reads it, and is not offered a button that would fail.
    page = client.get(reverse("study:question", args=[shared.pk])).content.decode()
    assert "소유자가 본 해설" in page and "다시 생성" not in page


@pytest.mark.parametrize("who", ["user", "staff_user"])
def test_the_owner_and_staff_can_regenerate(client, request, who, shared, fake_llm):
    fake_llm.reply_json(
        good_reply(text="정답은 2번입니다. 새로 쓴 해설이며 근거를 들어 설명합니다.")
    )
    client.force_login(request.getfixturevalue(who))

    response = ask_api(client, shared, regenerate=True)

    assert response.status_code == 200
    shared.refresh_from_db()
    assert (
        shared.ai_explanation
        == "정답은 2번입니다. 새로 쓴 해설이며 근거를 들어 설명합니다."
    )


def test_a_reader_cannot_replace_the_shared_subject_note(
    client, reader, shared, fake_llm
):
    SubjectNote.objects.create(
        topic=shared.topic, subject=shared.subject, text="소유자 노트", status="ready"
    )
    client.force_login(reader)

    html = client.post(
        reverse("study:subject_note", args=[shared.pk]), {"regenerate": "1"}
    ).content.decode()

    assert "토픽 소유자와 관리자만" in html and "소유자 노트" in html
    assert fake_llm.requests == []
    assert SubjectNote.objects.get().text == "소유자 노트"


def test_explanation_clicks_are_limited_per_user_with_a_korean_message(
    client, reader, user, shared, fake_llm, settings
):
    settings.AI_RATE_LIMITS = {**settings.AI_RATE_LIMITS, "explanation": "2/h"}
    fake_llm.reply_json(good_reply(), default=True)
    questions = [
        make_question(
            shared.topic,
            n,
            stem=f"문제 {n}: 가드가 열리면 멈추는 장치는?",
            choice_2="인터록",
        )
        for n in (2, 3, 4)
    ]
    client.force_login(reader)

    codes = [ask_api(client, q, regenerate=False) for q in questions]

    assert [r.status_code for r in codes] == [200, 200, 429]
    message = codes[2].json()["message"]
    assert message.startswith("AI 해설 요청이 너무 많습니다. 1시간에 2번까지")
    assert 0 < int(codes[2]["Retry-After"]) <= 3600
    assert len(fake_llm.requests) == 2
    # Cached text costs nothing and is still served; other users have their own count.
    assert ask_api(client, questions[0], regenerate=False).status_code == 200
    client.force_login(user)
    assert ask_api(client, questions[2], regenerate=False).status_code == 200


def test_the_htmx_button_shows_the_limit_message(client, reader, shared, settings):
    settings.LLM_BASE_URL = "http://127.0.0.1:9/v1"  # never reached
    settings.AI_RATE_LIMITS = {**settings.AI_RATE_LIMITS, "explanation": "0/h"}
    question = make_question(shared.topic, 2)
    client.force_login(reader)

    html = client.post(reverse("study:ai_explanation", args=[question.pk]))

    assert "AI 해설 요청이 너무 많습니다" in html.content.decode()
    question.refresh_from_db()
    assert question.ai_explanation_status == AIExplanationStatus.NONE


def test_regenerations_have_their_own_limit(client, user, shared, fake_llm, settings):
    settings.AI_RATE_LIMITS = {**settings.AI_RATE_LIMITS, "regenerate": "1/10m"}
    fake_llm.reply_json(good_reply(), default=True)
    client.force_login(user)

    first = ask_api(client, shared, regenerate=True)
    second = ask_api(client, shared, regenerate=True)

    assert (first.status_code, second.status_code) == (200, 429)
    assert "10분에 1번까지" in second.json()["message"]
    assert len(fake_llm.requests) == 1


def test_subject_notes_are_limited(client, reader, shared, fake_llm, settings):
    settings.AI_RATE_LIMITS = {**settings.AI_RATE_LIMITS, "subject_note": "1/h"}
    fake_llm.reply_json({"note_md": "노트", "evidence": []}, default=True)
    other = make_question(shared.topic, 2, subject="기계위험방지기술")
    client.force_login(reader)

    client.post(reverse("study:subject_note", args=[shared.pk]))
    run_due_jobs()
    html = client.post(reverse("study:subject_note", args=[other.pk])).content.decode()

    assert "분야 설명 요청이 너무 많습니다" in html
    assert len(fake_llm.requests) == 1


def test_search_rewriting_is_limited_and_falls_back_to_the_plain_query(
    client, reader, shared, fake_llm, settings
):
    settings.AI_RATE_LIMITS = {**settings.AI_RATE_LIMITS, "search": "1/h"}
    fake_llm.reply_json({"queries": ["인터록 장치"]}, default=True)
    client.force_login(reader)
    url = reverse("study:document_search", args=[shared.topic_id])

    client.get(url, {"q": "인터록"})
    html = client.get(url, {"q": "방호장치"}).content.decode()

    assert len(fake_llm.requests) == 1
    assert "AI 검색어 재작성 요청이 너무 많습니다" in html
    assert "입력한 검색어로만 찾았습니다" in html
    assert "방호장치 노트" in html  # the plain search still ran


def test_old_uses_leave_the_window(reader, settings):
    from datetime import timedelta

    from django.utils import timezone

    from study.services.rate_limits import RateLimited, rate_limit_consume

    rate = Rate.parse("2/h")
    old = timezone.now() - timedelta(hours=1, seconds=1)
    RateLimitHit.objects.bulk_create(
        [RateLimitHit(bucket="b", created_at=old) for _ in range(5)]
    )
    rate_limit_consume(bucket="b", rate=rate, what="x")
    rate_limit_consume(bucket="b", rate=rate, what="x")
    with pytest.raises(RateLimited):
        rate_limit_consume(bucket="b", rate=rate, what="x")
    assert RateLimitHit.objects.filter(bucket="b").count() == 2


@pytest.mark.parametrize(
    ("text", "count", "seconds", "label"),
    [("30/h", 30, 3600, "1시간에 30번"), ("5/10m", 5, 600, "10분에 5번")],
)
def test_rates_parse(text, count, seconds, label):
    assert Rate.parse(text) == Rate(count, seconds, label)


@pytest.mark.parametrize("text", ["", "30", "30/x", "²/h", "٣/h"])
def test_bad_rates_are_refused(text):
    with pytest.raises(ValueError, match="rate must look like"):
        Rate.parse(text)
