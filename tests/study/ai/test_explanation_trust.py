"""Explanations a learner can trust, end to end with a fake LLM server: each
guard reason code reaches the job payload and the health report, the
independent check (agree / disagree shown with a note / disagree hidden /
garbage / timeout), the question-only setting, the confidence caps and what
the card says."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from study.ai import explanation_jobs as jobs
from study.ai.explanations import (
    capped_confidence,
    explanation_generate,
    explanation_save,
)
from study.jobs import runner as job_runner
from study.llm.gate import Priority
from study.models import AIExplanationStatus, JobStatus, SubjectNote, Topic
from tests.conftest import make_document, make_question
from tests.study.ai_jobs_helpers import run_due_jobs

DOC = (
    "사다리식 통로의 길이가 10미터 이상인 경우에는 5미터 이내마다 계단참을 "
    "설치할 것. 사다리의 상단은 걸쳐놓은 지점으로부터 60센티미터 이상 "
    "올라가도록 할 것. 발판의 간격은 일정하게 할 것. "
) * 6
LADDER = {
    "stem": "사다리식 통로 등을 설치하는 경우 준수해야 할 기준으로 틀린 것은?",
    "choice_1": "사다리의 상단은 걸쳐놓은 지점으로부터 60cm 이상 올라가도록 할 것",
    "choice_2": "발판의 간격은 일정하게 할 것",
    "choice_3": (
        "사다리식 통로의 길이가 10m 이상인 경우에는 3m 이내마다 계단참을 설치할 것"
    ),
    "choice_4": "폭은 30cm 이상으로 할 것",
    "correct_choice": 3,
}
QUOTE = {
    "source": "D1",
    "quote": "사다리식 통로의 길이가 10미터 이상인 경우에는 5미터 이내마다 계단참을",
}
GOOD_TEXT = (
    "정답은 3번입니다. 사다리식 통로의 길이가 10m 이상이면 5m 이내마다 계단참을 "
    "두어야 하므로, 3m라고 한 3번이 틀린 설명입니다."
)


def reply(answer=3, text=GOOD_TEXT, confidence="high", evidence=(QUOTE,)):
    return {
        "answer_choice": answer,
        "explanation_md": text,
        "confidence": confidence,
        "evidence": list(evidence),
    }


@pytest.fixture
def ladder(user, topic, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    make_document(user, topic, DOC, title="기준규칙 제24조")
    return make_question(topic, 1, **LADDER)


def run_job(question, user):
    assert jobs.job_enqueue(question_id=question.pk, user_id=user.pk)
    job = job_runner.job_run(job=job_runner.job_claim_next())
    question.refresh_from_db()
    return job


# -- guard reason codes reach the payload and the health report ----------------


@pytest.mark.parametrize(
    ("text", "evidence", "code"),
    [
        (
            "정답은 **2번**입니다. 발판의 간격을 일정하게 하지 않아도 되므로 틀렸다.",
            (QUOTE,),
            "text_names_other_choice",
        ),
        (
            "정답은 3번입니다. 사다리식 통로의 길이가 10m 이상인 경우에는 3m 이내마다 "
            "계단참을 설치할 것은 옳은 설명입니다.",
            (QUOTE,),
            "text_denies_key",
        ),
        (
            GOOD_TEXT,
            ({"source": "D1", "quote": "한랭작업을 하는 경우에 동상 등의 건강장해"},),
            "ungrounded",
        ),
        ("정답은 3번입니다.", (QUOTE,), "no_reasoning"),
    ],
)
def test_each_guard_failure_is_kept_with_its_reason_and_never_shown(
    user, topic, ladder, fake_llm, woken, text, evidence, code, client, capsys
):
    fake_llm.reply_json(reply(text=text, evidence=evidence))
    job = run_job(ladder, user)
    assert (job.status, job.error_code) == (JobStatus.FAILED, "guard_fail")
    assert job.payload["guard_reason"] == code
    assert job.payload["debug_raw_preview"]
    assert ladder.ai_explanation_status == AIExplanationStatus.FAILED
    assert ladder.ai_explanation == ""
    call_command("jobs_health")
    out = capsys.readouterr().out
    assert "8. guard_fail 사유" in out and code in out


def test_a_calculation_whose_result_is_not_the_key_fails(
    user, topic, ladder, fake_llm, woken
):
    question = make_question(
        topic,
        2,
        stem="사다리식 통로의 계단참 간격 계산: 길이 10m 통로에 필요한 계단참 간격은 "
        "몇 m 이내인가?",
        choice_1="3",
        choice_2="4",
        choice_3="5",
        choice_4="6",
        correct_choice=3,
    )
    text = (
        "정답은 3번입니다. 사다리식 통로의 길이가 10미터 이상이면 계단참을 둡니다. "
        "간격은 10 / 2.5 = 4 이므로 4m 입니다."
    )
    fake_llm.reply_json(reply(text=text))
    job = run_job(question, user)
    assert job.payload["guard_reason"] == "result_not_key"


def test_answer_field_not_the_key_is_a_guard_fail_with_its_own_reason(
    user, topic, ladder, fake_llm, woken
):
    fake_llm.reply_json(reply(answer=2))
    job = run_job(ladder, user)
    assert job.payload["guard_reason"] == "answer_not_key"


def test_the_health_page_lists_guard_reasons(
    client, staff_user, user, topic, ladder, fake_llm, woken
):
    fake_llm.reply_json(reply(text="정답은 1번입니다. 상단 길이 기준이 틀렸다."))
    run_job(ladder, user)
    client.force_login(staff_user)
    page = client.get(reverse("jobs_health")).content.decode()
    assert "guard_fail 사유" in page and "text_names_other_choice" in page


# -- the independent check ----------------------------------------------------


def check_on(topic, hide=False):
    Topic.objects.filter(pk=topic.pk).update(
        ai_independent_check=True, ai_disagreement_hide=hide
    )


def test_new_topics_check_by_default_and_existing_fixture_does_not(user, topic):
    assert Topic.objects.create(name="새 토픽", owner=user).ai_independent_check
    assert not Topic.objects.create(name="새 토픽2", owner=user).ai_question_only


def test_check_agrees_the_explanation_is_shown_without_a_note(
    client, user, topic, ladder, fake_llm, woken
):
    check_on(topic)
    fake_llm.reply_json({"answer_choice": 3})
    fake_llm.reply_json(reply())
    job = run_job(ladder, user)
    assert job.status == JobStatus.COMPLETED
    assert job.payload["check"] == "agree" and job.payload["check_answer"] == 3
    assert "check_latency_s" in job.payload
    first = fake_llm.requests[0].body["messages"][-1]["content"]
    assert "[정답]" not in first and "3번" not in first  # asked without the key
    assert ladder.ai_explanation_meta["check"] == "agree"
    client.force_login(user)
    html = client.get(reverse("study:question", args=[ladder.pk])).content.decode()
    assert "스스로는 다른 답" not in html


def test_check_disagrees_the_explanation_is_shown_under_a_note(
    client, user, topic, ladder, fake_llm, woken
):
    check_on(topic, hide=False)
    fake_llm.reply_json({"answer_choice": 1})
    fake_llm.reply_json(reply())
    job = run_job(ladder, user)
    assert job.status == JobStatus.COMPLETED and job.payload["check"] == "disagree"
    assert ladder.ai_explanation_status == AIExplanationStatus.READY
    client.force_login(user)
    html = client.get(reverse("study:question", args=[ladder.pk])).content.decode()
    assert "AI가 스스로는 다른 답을 골랐습니다 — 참고만 하세요" in html
    assert "1번을 골랐습니다" in html


def test_check_disagrees_and_the_topic_hides_it(user, topic, ladder, fake_llm, woken):
    check_on(topic, hide=True)
    fake_llm.reply_json({"answer_choice": 2})
    fake_llm.reply_json(reply())
    job = run_job(ladder, user)
    assert (job.status, job.payload["guard_reason"]) == (
        JobStatus.FAILED,
        "check_disagrees",
    )
    assert ladder.ai_explanation == ""


@pytest.mark.parametrize("bad", ["garbage", "timeout"])
def test_check_garbage_or_timeout_is_unknown_and_does_not_block(
    user, topic, ladder, fake_llm, woken, settings, bad
):
    check_on(topic, hide=True)
    if bad == "garbage":
        fake_llm.reply_text("모르겠습니다")
    else:
        settings.LLM_TIMEOUT_S = 0.5
        fake_llm.reply_json({"answer_choice": 3}, delay_s=2)
    fake_llm.reply_json(reply())
    if bad == "timeout":
        # The explanation itself answers in time.
        ladder.topic.refresh_from_db()
        result = explanation_generate(question=ladder, priority=Priority.FOREGROUND)
        settings.LLM_TIMEOUT_S = 5
        assert result.payload["check"] == "unknown"
        assert result.payload["check_error"] == "llm_timeout"
        return
    job = run_job(ladder, user)
    assert job.status == JobStatus.COMPLETED
    assert job.payload["check"] == "unknown" and job.payload["check_error"]
    assert ladder.ai_explanation_meta["check"] == "unknown"


# -- no evidence: skip with a hint, or question-only when allowed --------------


def test_no_relevant_evidence_is_skipped_with_what_would_help(
    client, user, topic, fake_llm, woken
):
    question = make_question(
        topic,
        5,
        subject="산업재해보상보험",
        stem="산업재해보상보험법상 보험급여의 종류가 아닌 것은?",
    )
    job = run_job(question, user)
    assert (job.status, job.error_code) == (JobStatus.SKIPPED, "evidence_missing")
    assert job.payload["missing_hint"].startswith("산업재해보상보험법")
    assert fake_llm.requests == []
    assert question.ai_explanation_status == AIExplanationStatus.SKIPPED
    client.force_login(user)
    html = client.get(reverse("study:question", args=[question.pk])).content.decode()
    assert "도움이 될 자료" in html and "산업재해보상보험법 원문" in html


def test_question_only_when_the_topic_allows_it_is_labelled_and_low(
    client, user, topic, fake_llm, woken
):
    Topic.objects.filter(pk=topic.pk).update(ai_question_only=True)
    question = make_question(
        topic,
        6,
        stem="버드의 재해구성 비율에서 무상해 사고 180건이면 중상은 몇 건인가?",
        choice_1="6건",
        choice_2="18건",
        choice_3="20건",
        choice_4="29건",
        correct_choice=1,
    )
    text = (
        "정답은 1번입니다. 버드의 비율은 중상 1 : 경상 10 : 무상해 사고 30 : "
        "아차사고 600이므로 중상 = 180 / 30 = 6 건입니다."
    )
    fake_llm.reply_json(reply(answer=1, text=text, confidence="high", evidence=()))
    job = run_job(question, user)
    assert job.status == JobStatus.COMPLETED
    prompt = fake_llm.requests[-1].body["messages"][-1]["content"]
    assert "자료 없이 문제만으로 설명합니다" in prompt
    assert question.ai_explanation_meta["grounding"] == "none"
    assert question.ai_explanation_meta["confidence"] == "low"  # high claimed
    assert job.payload["model_confidence_raw"] == "high"
    client.force_login(user)
    html = client.get(reverse("study:question", args=[question.pk])).content.decode()
    assert "자료 근거 없음" in html and "신뢰도 낮음" in html


# -- honest confidence --------------------------------------------------------


def test_confidence_caps():
    # Documents cited: the claim stands; never raised.
    assert capped_confidence("high", grounding="documents", cited_document=True) == (
        "high"
    )
    assert capped_confidence("low", grounding="documents", cited_document=True) == (
        "low"
    )
    # Other questions only, or documents sent but not cited: at most medium.
    assert capped_confidence("high", grounding="questions", cited_document=False) == (
        "medium"
    )
    assert capped_confidence("high", grounding="documents", cited_document=False) == (
        "medium"
    )
    # No evidence at all: at most low; no claim counts as low.
    assert capped_confidence("high", grounding="none", cited_document=False) == "low"
    assert capped_confidence(None, grounding="documents", cited_document=True) == "low"


def test_a_cited_explanation_shows_its_confidence_in_words(
    client, user, topic, ladder, fake_llm
):
    fake_llm.reply_json(reply(confidence="high"))
    client.force_login(user)
    html = client.post(reverse("study:ai_explanation", args=[ladder.pk]))
    html = html.content.decode()
    assert "신뢰도 높음" in html and "조문을 직접 인용" in html
    ladder.refresh_from_db()
    assert ladder.ai_explanation_meta["grounding"] == "documents"


def test_an_explanation_from_other_questions_only_is_at_most_medium(
    user, topic, fake_llm
):
    other = make_question(
        topic,
        9,
        year=2018,
        stem="사다리식 통로 등을 설치하는 경우 준수해야 할 기준으로 옳은 것은?",
        choice_1="발판의 간격은 일정하게 할 것",
        correct_choice=1,
    )
    question = make_question(topic, 1, **LADDER)
    # The related analysis's verdict: a repeat of another round (the other
    # question as the prompt's only evidence).
    question.related_repeat = [{"id": other.pk, "similarity": 0.94}]
    question.save()
    text = (
        "정답은 3번입니다. 다른 기출 문제의 정답처럼 발판의 간격은 일정하게 해야 "
        "하고, 계단참 간격 3m는 기준과 다릅니다."
    )
    fake_llm.reply_json(
        reply(
            text=text,
            evidence=({"source": "Q1", "quote": "발판의 간격은 일정하게 할 것"},),
        )
    )
    result = explanation_generate(question=question, priority=Priority.FOREGROUND)
    assert result.status == "ready", result.payload
    assert result.meta["grounding"] == "questions"
    assert result.meta["confidence"] == "medium"
    saved = explanation_save(question_id=question.pk, result=result)
    assert saved.ai_explanation_meta["confidence"] == "medium"


# -- subject notes ------------------------------------------------------------


def test_a_subject_note_that_names_an_answer_is_not_stored(
    client, user, topic, ladder, fake_llm, capsys
):
    explained = make_question(topic, 2, stem="사다리식 통로의 계단참 간격은?")
    explained.ai_explanation = (
        "사다리식 통로의 길이가 10미터 이상이면 5미터마다 계단참."
    )
    explained.ai_explanation_status = AIExplanationStatus.READY
    explained.save()
    fake_llm.reply_json(
        {
            "note_md": (
                "- 사다리식 통로는 계단참 기준이 중요하다.\n- 정답은 언제나 3번이다."
            ),
            "evidence": [QUOTE],
        }
    )
    client.force_login(user)
    client.post(reverse("study:subject_note", args=[ladder.pk]))
    run_due_jobs()
    html = client.get(reverse("study:subject_note", args=[ladder.pk])).content.decode()
    note = SubjectNote.objects.get(topic=topic)
    assert note.status == "failed" and note.text == ""
    # The guard's own reason, not the generic "검사를 통과하지 못해".
    assert "언제나 3번" not in html
    assert "분야 설명이 어느 문제의 답을 말하고 있어 보여 주지 않습니다" in html
    call_command("jobs_health")
    assert "note_names_answer" in capsys.readouterr().out


def test_the_owner_sets_the_ai_settings_on_the_topic_page(client, user, topic):
    client.force_login(user)
    url = reverse("study:topic_edit", args=[topic.pk])
    page = client.get(url).content.decode()
    assert "자료 없이 문제만으로 해설" in page and "AI 독립 확인" in page
    client.post(
        url,
        {
            "name": topic.name,
            "description": "",
            "ai_question_only": "on",
            "ai_disagreement_hide": "on",
        },
    )
    topic.refresh_from_db()
    assert topic.ai_question_only and topic.ai_disagreement_hide
    assert not topic.ai_independent_check  # unticked box
