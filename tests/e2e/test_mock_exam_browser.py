"""The mock exam as a CBT in a real browser, at desktop and phone sizes: the
start form's size, the server's timer, the answer sheet, changing an answer,
marking for review, a reload mid-exam, the submit screen, submitting at zero.
Screenshots land in test-artifacts/e2e/."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from study.models import Attempt, Question, QuizSession
from tests.e2e.conftest import (
    SUBJECTS,
    sized_tab,
)
from tests.e2e.test_learner_loop_browser import RESULTS_URL, sign_in

pytestmark = pytest.mark.browser

MOCK_URL = re.compile(r"/quiz/(\d+)/(#q1)?$")


@pytest.fixture(params=["desktop", "phone"])
def exam_page(request, browser, live_server):
    yield from sized_tab(
        request, browser, live_server, has_touch=request.param == "phone"
    )


def start_mock(page: Page, topic, screenshot) -> QuizSession:
    page.goto(f"/study-topics/{topic.pk}/")
    form = page.locator("form.quiz-start")
    form.locator("input[name=mode][value=mock]").check()
    # 20 a subject cannot be filled from 10: the form says so before starting
    # and offers the largest size every subject can fill.
    expect(form.locator("[data-mock-short]")).to_contain_text("과목당 10문제")
    expect(form.locator("#per-subject")).to_have_value("10")
    screenshot(page, f"mock-01-start-{page.size_name}")
    form.locator("#per-subject").fill("2")
    form.get_by_role("button", name="시작하기").click()
    page.wait_for_url(MOCK_URL)
    return QuizSession.objects.get(pk=int(MOCK_URL.search(page.url).group(1)))


def current(page: Page):
    return page.locator(".mock-q.current")


def sheet_cell(page: Page, number: int):
    return page.locator(f'[data-sheet-cell="{number - 1}"]')


def open_sheet(page: Page) -> None:
    sheet = page.locator("details[data-sheet]")
    if sheet.get_attribute("open") is None:
        sheet.locator("summary").click()


def choose(page: Page, choice: int) -> None:
    current(page).locator(f"label.answer:has(input[value='{choice}'])").click()


def wait_saved(page: Page) -> None:
    expect(page.locator("[data-save-status]")).to_have_text("저장됨")


def test_a_full_mock_like_the_real_cbt(exam_page: Page, study_topic, screenshot):
    page = exam_page
    sign_in(page)
    session = start_mock(page, study_topic, screenshot)
    assert session.size == 6 and session.deadline_at is not None

    # The timer counts down from the server's remaining time (9 minutes).
    timer = page.locator("[data-timer]")
    expect(timer).to_have_text(re.compile(r"^[89]:\d\d$"))
    first = timer.inner_text()
    expect(timer).not_to_have_text(first)
    expect(current(page)).to_have_attribute("id", "q1")
    expect(page.locator(".mock-q:visible")).to_have_count(1)

    # 1: by keyboard. 2: by tap/click, then changed, then marked.
    page.keyboard.press("1")
    wait_saved(page)
    expect(sheet_cell(page, 1)).to_have_class(re.compile(r"\banswered\b"))
    page.keyboard.press("ArrowRight")
    expect(current(page)).to_have_attribute("id", "q2")
    choose(page, 3)
    wait_saved(page)
    choose(page, 4)
    wait_saved(page)
    current(page).locator("label.mark-toggle").click()
    wait_saved(page)
    expect(sheet_cell(page, 2)).to_have_class(re.compile(r"\bmarked\b"))
    expect(sheet_cell(page, 2)).to_contain_text("4")

    # Jump to 5 from the answer sheet and say 모르겠음.
    open_sheet(page)
    screenshot(page, f"mock-02-sheet-{page.size_name}")
    sheet_cell(page, 5).click()
    expect(current(page)).to_have_attribute("id", "q5")
    choose(page, 5)
    wait_saved(page)
    expect(sheet_cell(page, 5)).to_contain_text("?")
    screenshot(page, f"mock-03-question-{page.size_name}")

    # Nothing about correctness is on the page before submitting.
    expect(page.locator(".correct, .chosen-wrong")).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text("해설")
    expect(page.locator("body")).not_to_contain_text("정답")

    # A reload keeps the answers, the mark, the question and the clock.
    page.reload()
    expect(current(page)).to_have_attribute("id", "q5")
    expect(current(page).locator("input[value='5']")).to_be_checked()
    expect(page.locator("#q2 input[value='4']")).to_be_checked()
    expect(page.locator("#q2 input[type=checkbox]")).to_be_checked()
    expect(timer).to_have_text(re.compile(r"^[89]:\d\d$"))
    assert not Attempt.objects.exists()

    # The submit screen counts what is left.
    open_sheet(page)
    page.locator("[data-open-submit]").click()
    submit = page.locator(".mock-submit")
    expect(submit).to_be_visible()
    expect(submit.locator('[data-count="unanswered"]')).to_have_text("3")
    expect(submit.locator('[data-count="marked"]')).to_have_text("1")
    screenshot(page, f"mock-04-submit-{page.size_name}")
    submit.get_by_role("button", name="계속 풀기").click()
    expect(current(page)).to_have_attribute("id", "q5")
    open_sheet(page)
    page.locator("[data-open-submit]").click()
    submit.get_by_role("button", name="제출하고 채점하기").click()
    page.wait_for_url(RESULTS_URL)

    attempts = {a.position: a for a in Attempt.objects.filter(session=session)}
    assert len(attempts) == 6
    questions = Question.objects.in_bulk(session.question_ids)
    assert attempts[0].selected_choice == 1  # by key
    assert attempts[1].selected_choice == 4  # changed from 3
    assert attempts[4].outcome == "unsure" and attempts[5].outcome == "unsure"
    assert [questions[i].subject for i in session.question_ids] == [
        s for s in SUBJECTS for _ in range(2)
    ]
    expect(page.locator("h1")).to_contain_text("모의고사 · 3과목 × 2문제")
    expect(page.locator("[data-exam-verdict]")).to_have_text("불합격")
    expect(page.locator(".subject-scores tbody tr")).to_have_count(3)
    screenshot(page, f"mock-05-results-{page.size_name}")


def test_the_mock_submits_itself_at_zero(exam_page: Page, study_topic, screenshot):
    page = exam_page
    sign_in(page)
    session = start_mock(page, study_topic, screenshot)
    page.keyboard.press("2")
    wait_saved(page)
    # The server's clock is what counts: move the deadline close and reload.
    QuizSession.objects.filter(pk=session.pk).update(
        deadline_at=timezone.now() + timedelta(seconds=3)
    )
    page.reload()
    expect(page.locator("[data-timer]")).to_have_text(re.compile(r"^0:0[0-3]$"))
    page.wait_for_url(RESULTS_URL)
    session.refresh_from_db()
    assert session.status == "finished"
    assert session.attempts.count() == 6
    assert session.attempts.get(position=0).selected_choice == 2
