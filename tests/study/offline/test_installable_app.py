"""The installable app: manifest in Korean and English, the service worker
served from the root with the app shell's files, the offline page."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from study.offline.app_shell import shell_static_paths

pytestmark = pytest.mark.django_db


def test_the_manifest_speaks_the_pages_language(client):
    korean = client.get(reverse("study:web_app_manifest")).json()
    english = client.get(
        reverse("study:web_app_manifest"), HTTP_ACCEPT_LANGUAGE="en"
    ).json()

    assert korean["lang"] == "ko" and korean["short_name"] == "기출"
    assert english["lang"] == "en" and english["short_name"] == "Gichul"
    assert "Gichul" in english["name"] and "기출" in korean["name"]
    assert korean["display"] == "standalone" and korean["start_url"] == "/"
    sizes = {icon["sizes"] for icon in korean["icons"]}
    assert {"192x192", "512x512"} <= sizes
    assert any(icon.get("purpose") == "maskable" for icon in korean["icons"])
    for icon in korean["icons"]:
        assert finders.find(icon["src"].removeprefix("/static/")), icon


def test_the_manifest_has_its_content_type_and_every_page_links_it(client, user):
    response = client.get(reverse("study:web_app_manifest"))
    assert response["Content-Type"] == "application/manifest+json"
    client.force_login(user)
    home = client.get(reverse("study:home")).content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest">' in home
    assert 'data-sw-url="/sw.js"' in home and f'data-user-id="{user.pk}"' in home


def test_the_service_worker_is_served_from_the_root_with_the_shell(client):
    response = client.get("/sw.js")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert (
        "no-cache" in response["Cache-Control"]
        or "max-age=0" in response["Cache-Control"]
    )
    config = json.loads(
        re.search(r"const CONFIG = (\{.*\});", response.content.decode())[1]
    )
    assert config["offlineUrl"] == "/offline/"
    assert "/static/js/offline.js" in config["precache"]
    assert "/jsi18n/" in config["precache"]
    assert len(config["version"]) == 16
    # Every file it will cache exists (a missing one fails the install).
    for path in shell_static_paths():
        assert finders.find(path), path
    # No inline script or eval in the worker either.
    assert "eval(" not in response.content.decode()


def test_the_offline_page_needs_no_sign_in_and_writes_nothing(client):
    response = client.get(reverse("study:offline_page"))
    assert response.status_code == 200
    assert "연결이 없습니다" in response.content.decode()
    assert "content-security-policy" in {k.lower() for k in response.headers}


def test_the_quiz_page_offers_the_session_for_the_device(client, user, topic):
    from tests.study.learner_helpers import make_bank, start

    make_bank(topic)
    session = start(user, topic, size=5)
    client.force_login(user)
    html = client.get(reverse("study:quiz", args=[session.pk])).content.decode()
    assert f'data-bundle-url="/quiz/{session.pk}/offline"' in html


def test_the_offline_page_in_english_has_no_korean(client, user):
    client.force_login(user)
    html = client.get(
        reverse("study:offline_page"), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    text = re.sub(r"<[^>]+>", " ", html.split("<body", 1)[1])
    text = text.replace("한국어", "")  # the language menu names itself
    assert "No connection" in text
    assert not re.search(r"[\uac00-\ud7a3]", text), text
