"""A refused AI text says why it was refused: the guard's own reason, in
plain words, in Korean and in English, on the question page, the results
card, the click's answer and a subject note; a reason with no message of
its own (or none stored) reads as guard_fail's generic label."""

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from study.ai.explanations import FAILURE_META
from study.ai.guard import GuardReason
from study.ai.states import GUARD_REASON_MESSAGES, plain_reason
from study.jobs import runner as job_runner
from study.models import (
    AIExplanationStatus,
    JobError,
    JobStatus,
    QuestionJob,
    QuizMode,
    SubjectNote,
    SubjectNoteStatus,
)
from tests.study.ai_jobs_helpers import good, q
from tests.study.learner_helpers import answer_all, start

GENERIC_KO = "LLM이 쓴 해설이 정답과 맞지 않아 보여 주지 않습니다"
GENERIC_EN = (
    "The LLM's explanation did not agree with the answer key, so it is not shown"
)


def english(code: str) -> str:
    with translation.override("en"):
        return str(GUARD_REASON_MESSAGES[code])


def refused(user, question, reason: str | None) -> QuestionJob:
    """What the job runner leaves behind when the guard refuses a text."""
    question.ai_explanation_status = AIExplanationStatus.FAILED
    question.save(update_fields=["ai_explanation_status"])
    payload = {} if reason is None else {"guard_reason": reason, "guard_detail": "…"}
    return QuestionJob.objects.create(
        question=question,
        user=user,
        status=JobStatus.FAILED,
        error_code=JobError.GUARD_FAIL,
        error_message=f"{reason}: …",
        payload=payload,
    )


def test_every_guard_reason_has_its_own_plain_message():
    assert set(GUARD_REASON_MESSAGES) == set(GuardReason)
    korean = [str(m) for m in GUARD_REASON_MESSAGES.values()]
    assert len(set(korean)) == len(korean)
    assert GENERIC_KO not in korean
    with translation.override("en"):
        assert str(JobError.GUARD_FAIL.label) == GENERIC_EN
        english_ = [str(m) for m in GUARD_REASON_MESSAGES.values()]
    assert len(set(english_)) == len(english_)
    assert not any(m in korean for m in english_)  # every one translated


@pytest.mark.parametrize("reason", list(GuardReason))
def test_the_question_page_says_why_the_guard_refused(
    client, user, topic, fake_llm, reason
):
    question = q(topic)
    refused(user, question, reason.value)
    client.force_login(user)
    url = reverse("study:question", args=[question.pk])
    html = client.get(url).content.decode()
    assert escape(str(GUARD_REASON_MESSAGES[reason])) in html
    assert escape(GENERIC_KO) not in html
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert escape(english(reason)) in html
    assert escape(GENERIC_EN) not in html


@pytest.mark.parametrize("reason", ["no_such_reason", "", None])
def test_an_unknown_or_missing_reason_falls_back_to_the_generic_label(
    client, user, topic, fake_llm, reason
):
    question = q(topic)
    refused(user, question, reason)
    client.force_login(user)
    url = reverse("study:question", args=[question.pk])
    assert escape(GENERIC_KO) in client.get(url).content.decode()
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert escape(GENERIC_EN) in page
    with translation.override("ko"):
        assert plain_reason(JobError.GUARD_FAIL, reason) == GENERIC_KO


def test_the_reason_of_another_code_is_not_the_guards(user, topic):
    # A guard reason left in a payload never relabels another failure.
    assert plain_reason(JobError.LLM_TIMEOUT, GuardReason.UNGROUNDED) == str(
        JobError.LLM_TIMEOUT.label
    )


def test_the_results_card_says_why_in_both_languages(
    client, user, topic, fake_llm, woken
):
    ungrounded, silent = q(topic, 1), q(topic, 2)
    session = answer_all(start(user, topic, mode=QuizMode.ROUND, round_key="2020-1"), 1)
    QuestionJob.objects.all().delete()  # the prefetch jobs finalize queued
    refused(user, ungrounded, GuardReason.UNGROUNDED.value)
    refused(user, silent, GuardReason.NO_REASONING.value)
    client.force_login(user)
    url = reverse("study:results", args=[session.pk])
    html = client.get(url).content.decode()
    assert escape(str(GUARD_REASON_MESSAGES[GuardReason.UNGROUNDED])) in html
    assert escape(str(GUARD_REASON_MESSAGES[GuardReason.NO_REASONING])) in html
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert escape(english(GuardReason.UNGROUNDED)) in html
    assert escape(english(GuardReason.NO_REASONING)) in html
    assert escape(GENERIC_EN) not in html


def test_a_refused_job_run_shows_the_guards_reason(
    client, user, topic, docs, fake_llm, woken
):
    """End to end: the guard refuses a reply whose answer is not the key; the
    job keeps the reason and the page says it, not the generic label."""
    question = q(topic)
    fake_llm.reply_json(good(answer=3))
    job_runner.job_run(job=_claimed(question, user))
    job = QuestionJob.objects.get(question=question)
    assert (job.error_code, job.payload["guard_reason"]) == (
        JobError.GUARD_FAIL,
        GuardReason.ANSWER_NOT_KEY,
    )
    client.force_login(user)
    html = client.get(reverse("study:question", args=[question.pk])).content.decode()
    assert escape("LLM이 고른 답이 정답과 달라 보여 주지 않습니다") in html
    assert escape(GENERIC_KO) not in html


def test_a_refused_click_shows_the_guards_reason(client, user, topic, docs, fake_llm):
    question = q(topic)
    fake_llm.reply_json(good(answer=3))
    client.force_login(user)
    html = client.post(
        reverse("study:ai_explanation", args=[question.pk]),
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()
    assert escape(english(GuardReason.ANSWER_NOT_KEY)) in html
    assert escape(GENERIC_EN) not in html


def test_a_refused_subject_note_says_why(client, user, topic, fake_llm):
    question = q(topic)
    SubjectNote.objects.create(
        topic=topic,
        subject=question.subject,
        scope=question.scope,
        status=SubjectNoteStatus.FAILED,
        error_code=JobError.GUARD_FAIL,
        error_params={"guard_reason": GuardReason.NOTE_NAMES_ANSWER.value},
    )
    client.force_login(user)
    url = reverse("study:subject_note", args=[question.pk])
    html = client.get(url).content.decode()
    assert escape("분야 설명이 어느 문제의 답을 말하고 있어 보여 주지 않습니다") in html
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert escape(english(GuardReason.NOTE_NAMES_ANSWER)) in html


def _claimed(question, user):
    from study.ai import explanation_jobs as jobs

    assert jobs.job_enqueue(question_id=question.pk, user_id=user.pk)
    return job_runner.job_claim_next()


def test_a_refused_click_still_says_why_after_a_reload(
    client, user, topic, docs, fake_llm
):
    """A click leaves no job row: the question keeps why its last generation
    failed, and the newest failure is the one shown (an older job's reason
    is not)."""
    question = q(topic)
    refused(user, question, GuardReason.UNGROUNDED.value)  # an older job's
    fake_llm.reply_json(good(answer=3))
    client.force_login(user)
    client.post(reverse("study:ai_explanation", args=[question.pk]))
    question.refresh_from_db()
    assert question.ai_explanation_status == AIExplanationStatus.FAILED
    url = reverse("study:question", args=[question.pk])
    html = client.get(url).content.decode()
    assert escape(str(GUARD_REASON_MESSAGES[GuardReason.ANSWER_NOT_KEY])) in html
    assert escape(str(GUARD_REASON_MESSAGES[GuardReason.UNGROUNDED])) not in html
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert escape(english(GuardReason.ANSWER_NOT_KEY)) in html
    # A text that passes replaces the failure with its own card.
    fake_llm.reply_json(good())
    client.post(reverse("study:ai_explanation", args=[question.pk]))
    question.refresh_from_db()
    assert question.ai_explanation_status == AIExplanationStatus.READY
    assert FAILURE_META not in question.ai_explanation_meta
