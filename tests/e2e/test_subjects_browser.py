"""The owner merges subjects in a few clicks, in a real browser at desktop and
phone sizes: the topic page says where the exam's subjects come from, the
subject page suggests merges, one click merges, the names table merges by
hand, one click undoes. Screenshots land in test-artifacts/e2e/."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from study.imports.services import questions_import
from study.models import Question, SubjectAlias, Topic
from tests.e2e.conftest import sized_tab
from tests.e2e.test_learner_loop_browser import sign_in
from tests.study.subject_bank import TYPO_ROWS, TYPO_SUBJECT, construction_sources

pytestmark = pytest.mark.browser


@pytest.fixture(params=["desktop", "phone"])
def tab(request, browser, live_server):
    yield from sized_tab(request, browser, live_server)


@pytest.fixture
def bank(learner):
    topic = Topic.objects.create(name="건설안전기사", owner=learner)
    questions_import(topic=topic, sources=construction_sources())
    return topic


def test_the_owner_merges_subjects_in_a_few_clicks(tab: Page, bank, screenshot):
    sign_in(tab)
    tab.goto(f"/study-topics/{bank.pk}/")
    source = tab.locator("section[aria-labelledby=subjects-h] [data-paper-source]")
    expect(source).to_contain_text("2022년 1회 · 2020년 3회 · 2020년 1회")
    expect(tab.locator("tr[data-old-subject]")).to_have_count(6)
    screenshot(tab, f"subjects-01-topic-{tab.size_name}")

    source.get_by_role("link", name="과목 정리").click()
    expect(tab.locator("h1")).to_have_text("과목 정리")
    expect(tab.locator("li.suggestion")).to_have_count(3)
    screenshot(tab, f"subjects-02-page-{tab.size_name}")

    # One click on a suggestion.
    suggestion = tab.locator(f'li.suggestion[data-suggestion="{TYPO_SUBJECT}"]')
    suggestion.get_by_role("button").click()
    expect(tab.locator(".messages, .message").first).to_contain_text("합쳤습니다")
    expect(tab.locator(f'[data-alias="{TYPO_SUBJECT}"]')).to_be_visible()
    expect(tab.locator("li.suggestion")).to_have_count(2)
    assert not Question.objects.filter(subject=TYPO_SUBJECT).exists()

    # By hand: tick a name, pick the subject, merge.
    row = tab.locator(f'tr[data-subject-name="{TYPO_ROWS}"]')
    row.get_by_role("checkbox").check()
    tab.locator("select[name=into]").select_option("건설재료학")
    tab.locator(".merge-target").get_by_role("button", name="합치기").click()
    expect(tab.locator(f'[data-alias="{TYPO_ROWS}"]')).to_be_visible()
    assert Question.objects.filter(subject_original=TYPO_ROWS).count() == 3
    screenshot(tab, f"subjects-03-merged-{tab.size_name}")

    # The paper now reads 2021 1회 as complete too.
    expect(tab.locator("[data-paper-source]")).to_contain_text("2021년 1회")

    # One click undoes.
    tab.locator(f'[data-alias="{TYPO_SUBJECT}"]').get_by_role("button").click()
    expect(tab.locator(f'[data-alias="{TYPO_SUBJECT}"]')).to_have_count(0)
    assert Question.objects.filter(subject=TYPO_SUBJECT).count() == 20
    assert list(SubjectAlias.objects.values_list("name", flat=True)) == [TYPO_ROWS]
