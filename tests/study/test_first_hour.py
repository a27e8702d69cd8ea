"""A first hour without guessing (issue 23, item 6): the login page names the
demo accounts in DEBUG, home says what to do first, the start form says when
answers are revealed and offers them after each question, and the English
leftovers (repeat-grade badges, the empty choice of a menu, admin labels)
are translated."""

import json
import re

import pytest
from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.urls import reverse

from study.models import Attempt, EmbeddingStatus, QuizMode, QuizSession
from study.services.demo import demo_accounts_create
from tests.conftest import make_question
from tests.study.learner_helpers import make_bank, start

HTMX = {"HTTP_HX_REQUEST": "true"}
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def test_the_login_page_names_the_demo_accounts_in_debug_only(client, settings, db):
    settings.DEBUG = True
    demo_accounts_create()
    html = client.get(reverse("login")).content.decode()
    assert "data-demo-accounts" in html
    assert "<code>demo</code> / <code>demo</code>" in html
    assert "<code>admin</code> / <code>admin</code>" in html
    assert "createsuperuser" in html  # how to get an account

    settings.DEBUG = False
    html = client.get(reverse("login")).content.decode()
    assert "data-demo-accounts" not in html and "<code>demo</code>" not in html
    assert "관리자에게 요청하세요" in html


def test_home_says_what_to_do_first_until_the_first_answer(client, user, topic):
    make_bank(topic, rounds=(("2022", "1"),), subjects=1, per_subject=5)
    client.force_login(user)

    html = client.get(reverse("study:home")).content.decode()

    assert "data-first-steps" in html
    first = reverse("study:topic", args=[topic.pk]) + "#quiz-start"
    assert f'href="{first}"' in html and "학습완료" in html
    session = start(user, topic, size=5)
    client.post(
        reverse("study:quiz_answer", args=[session.pk]),
        {"position": 0, "question_id": session.question_ids[0], "choice": 2},
    )
    assert "data-first-steps" not in client.get(reverse("study:home")).content.decode()


def test_the_start_form_and_the_quiz_say_when_answers_are_revealed(client, user, topic):
    make_bank(topic, rounds=(("2022", "1"),), subjects=1, per_subject=5)
    client.force_login(user)

    form = client.get(reverse("study:topic", args=[topic.pk])).content.decode()
    response = client.post(
        reverse("study:quiz_start", args=[topic.pk]),
        {"mode": "stage", "stage": "intro", "size": "5"},
    )
    quiz = client.get(response["Location"]).content.decode()

    assert 'name="feedback" value="end" checked' in form
    assert 'name="feedback" value="each"' in form and "data-reveal-note" in form
    assert "모의고사는 시험 시간 동안 정답을 보여 주지 않고" in form
    assert "정답과 해설은 다 풀고 나서 결과에서 봅니다." in quiz


def _start_with_feedback(client, topic) -> QuizSession:
    response = client.post(
        reverse("study:quiz_start", args=[topic.pk]),
        {"mode": "stage", "stage": "intro", "size": "5", "feedback": "each"},
    )
    assert response.status_code == 302
    return QuizSession.objects.latest("pk")


def test_feedback_after_each_question_shows_the_key_then_moves_on(client, user, topic):
    make_bank(topic, rounds=(("2022", "1"),), subjects=1, per_subject=5)
    client.force_login(user)
    session = _start_with_feedback(client, topic)
    assert session.feedback_each
    answer = reverse("study:quiz_answer", args=[session.pk])

    wrong = client.post(
        answer,
        {"position": 0, "question_id": session.question_ids[0], "choice": 1},
        **HTMX,
    ).content.decode()
    assert 'data-outcome="wrong"' in wrong and "정답은 2번입니다." in wrong
    assert 'class="chosen-wrong"' in wrong and "data-next" in wrong
    assert "<html" not in wrong
    following = client.get(
        reverse("study:quiz", args=[session.pk]), **HTMX
    ).content.decode()
    assert f'value="{session.question_ids[1]}"' in following
    for position in range(1, 5):
        last = client.post(
            answer,
            {
                "position": position,
                "question_id": session.question_ids[position],
                "choice": 2,
            },
            **HTMX,
        ).content.decode()
    assert 'data-outcome="correct"' in last
    assert reverse("study:results", args=[session.pk]) in last  # 결과 보기
    session.refresh_from_db()
    assert session.status == "finished" and Attempt.objects.count() == 5


def test_a_reload_shows_the_feedback_card_again_until_the_next_question(
    client, user, topic
):
    """The card replaces the address with its own page (?answered=N), so a
    reload keeps the verdict; 다음 문제 puts the plain address back."""
    make_bank(topic, rounds=(("2022", "1"),), subjects=1, per_subject=5)
    client.force_login(user)
    session = _start_with_feedback(client, topic)
    quiz_url = reverse("study:quiz", args=[session.pk])
    card = client.post(
        reverse("study:quiz_answer", args=[session.pk]),
        {"position": 0, "question_id": session.question_ids[0], "choice": 1},
        **HTMX,
    )
    assert card["HX-Replace-Url"] == f"{quiz_url}?answered=0"
    reloaded = client.get(card["HX-Replace-Url"]).content.decode()
    assert 'data-outcome="wrong"' in reloaded and "정답은 2번입니다." in reloaded
    following = client.get(quiz_url, **HTMX)
    assert following["HX-Replace-Url"] == quiz_url
    assert f'value="{session.question_ids[1]}"' in following.content.decode()


def test_feedback_without_javascript_is_a_page_of_its_own(client, user, topic):
    make_bank(topic, rounds=(("2022", "1"),), subjects=1, per_subject=5)
    client.force_login(user)
    session = _start_with_feedback(client, topic)

    response = client.post(
        reverse("study:quiz_answer", args=[session.pk]),
        {"position": 0, "question_id": session.question_ids[0], "choice": 5},
    )

    assert response["Location"].endswith("?answered=0")
    html = client.get(response["Location"]).content.decode()
    assert 'data-outcome="unsure"' in html and "모르겠음으로 답했습니다." in html
    ordinary = start(user, topic, size=5)
    plain = client.get(
        reverse("study:quiz", args=[ordinary.pk]) + "?answered=0"
    ).content.decode()
    assert "data-outcome" not in plain  # only sessions that asked for it


def test_a_mock_ignores_the_feedback_choice(client, user, topic):
    make_bank(topic, rounds=(("2022", "1"),), subjects=2, per_subject=5)
    client.force_login(user)
    client.post(
        reverse("study:quiz_start", args=[topic.pk]),
        {"mode": "mock", "per_subject": "5", "feedback": "each"},
    )
    session = QuizSession.objects.get(mode=QuizMode.MOCK)
    assert not session.feedback_each


def test_repeat_grade_badges_come_translated(client, user, topic):
    question = make_question(topic, 1)
    question.__class__.objects.filter(pk=question.pk).update(
        embedding_status=EmbeddingStatus.READY,
        related_threshold_version="t1",
        round_count=2,
        repeat_count=1,
        related_grade="신출",
    )
    client.force_login(user)
    url = reverse("study:related_types_bulk", args=[topic.pk])
    body = json.dumps({"ids": [question.pk]})

    korean = client.post(url, body, content_type="application/json").json()
    english = client.post(
        url, body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    ).json()

    assert korean["results"][str(question.pk)]["grade_label"] == "신출"
    label = english["results"][str(question.pk)]["grade_label"]
    assert label and not HANGUL.search(label)


@pytest.mark.parametrize("language", ["ko", "en"])
def test_menus_have_no_django_placeholder(client, user, topic, staff_user, language):
    """The settings page's exam menu read "- Select an option -" (Django's
    label, untranslated in Korean); so did admin menus."""
    headers = {"HTTP_ACCEPT_LANGUAGE": language}
    client.force_login(staff_user)
    pages = [
        client.get(reverse("study:settings"), **headers),
        client.get(reverse("admin:study_learnersettings_add"), **headers),
        client.get(reverse("admin:study_quizsession_changelist"), **headers),
    ]
    for page in pages:
        assert page.status_code == 200
        assert "Select an option" not in page.content.decode()


def test_every_field_the_admin_shows_has_a_label():
    """ "Ai explanation model": a field with no verbose name shows its
    attribute name, in English, in the Korean admin too."""
    request = RequestFactory().get("/")
    request.user = get_user_model()(is_staff=True, is_superuser=True)
    unlabeled = []
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in ("study", "publishing"):
            continue
        names = set(flatten_fieldsets(model_admin.get_fieldsets(request, None)))
        names |= set(model_admin.get_readonly_fields(request, None))
        names |= {
            n for n in model_admin.get_list_display(request) if isinstance(n, str)
        }
        names |= {n for n in model_admin.list_filter if isinstance(n, str)}
        for name in names:
            try:
                field = model._meta.get_field(name)
            except Exception:
                continue  # a method or an annotation: labelled where defined
            if str(field.verbose_name) == name.replace("_", " "):
                unlabeled.append(f"{model.__name__}.{name}")
    assert unlabeled == []


def test_an_empty_topic_points_to_adding_questions_not_to_a_quiz(client, user, topic):
    """No questions yet: the owner gets 문제 가져오기 / 문제 추가 where the
    quiz form would be."""
    client.force_login(user)
    page = client.get(reverse("study:topic", args=[topic.pk])).content.decode()
    assert "data-empty-bank" in page and "아직 이 토픽에 문제가 없습니다." in page
    assert reverse("study:quiz_start", args=[topic.pk]) not in page
    assert page.count(reverse("study:import_new", args=[topic.pk])) == 1
    make_bank(topic, rounds=(("2022", "1"),), subjects=1, per_subject=5)
    page = client.get(reverse("study:topic", args=[topic.pk])).content.decode()
    assert "data-empty-bank" not in page
    assert reverse("study:quiz_start", args=[topic.pk]) in page
