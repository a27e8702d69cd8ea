"""The language switch in a real browser: a learner in a Korean browser picks
English in the footer, the pages and the scripts' messages turn English, and
the longer English text does not break the layout at desktop or phone size.
Screenshots land in test-artifacts/e2e/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from study.models import LearnerSettings, QuizMode
from tests.e2e.conftest import sized_tab
from tests.e2e.test_learner_loop_browser import sign_in
from tests.study.learner_helpers import answer_all, start

pytestmark = pytest.mark.browser


@pytest.fixture(params=["desktop", "phone"])
def sized_page(request, browser, live_server):
    yield from sized_tab(request, browser, live_server)


def assert_fits(page: Page, name: str) -> None:
    """Nothing sticks out sideways: the page is no wider than the window."""
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{name}: {overflow}px wider than the window"


def test_a_learner_switches_to_english_and_the_pages_fit(
    sized_page: Page, learner, study_topic, screenshot
):
    page = sized_page
    done = answer_all(
        start(learner, study_topic, mode=QuizMode.ROUND, round_key="2022-1"),
        lambda position, _qid: (2, 1, 5)[position % 3],
    )
    sign_in(page)
    expect(page.locator("html")).to_have_attribute("lang", "ko")

    # Choosing English in the footer's menu submits it (app.js); no button press.
    page.locator("footer select[name=language]").select_option("en")
    page.wait_for_function("document.documentElement.lang === 'en'")
    expect(page.locator("h1")).to_have_text("Exams to study")
    assert LearnerSettings.objects.get(user=learner).language == "en"

    t = study_topic.pk
    for name, url in (
        ("home", "/"),
        ("topic", f"/study-topics/{t}/"),
        ("results", f"/quiz/{done.pk}/results"),
        ("review", f"/study-topics/{t}/review-queue?tab=pending_review"),
        ("settings", "/settings"),
    ):
        page.goto(url)
        expect(page.locator("html")).to_have_attribute("lang", "en")
        assert_fits(page, name)
        screenshot(page, f"i18n-en-{name}-{page.size_name}")

    # A script's message comes from the JavaScript catalogue.
    page.goto(f"/quiz/{done.pk}/results")
    expand = page.locator("[data-expand]").first
    expect(expand).to_have_text("Expand")
    expand.click()
    expect(expand).to_have_text("Collapse")

    # And back to Korean from the settings page.
    page.goto("/settings")
    page.locator("#language-settings").select_option("ko")
    page.wait_for_function("document.documentElement.lang === 'ko'")
    expect(page.locator("h1")).to_have_text("학습 설정")
    assert LearnerSettings.objects.get(user=learner).language == "ko"


def test_the_mock_exam_reads_english_in_the_browser(
    sized_page: Page, learner, study_topic, screenshot
):
    page = sized_page
    sign_in(page)
    page.locator("footer select[name=language]").select_option("en")
    page.wait_for_function("document.documentElement.lang === 'en'")
    page.goto(f"/study-topics/{study_topic.pk}/")
    form = page.locator("form.quiz-start")
    form.locator("input[name=mode][value=mock]").check()
    form.locator("#per-subject").fill("2")
    assert_fits(page, "topic with the mock form")
    form.get_by_role("button", name="Start").click()
    page.wait_for_url(re.compile(r"/quiz/\d+/"))
    page.locator(".mock-q.current label.answer").first.click()
    expect(page.locator("[data-save-status]")).to_have_text("Saved")
    assert_fits(page, "mock")
    screenshot(page, f"i18n-en-mock-{page.size_name}")
