"""i18n of the Python side: Korean msgids, a complete English catalogue per app.

Korean stays the default (every other test asserts Korean text); these tests
switch to English and check that what Python produces for a learner or an
admin (form labels and errors, messages, model and choice labels, the
rate-limit answer, admin actions and filters) comes out in English.
"""

import ast
import gettext as gnu_gettext
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib import admin
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone, translation

from study.ai.states import plain_reason
from study.forecast.calibration import Tally, subject_line
from study.forms import ExamPlanForm, ExamSpecForm, QuestionForm, QuizStartForm
from study.models import (
    AIExplanationStatus,
    Outcome,
    Question,
    QuizMode,
    RateLimitHit,
)
from study.models.question import RELATED_GRADE_NAMES
from study.related.grades import grade_for
from study.services.rate_limits import Rate
from study.templatetags.ai_state import duration_ko
from study.templatetags.forecast_tags import pct
from tests.conftest import make_question

HANGUL = re.compile(r"[\uac00-\ud7a3]")
ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = [
    ROOT / "study/locale/en/LC_MESSAGES/django.po",
    ROOT / "publishing/locale/en/LC_MESSAGES/django.po",
]


def _po_entries(path: Path) -> list[dict[str, str]]:
    """Each entry's fields (msgctxt, msgid, msgid_plural, msgstr, msgstr[n])."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        fields: dict[str, str] = {}
        current = None
        for line in block.splitlines():
            match = re.match(
                r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d\])?) (".*")$', line
            )
            if match:
                current = match[1]
                fields[current] = ast.literal_eval(match[2])
            elif line.startswith('"') and current:
                fields[current] += ast.literal_eval(line)
        if fields.get("msgid"):
            entries.append(fields)
    return entries


# Korean input syntax that an English text still has to quote (round formats).
KOREAN_INPUT_TOKENS = re.compile(r"추가시험|(?<![\uac00-\ud7a3])가(?![\uac00-\ud7a3])")


@pytest.fixture(autouse=True)
def _back_to_the_default_language():
    """A request leaves its language active in this thread: reset it after."""
    yield
    translation.deactivate()


def _english(client):
    """The client asks for English the way a browser does."""
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: p.parts[-4])
def test_every_msgid_has_an_english_translation_in_po_and_mo(po):
    entries = _po_entries(po)
    assert len(entries) > 30
    mo = gnu_gettext.GNUTranslations(po.with_suffix(".mo").open("rb"))
    for entry in entries:
        translations = [v for k, v in entry.items() if k.startswith("msgstr")]
        assert translations and all(t.strip() for t in translations), entry
        assert not any(
            HANGUL.search(KOREAN_INPUT_TOKENS.sub("", t)) for t in translations
        ), entry
        key = entry["msgid"]
        if "msgctxt" in entry:
            key = f"{entry['msgctxt']}\x04{key}"
        # The compiled .mo (committed: runtime needs no gettext tools) is current.
        if "msgid_plural" in entry:
            assert mo._catalog.get((key, 0)) == entry["msgstr[0]"], entry
        else:
            assert mo._catalog.get(key) == entry["msgstr"], entry


def test_korean_stays_the_default():
    assert django_settings.LANGUAGE_CODE == "ko"
    assert Question._meta.verbose_name == "문항"
    assert QuizMode.MOCK.label == "모의고사"


@pytest.mark.django_db
def test_forms_speak_english(topic):
    with translation.override("en"):
        spec = ExamSpecForm(topic=topic)
        assert spec.fields["questions_per_subject"].label == "Questions per subject"
        assert spec.fields["time_limit_minutes"].help_text == (
            "Leave empty for 30 minutes per subject."
        )
        plan = ExamPlanForm(
            data={
                "topic": topic.pk,
                "exam_date": (timezone.localdate() - timedelta(days=1)).isoformat(),
                "daily_size": 30,
            },
            user=topic.owner,
        )
        assert not plan.is_valid()
        assert plan.errors["exam_date"] == ["The exam date must be today or later."]
        assert str(plan.fields["daily_size"].help_text).startswith(
            "Number of questions in Today's plan ("
        )
        question = QuestionForm(topic=topic)
        assert [str(label) for _, label in question.fields["correct_choice"].choices][
            :2
        ] == ["No. 1", "No. 2"]
        assert question.fields["stem"].label == "Question"
        start = QuizStartForm(data={"mode": QuizMode.SUBJECT}, topic=topic)
        assert not start.is_valid()
        assert start.error_text() == (
            "Cannot start the quiz: Choose at least one subject."
        )
        # The same form in the default language: the Korean source strings.
    start = QuizStartForm(data={"mode": QuizMode.SUBJECT}, topic=topic)
    assert not start.is_valid()
    assert start.error_text() == "퀴즈를 시작할 수 없습니다: 과목을 하나 이상 고르세요."


def test_model_and_choice_labels_and_plain_lines_speak_english():
    with translation.override("en"):
        assert Question._meta.verbose_name == "Question"
        assert Question._meta.verbose_name_plural == "Questions"
        assert Question._meta.get_field("exam_session").verbose_name == "Round"
        assert QuizMode.MOCK.label == "Mock exam"
        assert (Outcome.CORRECT.label, Outcome.UNSURE.label) == (
            "Correct",
            "I don't know",
        )
        assert AIExplanationStatus.STALE.label == "Outdated"
        assert plain_reason("llm_timeout") == (
            "The LLM did not answer within the time limit"
        )
        assert plain_reason("no-such-code") == "Failed for an unknown reason"
        tally = Tally()
        for outcome in [Outcome.CORRECT] * 3 + [Outcome.WRONG, Outcome.UNSURE]:
            tally.add(outcome, False)
        line = subject_line(tally)
        assert line.startswith(
            "In this subject 75% of the answers you chose were right, "
            "and 20% were “I don't know”."
        )
        assert "(Only 5 answers so far: too early to judge.)" in line
        assert Rate.parse("5/10m").label == "5 times per 10 minutes"
        assert duration_ko(95) == "1 minute 35 seconds"
        assert duration_ko(7200) == "2 hours"
        assert (pct(0.004), pct(0.995), pct(0.5)) == ("under 1%", "over 99%", "50%")
    assert duration_ko(95) == "1분 35초"
    assert pct(0.004) == "1% 미만"


@pytest.mark.django_db
def test_every_model_verbose_name_and_choice_is_english():
    """New labels must reach the catalogue (makemessages) or this fails."""
    from django.apps import apps

    untranslated = []
    with translation.override("en"):
        for label in ("study", "publishing"):
            for model in apps.get_app_config(label).get_models():
                meta = model._meta
                texts = [meta.verbose_name, meta.verbose_name_plural]
                for field in meta.get_fields():
                    texts.append(getattr(field, "verbose_name", ""))
                    texts.append(getattr(field, "help_text", ""))
                    texts.extend(
                        str(choice_label)
                        for _, choice_label in getattr(field, "flatchoices", ())
                    )
                untranslated += [
                    f"{model.__name__}: {t}"
                    for t in map(str, texts)
                    if HANGUL.search(t) and t not in AUTONYMS
                ]
    assert untranslated == []


@pytest.mark.django_db
def test_every_admin_action_and_filter_title_is_english(rf, staff_user):
    untranslated = []
    request = rf.get("/admin/")
    request.user = staff_user
    with translation.override("en"):
        for model, model_admin in admin.site._registry.items():
            if model._meta.app_label not in ("study", "publishing"):
                continue
            for name, description in model_admin.get_action_choices(request, []):
                if HANGUL.search(str(description)):
                    untranslated.append(f"{model.__name__} action {name}")
            for item in model_admin.list_filter:
                title = getattr(item, "title", "")
                if HANGUL.search(str(title)):
                    untranslated.append(f"{model.__name__} filter {title}")
            for item in model_admin.list_display:
                attr = (
                    getattr(model_admin, item, None) if isinstance(item, str) else item
                )
                description = getattr(attr, "short_description", "")
                if HANGUL.search(str(description)):
                    untranslated.append(f"{model.__name__} column {item}")
            for title, _ in model_admin.get_fieldsets(request):
                if title and HANGUL.search(str(title)):
                    untranslated.append(f"{model.__name__} fieldset {title}")
    assert untranslated == []


@pytest.mark.django_db
def test_admin_action_message_is_english(client, staff_user, topic):
    questions = [make_question(topic, n) for n in (1, 2)]
    _english(client).force_login(staff_user)
    url = reverse("admin:study_question_changelist")

    page = client.get(url)
    assert "Delete selected questions (soft)" in page.content.decode()
    response = client.post(
        url,
        {"action": "soft_delete", "_selected_action": [q.pk for q in questions]},
    )

    assert response.status_code == 302
    assert [m.message for m in get_messages(response.wsgi_request)] == [
        "Deleted 2 questions."
    ]


@pytest.mark.django_db
def test_view_message_is_english(client, user):
    _english(client).force_login(user)

    response = client.post(reverse("study:home"), {"name": "Safety"})

    assert response.status_code == 302
    assert [m.message for m in get_messages(response.wsgi_request)] == [
        "Created the topic 'Safety'."
    ]


@pytest.mark.django_db
def test_rate_limit_429_is_english(client, user, topic, settings):
    settings.LLM_BASE_URL = "http://127.0.0.1:9/v1"  # never reached
    settings.AI_RATE_LIMITS = {**settings.AI_RATE_LIMITS, "explanation": "0/h"}
    question = make_question(topic, 1)
    _english(client).force_login(user)

    response = client.post(
        reverse("study:ai_explanation_api", args=[question.pk]),
        data=json.dumps({"regenerate": False}),
        content_type="application/json",
    )

    assert response.status_code == 429
    assert response.json()["message"] == (
        "Too many AI explanation requests. The limit is 0 times per 1 hour. "
        "Try again in 60 min."
    )
    assert not RateLimitHit.objects.exists()


def test_every_stored_related_grade_has_an_english_name():
    """Grades are stored in Korean; pages translate the stored value."""
    grades = {
        grade_for(round_count=n, latest_year=year, recent_floor=2020)
        for n in range(2, 9)
        for year in (2015, 2024)
    }
    assert grades <= set(RELATED_GRADE_NAMES)
    with translation.override("en"):
        names = [translation.gettext(g) for g in RELATED_GRADE_NAMES]
    assert names == [
        "Perennial",
        "Often repeated",
        "Repeated",
        "Newly repeated",
        "Recurring",
    ]


@pytest.mark.django_db
def test_admin_pages_are_english_apart_from_content(client, staff_user):
    """Every study and publishing admin list and add form, with no content in
    the database: whatever Hangul is left would be an untranslated label.
    Pages drawn by the project's own templates are the template catalogue's."""
    _english(client).force_login(staff_user)
    korean = {}
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        if meta.app_label not in ("study", "publishing"):
            continue
        urls = [reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")]
        if model_admin.has_add_permission(_request_for(staff_user)):
            urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            if Path(response.templates[0].origin.name).is_relative_to(
                ROOT / "templates"
            ):
                continue
            found = sorted(
                set(HANGUL_WORD.findall(response.content.decode())) - AUTONYMS
            )
            if found:
                korean[url] = found
    assert korean == {}


HANGUL_WORD = re.compile(r"[\uac00-\ud7a3][\uac00-\ud7a3 ]*")
# A language menu names each language in itself ("한국어", "English"), as
# Django's own language selector does: those names are not untranslated text.
AUTONYMS = {name for _, name in django_settings.LANGUAGES}


def _request_for(user):
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def test_the_related_panel_shows_the_stored_grade_translated():
    from types import SimpleNamespace

    from django.template.loader import render_to_string

    related = SimpleNamespace(
        is_ready=True,
        status="ready",
        round_count=7,
        grade=RELATED_GRADE_NAMES[0],  # stored as "단골"
        related_count=0,
        has_round=True,
        repeat=[],
        repeat_count=0,
        similar=[],
        similar_count=0,
    )
    context = {"related": related, "question": SimpleNamespace(pk=1)}
    with translation.override("en"):
        english = render_to_string("study/_related.html", context)
    korean = render_to_string("study/_related.html", context)

    assert '<span class="badge repeat-badge">Perennial</span>' in english
    assert '<span class="badge repeat-badge">단골</span>' in korean
