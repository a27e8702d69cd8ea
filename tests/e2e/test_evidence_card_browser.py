"""The 근거 카드 in a real browser, at desktop and phone sizes, with no LLM
configured: on the question page, on results cards (loaded as they scroll
into view), in a review row when expanded, and in a mock exam's review.
Screenshots land in test-artifacts/e2e/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from study.models import QuizMode
from study.services.quiz_sessions import mock_submit
from tests.conftest import make_document, make_question
from tests.e2e.conftest import sized_tab
from tests.e2e.test_first_hour_browser import sign_in as sign_in_as
from tests.e2e.test_learner_loop_browser import sign_in
from tests.study.evidence.test_cards import BOILER, LADDER, STATUTE
from tests.study.learner_helpers import answer_all, start

pytestmark = pytest.mark.browser


def reveal_all(page: Page) -> None:
    """Scroll down until no card is still loading (they load when revealed)."""
    pending = page.locator(".evidence-pending")
    for _ in range(40):
        left = pending.count()
        if left == 0:
            return
        page.evaluate("window.scrollBy(0, window.innerHeight / 2)")
        try:
            expect(pending).not_to_have_count(left, timeout=1500)
        except AssertionError:
            continue  # nothing came into view yet: scroll on
    expect(pending).to_have_count(0)


@pytest.fixture(params=["desktop", "phone"])
def card_page(request, browser, live_server):
    yield from sized_tab(request, browser, live_server)


@pytest.fixture
def statute_topic(learner, settings, tmp_path):
    from study.models import Topic

    settings.MEDIA_ROOT = tmp_path
    settings.LLM_BASE_URL = ""
    topic = Topic.objects.create(name="산업안전기사", owner=learner)
    make_document(learner, topic, STATUTE, title="시험안전규칙")
    ladder = make_question(topic, 1, correct_choice=1, **LADDER)
    boiler = make_question(topic, 2, correct_choice=1, **BOILER)  # key ≠ statute
    return topic, ladder, boiler


def test_the_card_on_every_page_a_learner_reads(
    card_page: Page, learner, statute_topic, screenshot
):
    page = card_page
    topic, ladder, boiler = statute_topic
    sign_in(page)

    page.goto(f"/study-questions/{ladder.pk}/")
    card = page.locator("[data-evidence-card]")
    expect(card).to_have_attribute("data-verdict", "1")
    expect(card.locator('[data-citation="시험안전규칙 제24조"]')).to_be_visible()
    expect(card).to_contain_text("조문에 따르면 1번")
    expect(card.locator('[data-mark="differ"]')).to_contain_text("조문: 75도 이하")
    card.get_by_text("조문 전체 보기").click()
    expect(card.locator(".article-text")).to_contain_text("견고한 구조로 할 것")
    screenshot(page, f"evidence-01-question-{page.size_name}")

    page.goto(f"/study-questions/{boiler.pk}/")
    conflict = page.locator("[data-evidence-card]")
    expect(conflict).to_have_attribute("data-key-conflict", "")
    expect(conflict).to_have_attribute("data-verdict", "3")
    expect(conflict).to_contain_text("정답과 조문이 다릅니다")
    screenshot(page, f"evidence-02-conflict-{page.size_name}")

    session = answer_all(
        start(learner, topic, mode=QuizMode.ROUND, round_key="2020-1"), 4
    )
    page.goto(f"/quiz/{session.pk}/results?tab=wrong")
    reveal_all(page)
    cards = page.locator(".result-card [data-evidence-card]")
    expect(cards).to_have_count(2)  # loaded into view, no worker, no LLM
    first = cards.first
    first.locator(":scope > summary").click()
    expect(first.locator("[data-citation]").first).to_be_visible()
    screenshot(page, f"evidence-03-results-{page.size_name}")

    page.goto(f"/study-topics/{topic.pk}/review-queue?tab=pending_review")
    row = page.locator("li.queue-item").first
    row.locator("details.evidence-toggle > summary").click()
    expect(row.locator("[data-evidence-card]")).to_have_attribute(
        "data-verdict", re.compile(r"^[13]$")
    )
    screenshot(page, f"evidence-04-review-{page.size_name}")

    page.goto(f"/study-topics/{topic.pk}/answer-review")
    expect(page.locator(f'[data-question-id="{boiler.pk}"]')).to_contain_text(
        "조문: 3번 · 정답: 1번"
    )
    screenshot(page, f"evidence-05-answer-review-{page.size_name}")


def test_a_mock_exams_review_shows_the_cards(
    card_page: Page, learner, statute_topic, screenshot
):
    page = card_page
    topic, ladder, boiler = statute_topic
    mock = start(learner, topic, mode=QuizMode.MOCK, per_subject=2)
    mock_submit(session=mock, answers={})  # the paper handed in blank
    sign_in(page)
    page.goto(f"/quiz/{mock.pk}/results?tab=unsure")
    reveal_all(page)
    expect(page.locator(".result-card [data-evidence-card]")).to_have_count(2)
    page.locator(".result-card [data-evidence-card] > summary").first.click()
    screenshot(page, f"evidence-06-mock-{page.size_name}")


def test_the_card_in_english_on_every_page(
    card_page: Page, learner, statute_topic, screenshot
):
    """The card's own words in English (the statute's text stays Korean):
    question page, key conflict, results, review row, a mock's review."""
    page = card_page
    topic, ladder, boiler = statute_topic
    sign_in_as(page, "en")

    page.goto(f"/study-questions/{ladder.pk}/")
    card = page.locator("[data-evidence-card]")
    expect(card).to_contain_text("Evidence card")
    expect(card).to_contain_text("By the statute: 1")
    expect(card.locator('[data-mark="differ"]')).to_contain_text(
        "Differs from the statute"
    )
    card.get_by_text("Show the whole article").click()
    screenshot(page, f"evidence-en-01-question-{page.size_name}")

    page.goto(f"/study-questions/{boiler.pk}/")
    expect(page.locator("[data-evidence-card]")).to_contain_text(
        "By the statute the answer is 3; the key says 1."
    )
    screenshot(page, f"evidence-en-02-conflict-{page.size_name}")

    session = answer_all(
        start(learner, topic, mode=QuizMode.ROUND, round_key="2020-1"), 4
    )
    page.goto(f"/quiz/{session.pk}/results?tab=wrong")
    reveal_all(page)
    cards = page.locator(".result-card [data-evidence-card]")
    expect(cards).to_have_count(2)
    cards.first.locator(":scope > summary").click()
    expect(cards.first).to_contain_text("Matches the statute")
    screenshot(page, f"evidence-en-03-results-{page.size_name}")

    page.goto(f"/study-topics/{topic.pk}/review-queue?tab=pending_review")
    row = page.locator("li.queue-item").first
    row.locator("details.evidence-toggle > summary").click()
    expect(row.locator("[data-evidence-card]")).to_contain_text("Evidence card")
    screenshot(page, f"evidence-en-04-review-{page.size_name}")

    mock = start(learner, topic, mode=QuizMode.MOCK, per_subject=2)
    mock_submit(session=mock, answers={})
    page.goto(f"/quiz/{mock.pk}/results?tab=unsure")
    reveal_all(page)
    expect(page.locator(".result-card [data-evidence-card]")).to_have_count(2)
    screenshot(page, f"evidence-en-05-mock-{page.size_name}")
