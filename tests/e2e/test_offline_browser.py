"""Offline study in a real browser at phone size (docs/offline.md): the
connection drops mid-quiz (the context's offline switch), the learner answers
20 questions and reloads, the connection returns; every answer is recorded
once, in order, and the results are what was answered. Again with the network
dropping during the sync, and with two tabs.

The figures of docs/offline.md (the service worker's cache size, the time from
reconnect to synced results) are written to test-artifacts/e2e/offline.json;
nothing here asserts on time.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from study.models import Attempt, Outcome, Question, QuizSession
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_learner_loop_browser import (
    RESULTS_URL,
    answer,
    sign_in,
    start_quiz,
)
from tests.study.exports.helpers import give_figure, png_bytes

pytestmark = pytest.mark.browser

# The worker installs by fetching the whole shell (32 files): on a loaded
# machine that takes longer than a click.
SW_CONTROLS = "() => navigator.serviceWorker.controller !== null"
# The worker installs the whole shell (≈690 KB) before it controls the page;
# on a loaded CI machine that has taken over a minute.
SW_WAIT_MS = 180_000
ONLINE_FIRST = 5
OFFLINE_ANSWERS = 20
SIZE = ONLINE_FIRST + OFFLINE_ANSWERS


# The worker installs only if every shell file arrives; when one fetch fails
# (the test server dropped a connection under the browser's parallel fetches)
# the install is discarded and the next page load registers it again, which
# is what a learner's next navigation does. One reload after this long.
FIRST_INSTALL_MS = 60_000


def wait_until_controlled(page: Page) -> None:
    """The page is under the service worker: at once, or after the reload
    that re-registers a worker whose install failed."""
    try:
        page.wait_for_function(SW_CONTROLS, timeout=FIRST_INSTALL_MS)
    except PlaywrightTimeoutError:
        page.reload()
        page.wait_for_function(SW_CONTROLS, timeout=SW_WAIT_MS)


def start_stage_quiz(page: Page, topic) -> int:
    def stage(form):
        form.locator("input[name=stage][value=intro]").check()
        form.locator("#size-stage").fill(str(SIZE))

    session_id = start_quiz(page, topic, "stage", stage)
    # Stored on the device, and the page is under the service worker.
    expect(page.locator("#offline-ready")).to_be_visible()
    wait_until_controlled(page)
    return session_id


def choice_for(question: Question, position: int) -> int:
    """Right, wrong, 모르겠음 in turn, so the results have all three."""
    kind = position % 3
    if kind == 0:
        return question.correct_choice
    if kind == 1:
        return next(c for c in (1, 2, 3, 4) if c not in question.accepted_set)
    return 5


def card_question(page: Page) -> tuple[int, Question]:
    card = page.locator("#quiz-card")
    position = int(card.locator("input[name=position]").get_attribute("value"))
    qid = int(card.locator("input[name=question_id]").get_attribute("value"))
    return position, Question.objects.get(pk=qid)


def answer_offline(page: Page, count: int, given: dict[int, int]) -> None:
    """Answer `count` questions on the card drawn from the device."""
    for _ in range(count):
        position, question = card_question(page)
        expect(page.locator("#quiz-card[data-offline-card=question]")).to_be_visible()
        choice = choice_for(question, position)
        given[position] = choice
        page.locator(f"#quiz-card .answer[data-key='{choice}']").click()
        if position + 1 < SIZE:
            expect(page.locator("#quiz-card input[name=position]")).to_have_value(
                str(position + 1)
            )
        else:
            expect(page.locator("#quiz-card[data-offline-card=done]")).to_be_visible()


def waiting_count(page: Page) -> int:
    return int(page.locator("#offline-status").get_attribute("data-pending") or 0)


def assert_recorded_once_in_order(session_id: int, given: dict[int, int]) -> None:
    attempts = list(Attempt.objects.filter(session_id=session_id).order_by("id"))
    assert [a.position for a in attempts] == list(range(SIZE)), "once, in order"
    times = [a.created_at for a in attempts]
    assert times == sorted(times), "kept at the time given, in order"
    chosen = {a.position: a.selected_choice or 5 for a in attempts}
    assert chosen == given
    session = QuizSession.objects.get(pk=session_id)
    assert session.status == "finished" and session.answered_count == SIZE


def expected_score(session_id: int) -> str:
    attempts = Attempt.objects.filter(session_id=session_id)
    correct = attempts.filter(outcome=Outcome.CORRECT).count()
    return f"{correct} / {SIZE}문제 정답"


def cache_bytes(page: Page) -> dict:
    return page.evaluate(
        """async () => {
          const out = {};
          for (const name of await caches.keys()) {
            const cache = await caches.open(name);
            let bytes = 0, files = 0;
            for (const request of await cache.keys()) {
              const response = await cache.match(request);
              bytes += (await response.clone().arrayBuffer()).byteLength;
              files += 1;
            }
            out[name.replace(/-[0-9a-f]{16}$/, "")] = { bytes, files };
          }
          return out;
        }"""
    )


def record_figures(name: str, values: dict) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "offline.json"
    figures = json.loads(path.read_text()) if path.exists() else {}
    figures[name] = values
    path.write_text(json.dumps(figures, indent=2, ensure_ascii=False))


def answer_online(page: Page, given: dict[int, int]) -> None:
    for _ in range(ONLINE_FIRST):
        position, question = card_question(page)
        given[position] = choice_for(question, position)
        answer(page, given[position], via="click")


def test_offline_mid_quiz_twenty_answers_reload_then_synced_once_in_order(
    page: Page, study_topic, screenshot, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    for index, question in enumerate(study_topic.questions.all()):
        give_figure(question, png_bytes((index * 8, 90, 200)))
    sign_in(page)
    session_id = start_stage_quiz(page, study_topic)
    given: dict[int, int] = {}
    answer_online(page, given)

    page.context.set_offline(True)
    expect(page.locator("#quiz-card[data-offline-card=question]")).to_be_visible()
    expect(page.locator("#offline-status")).to_contain_text("오프라인입니다")
    answer_offline(page, 10, given)
    screenshot(page, "offline-01-answering-offline")
    expect(page.locator("#offline-status")).to_contain_text("답 10개가")

    page.reload()  # offline: the service worker serves the offline page
    expect(page.locator("#quiz-card[data-offline-card=question]")).to_be_visible()
    assert card_question(page)[0] == ONLINE_FIRST + 10
    figure = page.locator("#quiz-card .figure img")
    expect(figure).to_be_visible()
    page.wait_for_function(
        "() => document.querySelector('#quiz-card .figure img').complete"
    )
    assert figure.evaluate("img => img.naturalWidth") == 12, "figure from the device"
    answer_offline(page, 10, given)
    expect(page.locator("#quiz-card[data-offline-card=done]")).to_be_visible()
    assert waiting_count(page) == OFFLINE_ANSWERS
    screenshot(page, "offline-02-all-answered-waiting")
    assert Attempt.objects.filter(session_id=session_id).count() == ONLINE_FIRST
    holding = cache_bytes(page)  # the shell, and this session's figures

    started = time.perf_counter()
    page.context.set_offline(False)
    page.wait_for_url(RESULTS_URL)
    expect(page.locator(".score-head")).to_contain_text(expected_score(session_id))
    synced_s = time.perf_counter() - started
    screenshot(page, "offline-03-results-after-sync")

    assert_recorded_once_in_order(session_id, given)
    record_figures(
        "reload_walk",
        {
            "reconnect_to_results_s": round(synced_s, 3),
            "caches_holding_a_session": holding,
            "caches_after_results": cache_bytes(page),
        },
    )


def test_network_dropping_during_the_sync_loses_and_doubles_nothing(
    page: Page, study_topic
):
    sign_in(page)
    session_id = start_stage_quiz(page, study_topic)
    given: dict[int, int] = {}
    answer_online(page, given)
    page.context.set_offline(True)
    answer_offline(page, OFFLINE_ANSWERS, given)

    # The first sync request reaches the server, but its reply never comes
    # back: the connection drops mid-sync. The device keeps its queue and
    # sends again; the server recognises every key it has already recorded.
    dropped = []

    def drop_first_reply(route):
        if not dropped:
            route.fetch()  # the server records the batch ...
            dropped.append(route.request.post_data_json)
            route.abort("internetdisconnected")  # ... the device never hears
        else:
            route.continue_()

    page.route(re.compile(r"/quiz/\d+/sync$"), drop_first_reply)
    started = time.perf_counter()
    page.context.set_offline(False)
    page.wait_for_url(RESULTS_URL)
    synced_s = time.perf_counter() - started
    expect(page.locator(".score-head")).to_contain_text(expected_score(session_id))

    assert len(dropped[0]["answers"]) == 10
    assert_recorded_once_in_order(session_id, given)
    record_figures("dropped_reply", {"reconnect_to_results_s": round(synced_s, 3)})


def test_two_tabs_answer_offline_and_sync_once(page: Page, study_topic):
    sign_in(page)
    session_id = start_stage_quiz(page, study_topic)
    given: dict[int, int] = {}
    answer_online(page, given)
    other = page.context.new_page()
    other.goto(page.url)
    expect(other.locator("#offline-ready")).to_be_visible()

    page.context.set_offline(True)
    answer_offline(page, 10, given)
    # The other tab follows the device's queue and goes on from there.
    expect(other.locator("#quiz-card input[name=position]")).to_have_value(
        str(ONLINE_FIRST + 10)
    )
    answer_offline(other, 10, given)
    expect(page.locator("#quiz-card[data-offline-card=done]")).to_be_visible()

    page.context.set_offline(False)  # both tabs hear it and try to send
    page.wait_for_url(RESULTS_URL)
    other.wait_for_url(RESULTS_URL)
    assert_recorded_once_in_order(session_id, given)


def test_two_devices_answer_the_same_session_offline(
    page: Page, desktop_page: Page, study_topic, screenshot
):
    """A phone and a laptop both hold the session and answer it offline: each
    slot keeps the answer that arrived first, and the laptop is told so."""
    phone, laptop = page, desktop_page
    sign_in(phone)
    session_id = start_stage_quiz(phone, study_topic)
    sign_in(laptop)
    laptop.goto(f"/quiz/{session_id}/")
    expect(laptop.locator("#offline-ready")).to_be_visible()

    phone.context.set_offline(True)
    laptop.context.set_offline(True)
    from_phone: dict[int, int] = {}
    from_laptop: dict[int, int] = {}
    answer_offline(phone, 10, from_phone)
    answer_offline(laptop, SIZE, from_laptop)

    phone.context.set_offline(False)  # the phone's answers arrive first
    expect(phone.locator("#quiz-card[data-offline-card]")).to_have_count(0)
    expect(phone.locator("#quiz-card input[name=position]")).to_have_value("10")
    laptop.context.set_offline(False)
    laptop.wait_for_url(RESULTS_URL)
    expect(laptop.locator(".messages")).to_contain_text(
        "10문제는 다른 기기나 탭에서 먼저 답해, 먼저 도착한 답을 남겼습니다."
    )
    screenshot(laptop, "offline-04-second-device-told")
    attempts = Attempt.objects.filter(session_id=session_id).order_by("position")
    assert [a.position for a in attempts] == list(range(SIZE))
    first_arrived = {**from_laptop, **from_phone}
    assert {a.position: a.selected_choice or 5 for a in attempts} == first_arrived


def test_the_app_is_installable(page: Page, study_topic):
    """Chromium's own check of the manifest, icons and service worker."""
    sign_in(page)
    wait_until_controlled(page)
    session = page.context.new_cdp_session(page)
    errors = session.send("Page.getInstallabilityErrors")["installabilityErrors"]
    # Playwright's contexts are incognito, where Chromium never offers to
    # install; every other condition (manifest, icons, worker) must hold.
    assert [e for e in errors if e["errorId"] != "in-incognito"] == []
    manifest = session.send("Page.getAppManifest")
    assert manifest["errors"] == [], manifest["errors"]


def test_a_short_drop_with_nothing_answered_goes_back_online(page: Page, study_topic):
    sign_in(page)
    session_id = start_stage_quiz(page, study_topic)
    page.context.set_offline(True)
    expect(page.locator("#quiz-card[data-offline-card=question]")).to_be_visible()
    page.context.set_offline(False)
    expect(page.locator("#quiz-card[data-offline-card]")).to_have_count(0)
    expect(page.locator("#offline-ready")).to_be_visible()
    answer(page, 5, via="click")  # the server's card again, answered online
    assert Attempt.objects.filter(session_id=session_id).count() == 1
