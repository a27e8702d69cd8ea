"""L6: every place input becomes a number takes ASCII digits only.

'²'.isdigit() is True but int('²') raises (a 500 before); int('٣') is 3, so
Arabic-Indic digits were silently taken as numbers. Both must be plain bad input.
"""

import json

import pytest
from django.urls import reverse

from publishing.signing import signature, signature_verify
from study.ai.envelope import EnvelopeInvalid, envelope_answer_choice
from study.imports.parsing import RowError, parse_session
from study.models import Attempt, LearnerSettings, Question, QuizSession
from tests.study.learner_helpers import make_bank, start

UNICODE_DIGITS = ["²", "٣", "３", "2²", "٢٠٢٠"]


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.mark.parametrize("digits", UNICODE_DIGITS)
@pytest.mark.parametrize("pattern", ["{d}-1", "2020-{d}", "2020-1,{d}"])
def test_round_urls_give_404(signed_in, topic, question, pattern, digits):
    key = pattern.format(d=digits)
    response = signed_in.get(reverse("study:round", args=[topic.pk, key]))
    assert response.status_code == 404


@pytest.mark.parametrize("digits", UNICODE_DIGITS)
def test_bulk_related_ids_give_400(signed_in, topic, question, digits):
    for ids in ([digits], [question.pk, digits]):
        response = signed_in.post(
            reverse("study:related_types_bulk", args=[topic.pk]),
            data=json.dumps({"ids": ids}),
            content_type="application/json",
        )
        assert response.status_code == 400


@pytest.mark.parametrize("digits", ["٣", "３", "²"])
@pytest.mark.parametrize("field", ["position", "question_id", "choice"])
def test_quiz_answers_give_400_and_record_nothing(
    signed_in, user, topic, field, digits
):
    make_bank(topic, rounds=(("2022", "1"),), subjects=1, per_subject=5)
    session = start(user, topic, size=5)
    data = {"position": "0", "question_id": str(session.question_ids[0])}
    data["choice"] = "3"
    data[field] = digits

    response = signed_in.post(
        reverse("study:quiz_answer", args=[session.pk]), data, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 400
    assert not Attempt.objects.filter(session=session).exists()


@pytest.mark.parametrize("digits", ["٣٠", "３０", "²⁰"])
@pytest.mark.parametrize(
    "fields",
    [
        {"mode": "stage", "stage": "intro", "size": None},
        {"mode": "subject", "subjects": "과목1", "subject_size": None},
        {"mode": "mock", "per_subject": None},
    ],
)
def test_quiz_start_sizes_are_refused(signed_in, topic, fields, digits):
    make_bank(topic, rounds=(("2022", "1"),), subjects=1, per_subject=5)
    data = {k: (digits if v is None else v) for k, v in fields.items()}

    response = signed_in.post(reverse("study:quiz_start", args=[topic.pk]), data)

    assert response.status_code == 302
    assert not QuizSession.objects.exists()


@pytest.mark.parametrize("field", ["exam_year", "number"])
def test_question_form_numbers_are_refused(signed_in, topic, field):
    data = {
        "exam_name": "산업안전기사",
        "exam_year": "2020",
        "exam_session": "1",
        "number": "7",
        "subject": "안전관리론",
        "stem": "문제",
        "choice_1": "가",
        "choice_2": "나",
        "choice_3": "다",
        "choice_4": "라",
        "correct_choice": "2",
    }
    data[field] = "٢٠٢٠" if field == "exam_year" else "٧"

    response = signed_in.post(reverse("study:question_new", args=[topic.pk]), data)

    assert response.status_code == 200
    assert "정수를 입력하세요" in response.content.decode()
    assert not Question.objects.exists()


@pytest.mark.parametrize("session", ["٣", "1,²", "３"])
def test_question_form_session_is_refused(signed_in, topic, session):
    with pytest.raises(RowError):
        parse_session(session)


def test_document_forms_refuse_unicode_years(signed_in, topic, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    upload = signed_in.post(
        reverse("study:documents", args=[topic.pk]),
        {
            "title": "노트",
            "material_type": "notes",
            "year": "٢٠٢٠",
            "file": SimpleUploadedFile("a.txt", "내용".encode()),
        },
    )
    search = signed_in.get(
        reverse("study:document_search", args=[topic.pk]), {"q": "x", "year": "٢٠٢٠"}
    )

    assert upload.status_code == 200 and "정수를 입력하세요" in upload.content.decode()
    assert topic.documents.count() == 0
    assert search.status_code == 200 and "정수를 입력하세요" in search.content.decode()


@pytest.mark.parametrize("value", ["٠.٩", "０.９", "0.9²"])
def test_settings_retention_is_refused(signed_in, user, value):
    response = signed_in.post(reverse("study:settings"), {"desired_retention": value})

    assert response.status_code == 200
    assert "숫자를 입력하세요" in response.content.decode()
    assert (
        not LearnerSettings.objects.filter(user=user)
        .exclude(desired_retention=0.9)
        .exists()
    )


def test_review_page_and_similar_limit_ignore_unicode_numbers(
    client, staff_user, topic, question
):
    client.force_login(staff_user)
    review = client.get(reverse("study:review_queue", args=[topic.pk]), {"page": "٣"})
    similar = client.get(
        reverse("study:question_similar_raw", args=[question.pk]), {"limit": "²"}
    )
    outbox = client.get(reverse("admin:publishing_outboxevent_changelist"), {"q": "²"})

    assert (review.status_code, similar.status_code, outbox.status_code) == (
        200,
        200,
        200,
    )


@pytest.mark.parametrize("digits", ["٣", "²", "３"])
def test_llm_answer_choice_and_signature_time_refuse_them(digits):
    with pytest.raises(EnvelopeInvalid):
        envelope_answer_choice({"answer_choice": digits})
    body, secret = b"{}", "s"
    header = signature(body=body, secret=secret, timestamp=1).replace(
        "t=1", f"t={digits}"
    )
    assert not signature_verify(body=body, header=header, secret=secret, now=1)


@pytest.mark.parametrize("digits", UNICODE_DIGITS)
def test_settings_topic_parameter_is_plain_bad_input(signed_in, topic, digits):
    """GET /settings?topic=² answered 500 (int('²') raised)."""
    response = signed_in.get(reverse("study:settings"), {"topic": digits})

    assert response.status_code == 200
    assert f'<option value="{topic.pk}" selected' not in response.content.decode()


@pytest.mark.parametrize("digits", ["٣", "３"])
def test_forms_refuse_unicode_ids_and_sizes(signed_in, user, topic, digits):
    """int('٣') is 3: a topic id or a daily size in other digits was taken."""
    from study.models import ExamPlan

    for data in (
        {"topic": digits, "exam_date": "2099-01-01", "daily_size": "30"},
        {"topic": str(topic.pk), "exam_date": "2099-01-01", "daily_size": digits},
    ):
        response = signed_in.post(reverse("study:exam_plan_save"), data)
        assert response.status_code == 400
    assert not ExamPlan.objects.filter(user=user).exists()
    spec = signed_in.post(
        reverse("study:exam_spec_edit", args=[topic.pk]),
        {"subjects": "과목1", "questions_per_subject": digits},
    )
    assert spec.status_code == 400


def test_numbers_from_requests_have_one_parser():
    """No view or form parses a number itself: study.numbers does."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    entry_points = ("views", "forms.py", "admin.py", "http.py")
    offenders = []
    for path in [*root.glob("study/**/*.py"), *root.glob("publishing/**/*.py")]:
        if not any(part in entry_points for part in path.parts):
            continue
        text = path.read_text(encoding="utf-8")
        for pattern in (
            r"\.isdigit\(\)",
            r"\bint\(\s*request\.",
            r"forms\.IntegerField\(",
        ):
            offenders += [f"{path.relative_to(root)}: {pattern}"] * len(
                re.findall(pattern, text)
            )
    assert offenders == []
