"""Fixtures for the end-to-end tests: headless Chromium driving the live server.

Playwright's sync API runs an asyncio event loop in the test thread, so Django
would refuse ORM calls made from it (test data, assertions on the database)
unless DJANGO_ALLOW_ASYNC_UNSAFE is set. The live server runs in its own
thread with its own connection, so this is safe here.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

import pytest

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
]
PHONE_VIEWPORT = {"width": 390, "height": 844}
DESKTOP_VIEWPORT = {"width": 1280, "height": 900}
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
DEFAULT_TIMEOUT_MS = 10_000

LEARNER = {"username": "learner", "password": "pw-learner-1"}
SUBJECTS = ("안전관리론", "인간공학 및 시스템안전공학", "기계위험방지기술")
ROUNDS = ((2022, "1"), (2023, "1"))
PER_ROUND = 15  # 5 questions of each subject per round


def _require_chromium() -> None:
    if os.path.exists(CHROMIUM):
        return
    if os.environ.get("CI") == "true":
        pytest.fail(
            f"{CHROMIUM} is missing: Chromium must be installed in CI to run the "
            "browser tests (Debian: apt-get install chromium).",
            pytrace=False,
        )
    reason = (
        f"!!! BROWSER TESTS SKIPPED: {CHROMIUM} NOT FOUND. Install Chromium "
        "(Debian: apt-get install chromium) to run the end-to-end tests. !!!"
    )
    warnings.warn(reason, stacklevel=1)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


# Runs in every page before its own scripts (init scripts are exempt from the
# page's CSP): any violation is reported to the console, where CSPWatch sees it.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.violatedDirective + " blocked " +
    (e.blockedURI || "inline") + " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


class CSPWatch:
    """Every tab of a context: CSP violations, and documents served without a CSP."""

    def __init__(self, context) -> None:
        self.violations: list[str] = []
        self.unprotected: list[str] = []
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        context.on("console", self._console)
        context.on("response", self._response)

    def _console(self, message) -> None:
        text = message.text
        if "CSP violation" in text or "Content Security Policy" in text:
            self.violations.append(text)

    def _response(self, response) -> None:
        if response.request.resource_type != "document" or response.status >= 300:
            return
        if "content-security-policy" not in response.headers:
            self.unprotected.append(response.url)

    def take(self) -> list[str]:
        """Hand over (and forget) what was seen, for a test that expects some."""
        seen, self.violations = self.violations, []
        return seen


def _new_context(browser, live_server, viewport, **options):
    options = {"locale": "ko-KR", "timezone_id": "Asia/Seoul", **options}
    context = browser.new_context(
        viewport=viewport, base_url=live_server.url, **options
    )
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    return context


@pytest.fixture
def csp(page):
    return page.context.csp_watch


def _tab(browser, live_server, viewport, **options):
    """A fresh tab (own cookies) that fails the test on JS errors and on any
    Content-Security-Policy violation; options go to the browser context."""
    context = _new_context(browser, live_server, viewport, **options)
    context.csp_watch = watch = CSPWatch(context)
    tab = context.new_page()
    js_errors: list[str] = []
    tab.on("pageerror", lambda error: js_errors.append(str(error)))
    try:
        yield tab
    finally:
        context.close()
    assert not js_errors, f"JavaScript errors on the page: {js_errors}"
    assert not watch.violations, f"CSP violations: {watch.violations}"
    assert not watch.unprotected, f"pages without a CSP: {watch.unprotected}"


@pytest.fixture
def page(request, browser, live_server):
    """A phone-sized tab, unless parametrised (indirect) with a viewport."""
    yield from _tab(browser, live_server, getattr(request, "param", PHONE_VIEWPORT))


@pytest.fixture
def desktop_page(browser, live_server):
    yield from _tab(browser, live_server, DESKTOP_VIEWPORT)


def sized_tab(request, browser, live_server, **options):
    """A tab for a test parametrised over "desktop" and "phone"; the tab
    carries its size name for screenshots."""
    viewport = DESKTOP_VIEWPORT if request.param == "desktop" else PHONE_VIEWPORT
    for tab in _tab(browser, live_server, viewport, **options):
        tab.size_name = request.param
        yield tab


@pytest.fixture
def screenshot():
    """screenshot(page, "name") saves test-artifacts/e2e/name.png (full page)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")
        path = ARTIFACTS / f"{safe}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def learner(transactional_db):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(**LEARNER)


@pytest.fixture
def study_topic(learner):
    """A topic owned by the learner: 2 rounds × 15 questions over 3 subjects.

    Numbers 1-5, 6-10 and 11-15 of each round belong to the three subjects
    in exam order; the correct choice cycles through 1-4; every question has
    an explanation (해설) so leaks of it into the quiz are detectable.
    """
    from study.models import Topic
    from tests.conftest import make_question

    topic = Topic.objects.create(name="산업안전기사", owner=learner)
    for year, session in ROUNDS:
        for number in range(1, PER_ROUND + 1):
            subject = SUBJECTS[(number - 1) // 5]
            make_question(
                topic,
                number,
                year=year,
                session=session,
                subject=subject,
                stem=f"{year}년 {session}회 {number}번 ({subject}): 다음 중 옳은 것은?",
                choice_1=f"{year}-{number} 첫째 보기",
                choice_2=f"{year}-{number} 둘째 보기",
                choice_3=f"{year}-{number} 셋째 보기",
                choice_4=f"{year}-{number} 넷째 보기",
                correct_choice=(number - 1) % 4 + 1,
                explanation=f"{year}-{number} 해설 본문",
            )
    return topic
