"""Topic, round and question pages; authoring by the owner; privacy of ids."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from study.models import AIExplanationStatus, Question, Topic
from tests.conftest import make_question


def _png_bytes() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, format="PNG")
    return buffer.getvalue()


PNG_1PX = _png_bytes()


def form_data(**overrides):
    data = {
        "exam_name": "산업안전기사",
        "exam_year": 2021,
        "exam_session": "2",
        "number": 5,
        "subject": "안전관리론",
        "scope": "",
        "stem": "새 문제는?",
        "choice_1": "일",
        "choice_2": "이",
        "choice_3": "삼",
        "choice_4": "사",
        "correct_choice": 3,
        "accepted_choices": "",
        "explanation": "",
    }
    data.update(overrides)
    return data


def test_it_requires_sign_in(client, topic):
    response = client.get(reverse("study:topic", args=[topic.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_sign_in_and_out(client, user):
    response = client.post(
        reverse("login"), {"username": "learner", "password": "pw-learner-1"}
    )
    assert response.status_code == 302
    assert client.get(reverse("study:home")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("study:home")).status_code == 302


def test_topic_page_lists_rounds_and_subjects_with_counts(client, user, topic):
    for n in (1, 2, 3):
        make_question(topic, n, session="1")
    make_question(topic, 1, year=2020, session="1,2", subject="인간공학")
    make_question(topic, 9, session="1", needs_figure=True)
    deleted = make_question(topic, 10, session="1")
    Question.objects.filter(pk=deleted.pk).update(deleted_at="2026-01-01T00:00:00Z")
    client.force_login(user)
    html = client.get(reverse("study:topic", args=[topic.pk])).content.decode()
    assert "2020년 1회" in html and "2020년 1·2회" in html
    assert "4문제 · 그림 필요 1" in html  # the deleted one is not counted
    assert "인간공학" in html


def test_round_page_lists_questions_with_answers(client, user, topic):
    make_question(topic, 2, session="3", stem="두 번째 문제")
    make_question(topic, 1, session="3", stem="첫 번째 문제", correct_choice=4)
    client.force_login(user)
    response = client.get(reverse("study:round", args=[topic.pk, "2020-3"]))
    html = response.content.decode()
    assert html.index("첫 번째 문제") < html.index("두 번째 문제")
    assert html.count('class="correct"') == 2
    assert (
        client.get(reverse("study:round", args=[topic.pk, "bad-key"])).status_code
        == 404
    )


def test_other_learners_ids_give_404(client, other_user, topic, question):
    client.force_login(other_user)
    for url in (
        reverse("study:topic", args=[topic.pk]),
        reverse("study:round", args=[topic.pk, "2020-1"]),
        reverse("study:question", args=[question.pk]),
        reverse("study:question_edit", args=[question.pk]),
        reverse("study:question_new", args=[topic.pk]),
        reverse("study:topic_edit", args=[topic.pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert (
        client.post(reverse("study:question_delete", args=[question.pk])).status_code
        == 404
    )
    question.refresh_from_db()
    assert question.deleted_at is None


def test_shared_topics_are_readable_but_not_editable(
    client, other_user, topic, question
):
    topic.is_shared = True
    topic.save()
    client.force_login(other_user)
    assert client.get(reverse("study:topic", args=[topic.pk])).status_code == 200
    assert client.get(reverse("study:question", args=[question.pk])).status_code == 200
    assert (
        client.get(reverse("study:question_edit", args=[question.pk])).status_code
        == 404
    )
    home = client.get(reverse("study:home")).content.decode()
    assert topic.name in home


def test_staff_see_every_topic(client, staff_user, topic):
    client.force_login(staff_user)
    assert client.get(reverse("study:topic", args=[topic.pk])).status_code == 200


def test_owner_creates_a_topic_and_a_question(client, user):
    client.force_login(user)
    response = client.post(
        reverse("study:home"), {"name": "내 시험", "description": ""}
    )
    topic = Topic.objects.get(name="내 시험")
    assert response.status_code == 302 and topic.owner == user
    response = client.post(reverse("study:question_new", args=[topic.pk]), form_data())
    q = Question.objects.get(topic=topic)
    assert response.status_code == 302
    assert (q.exam_year, q.exam_session, q.number, q.correct_choice) == (
        2021,
        "2",
        5,
        3,
    )


def test_question_form_normalises_session_labels(client, user, topic):
    client.force_login(user)
    url = reverse("study:question_new", args=[topic.pk])
    for number, spelled in enumerate(["b형", "1_추가시험", "나책형"], start=1):
        data = form_data(exam_session=spelled, number=number)
        assert client.post(url, data).status_code == 302
    assert sorted(q.round_label for q in Question.objects.all()) == [
        "2021년 1회 추가시험",
        "2021년 B형",
        "2021년 나책형",
    ]


def test_question_form_rejects_bad_input(client, user, topic, question):
    client.force_login(user)
    url = reverse("study:question_new", args=[topic.pk])
    bad = [
        form_data(correct_choice=5),
        form_data(exam_session="상반기"),  # names no round
        form_data(accepted_choices="2,9"),
        form_data(accepted_choices="2,4", correct_choice=1),
        form_data(exam_year=2020, exam_session="1", number=1),  # clashes with fixture
        form_data(number=""),
    ]
    for data in bad:
        response = client.post(url, data)
        assert response.status_code == 200, data
        assert 'class="errorlist' in response.content.decode(), data
    assert Question.objects.count() == 1


def test_editing_the_answer_makes_a_ready_explanation_stale(
    client, user, topic, question
):
    Question.objects.filter(pk=question.pk).update(
        ai_explanation="이전 해설", ai_explanation_status=AIExplanationStatus.READY
    )
    client.force_login(user)
    url = reverse("study:question_edit", args=[question.pk])
    data = form_data(
        exam_year=2020,
        exam_session="1",
        number=1,
        stem=question.stem,
        choice_1=question.choice_1,
        choice_2=question.choice_2,
        choice_3=question.choice_3,
        choice_4=question.choice_4,
        correct_choice=2,
        subject="과목 변경",
    )
    client.post(url, data)
    question.refresh_from_db()
    assert question.subject == "과목 변경"
    assert question.ai_explanation_status == AIExplanationStatus.READY
    client.post(url, {**data, "correct_choice": 4})
    question.refresh_from_db()
    assert question.ai_explanation_status == AIExplanationStatus.STALE
    assert question.ai_explanation == "이전 해설"


def test_soft_delete_hides_the_question(client, user, topic, question):
    client.force_login(user)
    client.post(reverse("study:question_delete", args=[question.pk]))
    question.refresh_from_db()
    assert question.deleted_at is not None
    assert client.get(reverse("study:question", args=[question.pk])).status_code == 404
    assert not Question.objects.quizzable().exists()


@pytest.mark.django_db
def test_a_figure_upload_makes_a_figure_question_quizzable(
    client, user, topic, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    q = make_question(topic, 7, needs_figure=True)
    assert not Question.objects.quizzable().filter(pk=q.pk).exists()
    client.force_login(user)
    data = form_data(
        exam_year=2020,
        exam_session="1",
        number=7,
        needs_figure="on",
        figure=SimpleUploadedFile("fig.png", PNG_1PX, content_type="image/png"),
    )
    response = client.post(reverse("study:question_edit", args=[q.pk]), data)
    assert response.status_code == 302
    assert Question.objects.quizzable().filter(pk=q.pk).exists()
    figure = client.get(reverse("study:question_figure", args=[q.pk]))
    assert figure.status_code == 200 and b"".join(figure.streaming_content) == PNG_1PX


def test_a_fake_image_is_refused(client, user, topic, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    q = make_question(topic, 7, needs_figure=True)
    client.force_login(user)
    data = form_data(
        exam_year=2020,
        exam_session="1",
        number=7,
        figure=SimpleUploadedFile("fig.png", b"<script>", content_type="image/png"),
    )
    response = client.post(reverse("study:question_edit", args=[q.pk]), data)
    assert response.status_code == 200
    q.refresh_from_db()
    assert not q.figure


def test_hostile_text_is_escaped(client, user, topic):
    make_question(topic, 1, stem="<script>alert(1)</script> 문제")
    client.force_login(user)
    html = client.get(
        reverse("study:round", args=[topic.pk, "2020-1"])
    ).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_unsafe_requests_need_csrf(user, topic, question):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post(reverse("study:question_delete", args=[question.pk]))
    assert response.status_code == 403
