"""The first hour in a real browser (issue 23): feedback after each question,
a checked queue row that updates the counts, and phone tables that fit
("Right" broke as "Righ/t", the forecast's subject column ran to five lines,
the review tabs were cut off). Screenshots: test-artifacts/e2e/first-hour-*."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LEARNER

pytestmark = pytest.mark.browser

# Lines a cell's text takes: its height over its line height.
LINES = """el => {
  const style = getComputedStyle(el);
  const range = document.createRange();
  range.selectNodeContents(el);
  const height = range.getBoundingClientRect().height;
  return Math.round(height / parseFloat(style.lineHeight));
}"""


def sign_in(page: Page, language: str = "ko") -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", LEARNER["username"])
    page.fill("#id_password", LEARNER["password"])
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/$"))
    if language != "ko":
        with page.expect_navigation():
            page.select_option("#language-footer", language)


def history(learner, topic) -> None:
    """A whole round: 안전관리론 right, the rest wrong or 모르겠음; an exam date."""
    from study.models import QuizMode
    from study.services.exam_plans import exam_plan_set
    from tests.study.learner_helpers import answer_all, start

    questions = {q.pk: q for q in topic.questions.all()}
    session = start(learner, topic, mode=QuizMode.ROUND, round_key="2022-1")
    answer_all(
        session,
        lambda p, q: (
            questions[q].correct_choice
            if p < 5
            else (5 if p % 2 else questions[q].correct_choice % 4 + 1)
        ),
    )
    exam_plan_set(
        user=learner,
        topic=topic,
        exam_date=timezone.localdate() + timedelta(days=30),
        daily_size=20,
    )


def test_feedback_after_each_question(page: Page, learner, study_topic, screenshot):
    sign_in(page)
    page.goto(f"/study-topics/{study_topic.pk}/")
    form = page.locator("form.quiz-start")
    expect(form.locator("[data-reveal-note]")).to_be_visible()
    form.locator("#size-stage").fill("5")
    form.locator("input[name=feedback][value=each]").check()
    form.get_by_role("button", name="시작하기").click()
    expect(page.locator("#quiz-card .answer").first).to_be_visible()
    page.wait_for_load_state("load")  # the deferred scripts (keys, htmx) run

    page.keyboard.press("5")

    verdict = page.locator("[data-outcome]")
    expect(verdict).to_contain_text("모르겠음으로 답했습니다")
    expect(page.locator("#quiz-card .choices li.correct")).to_have_count(1)
    expect(page.locator("[data-next]")).to_be_focused()
    screenshot(page, "first-hour-feedback-phone")
    page.keyboard.press("Enter")
    expect(page.locator("#quiz-card .answer").first).to_be_visible()
    expect(page.locator("#quiz-card .quiz-progress span").first).to_have_text("2 / 5")


def test_feedback_badges_stay_one_line_beside_a_long_choice(
    page: Page, learner, study_topic, screenshot
):
    from study.models import Question
    from tests.e2e.test_learner_loop_browser import current_question

    long = (
        "작업발판의 끝이나 개구부로서 근로자가 추락할 위험이 있는 장소에는 "
        "안전난간을 설치한다"
    )
    Question.objects.filter(topic=study_topic).update(
        choice_1=long,
        choice_2=long + " (2)",
        choice_3=long + " (3)",
        choice_4=long + " (4)",
    )
    sign_in(page)
    page.goto(f"/study-topics/{study_topic.pk}/")
    form = page.locator("form.quiz-start")
    form.locator("#size-stage").fill("5")
    form.locator("input[name=feedback][value=each]").check()
    form.get_by_role("button", name="시작하기").click()
    expect(page.locator("#quiz-card .answer").first).to_be_visible()
    page.wait_for_load_state("load")

    page.keyboard.press(str(current_question(page).correct_choice))

    row = page.locator("#quiz-card .choices li.correct")
    expect(row.locator(".badge")).to_have_count(2)  # 정답, 내 선택
    assert row.locator(".choice-text").evaluate(LINES) >= 3  # the choice wraps
    # Each badge is a one-line pill at the top of its row, not stretched to
    # the row's height (a flex item's default) nor wrapped to two lines.
    for index in range(2):
        badge = row.locator(".badge").nth(index)
        assert badge.evaluate(LINES) == 1
        box, text = badge.bounding_box(), row.locator(".choice-text").bounding_box()
        assert box and text and box["height"] < 2 * 16 and box["y"] < text["y"] + 16
    screenshot(page, "first-hour-feedback-long-choice-phone")


def test_checking_a_queue_row_updates_its_counts(
    page: Page, learner, study_topic, screenshot
):
    history(learner, study_topic)
    sign_in(page)
    page.goto(f"/study-topics/{study_topic.pk}/review-queue?tab=pending_review")
    tab = page.locator('#queue-tabs [data-tab="pending_review"] .count')
    expect(tab).to_have_text("10")

    page.locator(".queue-item .review-complete button").first.click()

    expect(tab).to_have_text("9")
    expect(page.locator("#queue-summary")).to_contain_text("모두 확인 완료 (9문제)")
    expect(page.locator("#queue-tabs")).to_have_count(1)
    screenshot(page, "first-hour-queue-checked-phone")


@pytest.mark.parametrize("language", ["en", "ko"])
def test_phone_tables_and_tabs_fit(
    page: Page, learner, study_topic, screenshot, language
):
    from study.models import QuizSession

    history(learner, study_topic)
    session = QuizSession.objects.get()
    sign_in(page, language)

    page.goto(f"/quiz/{session.pk}/results")
    headers = page.locator(".subject-scores thead th")
    for index in range(headers.count()):
        header = headers.nth(index)
        if " " not in header.inner_text().strip():  # one word: one line
            assert header.evaluate(LINES) == 1, header.inner_text()
    tabs = page.locator("nav.tabs .tab")
    for index in range(tabs.count()):
        box = tabs.nth(index).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390
    screenshot(page, f"first-hour-results-phone-{language}")

    page.goto(f"/study-topics/{study_topic.pk}/forecast")
    subjects = page.locator(".forecast-table tbody th")
    expect(subjects).to_have_count(3)
    for index in range(3):
        assert subjects.nth(index).evaluate(LINES) <= 2
    screenshot(page, f"first-hour-forecast-phone-{language}")

    page.goto(f"/study-topics/{study_topic.pk}/review-queue")
    tabs = page.locator("#queue-tabs .tab")
    expect(tabs).to_have_count(5)
    for index in range(5):
        box = tabs.nth(index).bounding_box()
        assert box and box["x"] + box["width"] <= 390, index
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # On a desktop too, with their counts, every tab shows whole.
    page.set_viewport_size({"width": 1280, "height": 900})
    right = page.locator("#queue-tabs").bounding_box()
    for index in range(5):
        box = tabs.nth(index).bounding_box()
        assert box and box["x"] + box["width"] <= right["x"] + right["width"]
