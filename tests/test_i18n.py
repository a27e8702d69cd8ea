"""i18n: Korean by default, a complete English catalogue, and a language switch.

The English test renders the main pages with a learner whose topic, questions
and subjects are ASCII, so any Hangul left on the page is untranslated UI.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from study.models import LearnerSettings, QuizMode, Topic
from study.services.exam_plans import exam_plan_set
from tests.conftest import make_question
from tests.study.learner_helpers import answer_all, start

ROOT = Path(settings.BASE_DIR)
HANGUL = re.compile(r"[\uac00-\ud7a3]")
SKIP_DIRS = {".venv", "var", "node_modules", ".git"}


def catalogues() -> list[Path]:
    """Every .po of the project: locale/ and each app's */locale/."""
    found = []
    for path in ROOT.rglob("*.po"):
        parts = path.relative_to(ROOT).parts
        if SKIP_DIRS.isdisjoint(parts) and "locale" in parts:
            found.append(path)
    return sorted(found)


def test_the_project_catalogues_exist():
    names = {p.relative_to(ROOT).as_posix() for p in catalogues()}
    assert "locale/en/LC_MESSAGES/django.po" in names
    assert "locale/en/LC_MESSAGES/djangojs.po" in names


def test_catalogues_agree_where_they_share_a_message():
    """locale/ wins over the apps' catalogues at run time: a message both hold
    with different English would show the root's words where the app meant
    its own (give one of them a context instead)."""
    seen: dict[tuple, tuple[str, str]] = {}
    clashes = []
    for path in catalogues():
        if path.name != "django.po":
            continue
        for entry in polib.pofile(str(path)).translated_entries():
            key = (entry.msgctxt, entry.msgid)
            english = entry.msgstr or str(sorted(entry.msgstr_plural.items()))
            if key in seen and seen[key][0] != english:
                clashes.append((key, seen[key], (english, str(path))))
            seen.setdefault(key, (english, str(path)))
    assert clashes == []


@pytest.mark.parametrize(
    "po_path", catalogues(), ids=lambda p: str(p.relative_to(ROOT))
)
def test_every_message_is_translated(po_path):
    po = polib.pofile(str(po_path))
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    empty_plural = [
        e.msgid
        for e in po.translated_entries()
        if e.msgid_plural and not all(e.msgstr_plural.values())
    ]
    assert not untranslated, untranslated[:10]
    assert not fuzzy, fuzzy[:10]
    assert not empty_plural, empty_plural[:10]


PLACEHOLDER = re.compile(r"%\(\w+\)s|%%|\{\w*\}")


@pytest.mark.parametrize(
    "po_path", catalogues(), ids=lambda p: str(p.relative_to(ROOT))
)
def test_translations_keep_the_placeholders_and_markup(po_path):
    """A lost %(n)s or <a href> would break the page or drop a number."""
    tag = re.compile(r"<(/?\w+)")
    for entry in polib.pofile(str(po_path)).translated_entries():
        translations = (
            list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        )
        source = entry.msgid_plural or entry.msgid
        for text in translations:
            assert sorted(set(PLACEHOLDER.findall(text))) == sorted(
                set(PLACEHOLDER.findall(source))
            ), (entry.msgid, text)
            # Markup kept; a <span lang="ko"> may mark Korean data tokens.
            tags = [t for t in tag.findall(text) if t not in ("span", "/span")]
            assert tags == [
                t for t in tag.findall(source) if t not in ("span", "/span")
            ], (
                entry.msgid,
                text,
            )


@pytest.mark.parametrize(
    "po_path", catalogues(), ids=lambda p: str(p.relative_to(ROOT))
)
def test_the_committed_mo_matches_the_po(po_path):
    """The runtime reads the .mo; `make messages` (or compilemessages) must
    have been run after the last .po edit."""
    mo_path = po_path.with_suffix(".mo")
    assert mo_path.exists(), f"{mo_path} missing: run `make messages`"

    def entries(catalogue):
        out = {}
        for e in catalogue:
            if e.obsolete or not e.msgid or "fuzzy" in e.flags:
                continue
            value = (
                tuple(v for _k, v in sorted(e.msgstr_plural.items()))
                if e.msgid_plural
                else e.msgstr
            )
            if value:
                out[(e.msgctxt, e.msgid)] = value
        return out

    assert entries(polib.mofile(str(mo_path))) == entries(polib.pofile(str(po_path)))


def untranslated_template_text(source: str) -> list[str]:
    source = re.sub(r"\{#.*?#\}", "", source, flags=re.S)
    source = re.sub(
        r"\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}", "", source, flags=re.S
    )
    source = re.sub(
        r"\{%\s*blocktranslate.*?\{%\s*endblocktranslate\s*%\}", "", source, flags=re.S
    )
    source = re.sub(r"\{%\s*translate\s+\"[^\"]*\".*?%\}", "", source)
    source = re.sub(r"_\(\"[^\"]*\"\)", "", source)
    return [line.strip() for line in source.splitlines() if HANGUL.search(line)]


def test_no_template_has_korean_outside_translation_tags():
    leftovers = {}
    for path in sorted((ROOT / "templates").rglob("*.html")):
        lines = untranslated_template_text(path.read_text(encoding="utf-8"))
        if lines:
            leftovers[str(path.relative_to(ROOT))] = lines
    assert not leftovers, leftovers


def test_the_scripts_translate_their_text():
    for name in ("app.js", "mock.js"):
        source = (ROOT / "static" / "js" / name).read_text(encoding="utf-8")
        for line in source.splitlines():
            if HANGUL.search(line) and not line.lstrip().startswith("//"):
                assert "gettext(" in line, (name, line)


# --- the language the pages are in ---------------------------------------------


def page_lang(html: str) -> str:
    return re.search(r'<html lang="([^"]+)"', html).group(1)


def test_korean_is_the_default(client, user):
    client.force_login(user)
    html = client.get(reverse("study:home")).content.decode()
    assert page_lang(html) == "ko"
    assert "공부할 시험" in html and "Exams to study" not in html


def test_the_browser_language_and_the_cookie_work_for_visitors(client):
    login = reverse("login")
    assert (
        page_lang(client.get(login, HTTP_ACCEPT_LANGUAGE="en").content.decode()) == "en"
    )
    client.post(reverse("set_language"), {"language": "en", "next": login})
    html = client.get(login).content.decode()
    assert page_lang(html) == "en" and "Sign in" in html
    client.post(reverse("set_language"), {"language": "ko", "next": login})
    assert page_lang(client.get(login).content.decode()) == "ko"


def test_a_learners_choice_is_stored_and_follows_them_to_another_browser(client, user):
    client.force_login(user)
    response = client.post(
        reverse("set_language"), {"language": "en", "next": reverse("study:settings")}
    )
    assert response.status_code == 302 and response["Location"] == reverse(
        "study:settings"
    )
    assert LearnerSettings.objects.get(user=user).language == "en"
    html = client.get(reverse("study:settings")).content.decode()
    assert page_lang(html) == "en" and "Interface language" in html

    elsewhere = Client()  # no cookie, a Korean browser
    elsewhere.force_login(user)
    html = elsewhere.get(
        reverse("study:home"), HTTP_ACCEPT_LANGUAGE="ko"
    ).content.decode()
    assert page_lang(html) == "en"

    # The stored preference wins over a stale cookie in that browser.
    elsewhere.cookies[settings.LANGUAGE_COOKIE_NAME] = "ko"
    assert page_lang(elsewhere.get(reverse("study:home")).content.decode()) == "en"

    client.post(reverse("set_language"), {"language": "ko"})
    assert LearnerSettings.objects.get(user=user).language == "ko"
    assert page_lang(client.get(reverse("study:home")).content.decode()) == "ko"


def test_a_session_from_before_the_preference_existed_reads_it_once(client, user):
    from study.middleware import SESSION_KEY

    LearnerSettings.objects.create(user=user, language="en")
    client.force_login(user)
    session = client.session
    del session[SESSION_KEY]
    session.save()
    assert page_lang(client.get(reverse("study:settings")).content.decode()) == "en"
    assert client.session[SESSION_KEY] == "en"


def test_applying_the_preference_costs_no_query(client, user):
    """The hot views' query counts (test_query_counts) stay as they were."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(user)
    with CaptureQueriesContext(connection) as korean:
        client.get(reverse("study:settings"))
    client.post(reverse("set_language"), {"language": "en"})
    with CaptureQueriesContext(connection) as english:
        html = client.get(reverse("study:settings")).content.decode()
    assert page_lang(html) == "en"
    assert len(english.captured_queries) == len(korean.captured_queries)


def test_an_unknown_language_changes_nothing(client, user):
    client.force_login(user)
    client.post(reverse("set_language"), {"language": "xx"})
    assert not LearnerSettings.objects.filter(user=user).exists()
    assert page_lang(client.get(reverse("study:home")).content.decode()) == "ko"


def test_switching_language_is_post_only(client, user):
    client.force_login(user)
    assert client.get(reverse("set_language") + "?language=en").status_code == 405
    assert not LearnerSettings.objects.filter(user=user).exists()


def test_the_preference_survives_with_other_settings(client, user):
    LearnerSettings.objects.create(user=user, desired_retention=0.85)
    client.force_login(user)
    client.post(reverse("set_language"), {"language": "en"})
    stored = LearnerSettings.objects.get(user=user)
    assert (stored.language, stored.desired_retention) == ("en", 0.85)


def test_the_script_catalogue_follows_the_language(client, user):
    client.force_login(user)
    assert "Collapse" not in client.get(reverse("javascript-catalog")).content.decode()
    client.post(reverse("set_language"), {"language": "en"})
    assert "Collapse" in client.get(reverse("javascript-catalog")).content.decode()


# --- the main pages in English ------------------------------------------------

KOREAN_MARKED = re.compile(r"<(\w+)\b[^>]*\blang=\"ko\"[^>]*>.*?</\1>", re.S)


def hangul_left(html: str) -> list[str]:
    """Hangul outside elements marked lang="ko" (the language menu's 한국어)."""
    html = KOREAN_MARKED.sub("", html)
    pieces = re.split(r"[<>]", html)  # text nodes and tag insides
    return sorted({" ".join(p.split())[:80] for p in pieces if HANGUL.search(p)})


@pytest.fixture
def english_learner(db, settings, tmp_path):
    """A learner with ASCII content and history, who chose English."""
    settings.MEDIA_ROOT = tmp_path
    learner = get_user_model().objects.create_user(username="reader", password="pw-1")
    topic = Topic.objects.create(name="Safety Engineer", owner=learner)
    for year in (2022, 2023):
        for n in range(1, 13):
            make_question(
                topic,
                n,
                year=year,
                exam_name="Safety Engineer",
                subject=f"Subject {'ABC'[(n - 1) // 4]}",
                stem=f"Question {year}-{n}: which is right?",
                choice_1="alpha",
                choice_2="beta",
                choice_3="gamma",
                choice_4="delta",
                explanation="Because beta.",
            )
    done = answer_all(
        start(learner, topic, mode=QuizMode.ROUND, round_key="2022-1"),
        lambda position, _qid: (2, 1, 5)[position % 3],
    )
    exam_plan_set(
        user=learner,
        topic=topic,
        exam_date=timezone.localdate() + timedelta(days=30),
        daily_size=20,
    )
    client = Client()
    client.force_login(learner)
    client.post(reverse("set_language"), {"language": "en"})
    return client, learner, topic, done


def test_main_pages_in_english_have_no_korean(english_learner, staff_user):
    client, learner, topic, done = english_learner
    open_quiz = start(learner, topic, mode=QuizMode.STAGE, stage="intro", size=5)
    mock = start(learner, topic, mode=QuizMode.MOCK, per_subject=2)
    t = topic.pk
    pages = {
        "home": reverse("study:home"),
        "topic": reverse("study:topic", args=[t]),
        "quiz": reverse("study:quiz", args=[open_quiz.pk]),
        "results": reverse("study:results", args=[done.pk]),
        "results wrong": reverse("study:results", args=[done.pk]) + "?tab=wrong",
        "review queue": reverse("study:review_queue", args=[t]) + "?tab=pending_review",
        "overview": reverse("study:overview", args=[t]),
        "settings": reverse("study:settings"),
        "documents": reverse("study:documents", args=[t]),
        "search": reverse("study:document_search", args=[t]),
        "forecast": reverse("study:forecast", args=[t]),
        "plan": reverse("study:plan", args=[t]),
        "calibration": reverse("study:calibration", args=[t]),
        "mock": reverse("study:quiz", args=[mock.pk]),
        "question with its evidence card": reverse(
            "study:question", args=[done.question_ids[0]]
        ),
        "answer review": reverse("study:answer_review", args=[t]),
        "subjects": reverse("study:topic_subjects", args=[t]),
    }
    found = {}
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        html = response.content.decode()
        assert page_lang(html) == "en", name
        if left := hangul_left(html):
            found[name] = left

    visitor = Client()
    html = visitor.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    if left := hangul_left(html):
        found["login"] = left
    admin = Client()
    admin.force_login(staff_user)
    html = admin.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    if left := hangul_left(html):
        found["admin index"] = left

    assert not found, "\n".join(f"{k}: {v}" for k, v in found.items())
