"""The forecast pages for a learner with weeks of history and an exam date,
on a phone and a desktop: home, topic, 합격 예측, 오늘 할 일, 답 고르기 점검.
Screenshots: test-artifacts/e2e/history-*.png (two are kept in
docs/screenshots/)."""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LEARNER

DESKTOP = {"width": 1280, "height": 900}
SUBJECTS = (
    "안전관리론",
    "인간공학 및 시스템안전공학",
    "기계위험방지기술",
    "전기위험방지기술",
    "화학설비위험방지기술",
    "건설안전기술",
)
# How often the learner knows a question of each subject (전기 is weak).
KNOWS = (0.8, 0.7, 0.6, 0.3, 0.55, 0.65)


def build_history(learner):
    """A 6-subject bank of 6 rounds; four study evenings over two weeks (the
    last one today), some misses marked 학습완료 and due today."""
    from study.models import Attempt, QuestionProgress, Topic
    from study.services.progress import attempt_mark_reviewed
    from tests.conftest import make_question
    from tests.study.learner_helpers import (
        answer_all,
        pretend_answered_days_ago,
        start,
    )

    topic = Topic.objects.create(name="산업안전기사", owner=learner)
    for year in range(2018, 2024):
        for number in range(1, 61):
            subject = SUBJECTS[(number - 1) // 10]
            make_question(
                topic,
                number,
                year=year,
                session="1",
                subject=subject,
                stem=f"{year}년 {number}번 ({subject}): 다음 중 옳은 것은?",
                correct_choice=(number - 1) % 4 + 1,
            )
    questions = {q.pk: q for q in topic.questions.all()}
    rng = random.Random(18)

    def choose(position, qid):
        q = questions[qid]
        if rng.random() < KNOWS[SUBJECTS.index(q.subject)]:
            return q.correct_choice
        return 5 if rng.random() < 0.4 else q.correct_choice % 4 + 1

    for back in (5, 4, 3, 0):
        session = start(learner, topic, size=40, rng=random.Random(back))
        answer_all(session, choose)
        if back:
            pretend_answered_days_ago(learner, back)
    for attempt in Attempt.objects.filter(user=learner, outcome="wrong")[:6]:
        attempt_mark_reviewed(attempt=attempt)
    QuestionProgress.objects.filter(user=learner, due_at__isnull=False).update(
        due_at=timezone.now() - timedelta(hours=1)
    )
    return topic


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_forecast_pages_with_weeks_of_history(
    page: Page, learner, screenshot, viewport
):
    from study.services.exam_plans import exam_plan_set

    if viewport == "desktop":
        page.set_viewport_size(DESKTOP)
    topic = build_history(learner)
    exam_plan_set(
        user=learner,
        topic=topic,
        exam_date=timezone.localdate() + timedelta(days=30),
        daily_size=30,
    )
    page.goto("/accounts/login/")
    page.fill("input[name=username]", LEARNER["username"])
    page.fill("input[name=password]", LEARNER["password"])
    page.click("button[type=submit]")
    width = page.viewport_size["width"]

    def visit(path: str, name: str) -> None:
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        screenshot(page, f"history-{name}-{viewport}")

    visit("/", "home")
    expect(page.locator(".exam-status")).to_contain_text("D-30")
    visit(f"/study-topics/{topic.pk}/", "topic")
    expect(page.locator(".exam-status")).to_contain_text("합격 가능성")
    visit(f"/study-topics/{topic.pk}/forecast", "forecast")
    expect(page.locator(".big-number")).to_have_text(
        re.compile(r"\d+%|1% 미만|99% 이상")
    )
    expect(page.locator(".forecast-table")).to_contain_text("전기위험방지기술")
    chart = page.locator("svg.pass-chart")
    box = chart.bounding_box()
    assert box and 0.6 * min(width, 460) < box["width"] <= min(width, 460)
    visit(f"/study-topics/{topic.pk}/plan", "plan")
    expect(page.get_by_text("30문제", exact=True)).to_be_visible()
    visit(f"/study-topics/{topic.pk}/calibration", "calibration")
    expect(page.get_by_text("전기위험방지기술").first).to_be_visible()
