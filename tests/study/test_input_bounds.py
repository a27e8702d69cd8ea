"""Issue 24, N4: every input path answers 4xx, never 500.

JSON bodies have a bounded size and depth (50,000 nested brackets raised
RecursionError, a 500); a hostile LLM reply nested as deep is a parse
failure; and the number parameters the audit found outside the ASCII parser
(exam spec and exam plan forms, the admin's question form) refuse non-ASCII
digits. The JSON Lines cases are in tests/study/imports/test_import_bounds.py.
"""

import json

import pytest
from django.urls import reverse

from study.llm.client import LLMParseError, parse_json_reply
from study.models import ExamPlan, ExamSpec, Question

DEEP = "[" * 50_000 + "]" * 50_000


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "body", [DEEP, '{"regenerate": ' + DEEP + "}", "{" * 50_000, "x" * 5000]
)
def test_the_ai_explanation_endpoint_refuses_hostile_json(signed_in, question, body):
    response = signed_in.post(
        reverse("study:ai_explanation_api", args=[question.pk]),
        data=body,
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_json"


@pytest.mark.parametrize(
    "body",
    [DEEP, '{"ids": ' + DEEP + "}", '{"ids": [' + "9" * 5000 + "]}", "[" * 10],
)
def test_the_related_types_endpoint_refuses_hostile_json(
    signed_in, topic, question, body
):
    response = signed_in.post(
        reverse("study:related_types_bulk", args=[topic.pk]),
        data=body,
        content_type="application/json",
    )
    assert response.status_code == 400


def test_a_reply_nested_50000_deep_is_a_parse_failure_not_a_crash():
    for reply in (DEEP, "{" * 50_000, '{"a": ' + DEEP + "}"):
        with pytest.raises(LLMParseError):
            parse_json_reply(reply)


@pytest.mark.parametrize("digits", ["٢٠", "２０"])
def test_the_exam_spec_form_refuses_non_ascii_digits(signed_in, topic, digits):
    response = signed_in.post(
        reverse("study:exam_spec_edit", args=[topic.pk]),
        {"subjects": "", "questions_per_subject": digits, "time_limit_minutes": ""},
    )
    assert response.status_code in (200, 400)
    assert not ExamSpec.objects.filter(topic=topic).exists()


@pytest.mark.parametrize(
    "field,value",
    [
        ("daily_size", "٣٠"),
        ("exam_date", "٢٠٣٠-٠١-٠١"),
        ("topic", "٣"),
    ],
)
def test_the_exam_plan_form_refuses_non_ascii_digits(signed_in, topic, field, value):
    data = {"topic": str(topic.pk), "exam_date": "2030-01-01", "daily_size": "30"}
    data[field] = value if field != "topic" else value.replace("٣", _arabic(topic.pk))
    response = signed_in.post(reverse("study:exam_plan_save"), data)
    assert response.status_code == 400
    assert not ExamPlan.objects.exists()


def _arabic(number: int) -> str:
    return "".join(chr(0x660 + int(d)) for d in str(number))


def test_the_admin_question_form_refuses_non_ascii_years(
    client, staff_user, topic, question
):
    client.force_login(staff_user)
    url = reverse("admin:study_question_change", args=[question.pk])
    data = {
        "topic": topic.pk,
        "exam_name": question.exam_name,
        "exam_year": "٢٠١٩",
        "exam_session": "1",
        "number": "1",
        "subject": question.subject,
        "scope": "",
        "stem": question.stem,
        "choice_1": "a",
        "choice_2": "b",
        "choice_3": "c",
        "choice_4": "d",
        "correct_choice": "2",
        "accepted_choices": "",
        "explanation": "",
        "ai_explanation_status": question.ai_explanation_status,
        "ai_explanation": "",
        "ai_explanation_model": "",
    }
    response = client.post(url, data)
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert Question.objects.get(pk=question.pk).exam_year == 2020


def test_json_bodies_within_bounds_still_work(signed_in, topic, question):
    response = signed_in.post(
        reverse("study:related_types_bulk", args=[topic.pk]),
        data=json.dumps({"ids": [question.pk]}),
        content_type="application/json",
    )
    assert (
        response.status_code == 200 and str(question.pk) in response.json()["results"]
    )
