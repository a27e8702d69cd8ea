"""Exam date → D-day, 합격 가능성, forecast plot, 오늘 할 일, calibration (phone
and desktop). Screenshots: test-artifacts/e2e/forecast-*.png."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LEARNER

DESKTOP = {"width": 1280, "height": 900}


def login(page: Page) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username]", LEARNER["username"])
    page.fill("input[name=password]", LEARNER["password"])
    page.click("button[type=submit]")


def study_some(learner, topic) -> None:
    """One round answered: 안전관리론 right, the second subject half, the third
    all 모르겠음."""
    from study.models import QuizMode
    from tests.study.learner_helpers import answer_all, start

    session = start(learner, topic, mode=QuizMode.ROUND, round_key="2022-1")
    questions = {q.pk: q for q in topic.questions.all()}

    def choose(position, qid):
        q = questions[qid]
        if position < 5:
            return q.correct_choice
        if position < 10:
            return q.correct_choice if position % 2 else q.correct_choice % 4 + 1
        return 5

    answer_all(session, choose)


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_exam_date_forecast_plan_and_calibration(
    page: Page, learner, study_topic, screenshot, viewport
):
    if viewport == "desktop":
        page.set_viewport_size(DESKTOP)
    study_some(learner, study_topic)
    login(page)
    page.goto(f"/study-topics/{study_topic.pk}/")
    expect(page.get_by_text("시험일 정하기")).to_be_visible()
    page.get_by_role("link", name="시험일 정하기").click()

    exam = timezone.localdate() + timedelta(days=30)
    page.select_option("select[name=topic]", str(study_topic.pk))
    page.fill("input[name=exam_date]", exam.isoformat())
    page.fill("input[name=daily_size]", "12")
    screenshot(page, f"forecast-settings-{viewport}")
    page.get_by_role("button", name="시험일 저장").click()

    status = page.locator(".exam-status")
    expect(status).to_contain_text("D-30")
    expect(status).to_contain_text("확인 안 함")
    expect(status).to_contain_text("합격 가능성")
    screenshot(page, f"forecast-topic-{viewport}")

    page.get_by_role("link", name="합격 예측").click()
    expect(page.locator(".big-number")).to_have_text(
        re.compile(r"\d+%|1% 미만|99% 이상")
    )
    expect(page.get_by_text("80% 구간")).to_be_visible()
    chart = page.locator("svg.pass-chart")
    expect(chart).to_be_visible()
    box = chart.bounding_box()
    width = page.viewport_size["width"]
    assert box and box["width"] <= width and box["width"] > 0.6 * min(width, 640)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    expect(page.locator(".forecast-table")).to_contain_text("기계위험방지기술")
    expect(page.locator(".new-share")).to_contain_text("새 문제입니다")
    screenshot(page, f"forecast-page-{viewport}")

    page.get_by_role("link", name="오늘 할 일").first.click()
    expect(page.get_by_text("12문제", exact=True)).to_be_visible()
    screenshot(page, f"forecast-plan-{viewport}")
    page.get_by_role("button", name="오늘 할 일 시작").click()
    expect(page).to_have_url(re.compile(r"/quiz/\d+/$"))
    expect(page.get_by_text("오늘 할 일").first).to_be_visible()

    page.goto(f"/study-topics/{study_topic.pk}/calibration")
    expect(page.get_by_text("자신 있게 고른 답의 100%가 맞았습니다")).to_be_visible()
    expect(page.get_by_text("합격 예측을 얼마나 믿을 수 있나요?")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"forecast-calibration-{viewport}")

    page.goto("/")
    expect(page.locator(".exam-status")).to_contain_text("D-30")
    screenshot(page, f"forecast-home-{viewport}")
