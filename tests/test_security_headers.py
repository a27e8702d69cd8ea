"""L8: CSP, Permissions-Policy and no-store headers; check --deploy stays clean."""

import pytest
from django.core.checks import run_checks
from django.urls import reverse

from studyproj.mail import mailer_from_url


def test_every_page_has_the_policy_without_eval_or_inline_script(client, user):
    for response in (client.get(reverse("login")), _signed_in(client, user)):
        policy = response["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["script-src"] == "'self'"
        assert directives["style-src"] == "'self'"
        assert directives["object-src"] == "'none'"
        assert directives["frame-ancestors"] == "'none'"
        assert "unsafe" not in policy
        assert "camera=()" in response["Permissions-Policy"]


def test_signed_in_pages_are_not_stored_by_caches(client, user, topic):
    client.force_login(user)
    for url in (
        reverse("study:home"),
        reverse("study:topic", args=[topic.pk]),
        reverse("study:settings"),
    ):
        assert "no-store" in client.get(url)["Cache-Control"], url


def test_anonymous_redirects_carry_no_private_cache_marker(client):
    response = client.get(reverse("study:home"))
    assert response.status_code == 302
    assert "no-store" not in response.get("Cache-Control", "")


def test_htmx_runs_without_eval_or_script_tags(client, user):
    html = _signed_in(client, user).content.decode()
    assert '"allowEval": false' in html and '"allowScriptTags": false' in html
    assert '"includeIndicatorStyles": false' in html
    assert " onsubmit=" not in html and " onclick=" not in html


@pytest.mark.parametrize("template", ["study/question.html", "study/quiz.html"])
def test_templates_have_no_inline_handlers_or_scripts(template):
    from pathlib import Path

    from django.conf import settings

    text = (Path(settings.BASE_DIR) / "templates" / template).read_text()
    assert "onsubmit=" not in text and "<script>" not in text


def test_check_deploy_is_clean_with_production_settings(settings, monkeypatch):
    # Set by the browser tests' conftest when the whole suite runs; never in prod.
    monkeypatch.delenv("DJANGO_ALLOW_ASYNC_UNSAFE", raising=False)
    settings.DEBUG = False
    settings.SECURE_SSL_REDIRECT = True
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = settings.SECURE_HSTS_PRELOAD = True
    settings.ALLOWED_HOSTS = ["study.example.com"]
    settings.SECRET_KEY = "x" * 20 + "production-like-secret-" + "y" * 30
    # Production's mailer without EMAIL_URL (the test runner swaps in locmem).
    settings.MAILERS = {"default": mailer_from_url("smtp://localhost:25")}

    messages = run_checks(include_deployment_checks=True)

    assert [m for m in messages if not m.is_silenced()] == []


def _signed_in(client, user):
    client.force_login(user)
    return client.get(reverse("study:home"))
