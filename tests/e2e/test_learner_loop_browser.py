"""The learner loop in a real browser: sign in, quiz in every mode, results, review.

Runs headless Chromium (phone viewport) against pytest-django's live server.
Screenshots of every screen land in test-artifacts/e2e/.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from study.models import Attempt, Outcome, Question, QuestionProgress, QuizSession
from tests.e2e.conftest import LEARNER, SUBJECTS

pytestmark = pytest.mark.browser

QUIZ_URL = re.compile(r"/quiz/(\d+)/$")
RESULTS_URL = re.compile(r"/quiz/(\d+)/results(\?.*)?$")


# --- helpers -----------------------------------------------------------------


def sign_in(page: Page, screenshot=None) -> None:
    page.goto("/accounts/login/")
    expect(page.locator("h1")).to_have_text("로그인")
    if screenshot:
        screenshot(page, "01-login")
    page.fill("#id_username", LEARNER["username"])
    page.fill("#id_password", LEARNER["password"])
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/$"))
    expect(page.locator(".site-nav")).to_contain_text(LEARNER["username"])


def open_topic(page: Page, topic) -> None:
    page.goto(f"/study-topics/{topic.pk}/")
    expect(page.locator("h1")).to_have_text(topic.name)


def start_quiz(page: Page, topic, mode: str, fill=None) -> int:
    """Pick a mode on the topic page's form, let `fill` set its fields, start."""
    open_topic(page, topic)
    form = page.locator("form.quiz-start")
    form.locator(f"input[name=mode][value={mode}]").check()
    if fill:
        fill(form)
    form.get_by_role("button", name="시작하기").click()
    page.wait_for_url(QUIZ_URL)
    expect(page.locator("#quiz-card")).to_be_visible()
    return int(QUIZ_URL.search(page.url).group(1))


def progress_text(page: Page):
    return page.locator("#quiz-card .quiz-progress > span").first


def read_progress(page: Page) -> tuple[int, int]:
    text = progress_text(page).inner_text()
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    assert match, f"unexpected progress text {text!r}"
    return int(match.group(1)), int(match.group(2))


def current_question(page: Page) -> Question:
    qid = page.locator("#quiz-card input[name=question_id]").get_attribute("value")
    return Question.objects.get(pk=int(qid))


def wrong_choice(question: Question) -> int:
    return next(c for c in (1, 2, 3, 4) if c not in question.accepted_set)


def assert_nothing_revealed(page: Page, question: Question) -> None:
    """Mid-quiz the page must not tell or hint which choice is right."""
    expect(page.locator(".correct")).to_have_count(0)
    expect(page.locator(".chosen-wrong")).to_have_count(0)
    expect(page.locator(".badge", has_text="정답")).to_have_count(0)
    card_text = page.locator("#quiz-card").inner_text()
    assert "정답" not in card_text, card_text
    assert "해설" not in card_text, card_text
    html = page.content()
    assert question.explanation not in html
    # One plain button per choice plus 모르겠음, none singled out.
    expect(page.locator("#quiz-card button.answer")).to_have_count(5)
    classes = page.locator("#quiz-card button.answer").evaluate_all(
        "bs => bs.map(b => b.className)"
    )
    assert classes == ["answer"] * 4 + ["answer unsure"], classes


def wait_card_ready(page: Page) -> None:
    """Wait until htmx has wired up a freshly swapped card.

    htmx processes swapped-in content only after its settle delay (20 ms),
    removing the htmx-added class then. A click before that is a plain form
    post (full reload): see test_answer_right_after_the_swap_stays_in_page.
    """
    expect(page.locator("#quiz-card.htmx-added")).to_have_count(0)


def answer(page: Page, choice: int, *, via: str) -> None:
    """Answer the current question by clicking its button or pressing its key.

    Between questions the card is swapped in place: same URL, same document
    (a marker on `window` survives), progress one further. The last answer
    lands on the results page.
    """
    done, total = read_progress(page)
    url = page.url
    page.evaluate("() => { window.__e2eSameDocument = true; }")
    if via == "click":
        page.locator(f"#quiz-card button.answer[data-key='{choice}']").click()
    elif via == "key":
        page.keyboard.press(str(choice))
    else:  # pragma: no cover - test bug
        raise ValueError(via)
    if done == total:
        page.wait_for_url(RESULTS_URL)
        return
    expect(progress_text(page)).to_have_text(f"{done + 1} / {total}")
    wait_card_ready(page)
    assert page.url == url, "the URL changed between questions"
    assert page.evaluate("() => window.__e2eSameDocument === true"), (
        "the page reloaded between questions instead of swapping the card"
    )
    expect(page.locator(".quiz-stem")).to_be_focused()


def answer_all(page: Page, pick, *, via: str = "key") -> None:
    """Answer until the results page; pick(question) -> choice (1-5)."""
    while QUIZ_URL.search(page.url):
        question = current_question(page)
        assert_nothing_revealed(page, question)
        answer(page, pick(question), via=via)


def tab(page: Page, value: str):
    return page.locator(f"nav.tabs a.tab[data-tab={value}]")


def switch_tab(page: Page, value: str) -> None:
    tab(page, value).click()
    expect(page.locator(f"#result-list[data-tab-panel={value}]")).to_be_attached()
    expect(page).to_have_url(re.compile(rf"\?tab={value}$"))


# --- tests -------------------------------------------------------------------


def test_stage_quiz_by_click_and_keys_then_results(page: Page, study_topic, screenshot):
    sign_in(page, screenshot)
    screenshot(page, "02-home")
    open_topic(page, study_topic)
    screenshot(page, "03-topic")

    def stage_intro_5(form):
        form.locator("input[name=stage][value=intro]").check()
        form.locator("#size-stage").fill("5")

    session_id = start_quiz(page, study_topic, "stage", stage_intro_5)
    expect(progress_text(page)).to_have_text("1 / 5")
    expect(page.locator("#quiz-card .quiz-progress")).to_contain_text("단계별 · 입문")
    screenshot(page, "04-quiz-stage-first-question")

    outcomes = {}
    # 1: click the right answer; 2: key of a wrong one; 3: 모르겠음 button;
    # 4: key 5 (모르겠음); 5: key of the right answer (finishes the session).
    plan = [
        ("correct", "click"),
        ("wrong", "key"),
        ("unsure", "click"),
        ("unsure", "key"),
        ("correct", "key"),
    ]
    for index, (outcome, via) in enumerate(plan, start=1):
        question = current_question(page)
        assert_nothing_revealed(page, question)
        choice = {
            "correct": question.correct_choice,
            "wrong": wrong_choice(question),
            "unsure": 5,
        }[outcome]
        if index == 3:
            unsure = page.locator("#quiz-card button.answer.unsure")
            expect(unsure).to_have_attribute("value", "5")
            expect(unsure).to_contain_text("모르겠음")
        outcomes[question.pk] = outcome
        answer(page, choice, via=via)
        if index == 2:
            screenshot(page, "05-quiz-stage-after-two-answers")

    assert RESULTS_URL.search(page.url).group(1) == str(session_id)
    attempts = Attempt.objects.filter(session_id=session_id)
    assert {a.question_id: a.outcome for a in attempts} == outcomes
    assert all(a.time_taken_ms > 0 for a in attempts)

    # Results: the 오답 tab opens first since there is a wrong answer.
    expect(page.locator("h1")).to_contain_text("풀이 결과")
    expect(page.locator(".summary")).to_contain_text("정답률 40.0%")
    expect(page.locator(".summary")).to_contain_text("2 / 5문제 정답")
    expect(tab(page, "correct").locator(".count")).to_have_text("2")
    expect(tab(page, "wrong").locator(".count")).to_have_text("1")
    expect(tab(page, "unsure").locator(".count")).to_have_text("2")
    expect(page.locator("#result-list")).to_have_attribute("data-tab-panel", "wrong")
    expect(page.locator("#result-list .result-card")).to_have_count(1)
    screenshot(page, "06-results-wrong-tab")

    # Tabs swap the panel in place (and push the URL).
    panel_before = page.locator("#result-list").inner_text()
    switch_tab(page, "correct")
    expect(page.locator("#result-list .result-card")).to_have_count(2)
    assert page.locator("#result-list").inner_text() != panel_before
    screenshot(page, "07-results-correct-tab")
    switch_tab(page, "unsure")
    expect(page.locator("#result-list .result-card")).to_have_count(2)

    # Expanding an unsure card: the right choice marked, no 내 선택.
    first_unsure = page.locator("#result-list .result-card").first
    first_unsure.locator("button[data-expand]").click()
    detail = first_unsure.locator(".card-detail")
    expect(detail.locator("li.correct")).to_have_count(1)
    expect(detail).to_contain_text("모르겠음으로 답했습니다.")
    expect(detail).not_to_contain_text("내 선택")

    # Expanding the wrong card: right choice marked 정답, my pick 내 선택.
    switch_tab(page, "wrong")
    card = page.locator("#result-list .result-card").first
    wrong_attempt = Attempt.objects.get(session_id=session_id, outcome=Outcome.WRONG)
    question = wrong_attempt.question
    card.locator("button[data-expand]").click()
    detail = card.locator(".card-detail")
    expect(detail.locator("ol.choices > li")).to_have_count(4)
    right = detail.locator("li.correct")
    expect(right).to_have_count(1)
    expect(right).to_contain_text(question.choices[question.correct_choice - 1])
    expect(right.locator(".badge.ok")).to_have_text("정답")
    mine = detail.locator("li.chosen-wrong")
    expect(mine).to_contain_text(question.choices[wrong_attempt.selected_choice - 1])
    expect(mine).to_contain_text("내 선택")
    expect(detail).to_contain_text("해설")
    expect(detail).to_contain_text(question.explanation)
    screenshot(page, "08-results-wrong-card-expanded")

    # 학습완료 toggles in place, and back.
    review = card.locator("form.review-form button")
    expect(review).to_have_text("학습완료")
    review.click()
    expect(review).to_have_text("✓ 학습완료")
    expect(review).to_have_attribute("aria-pressed", "true")
    wrong_attempt.refresh_from_db()
    assert wrong_attempt.reviewed_at is not None
    progress = QuestionProgress.objects.get(question=question, user=wrong_attempt.user)
    assert progress.last_reviewed_at is not None and progress.due_at is not None
    screenshot(page, "09-results-marked-reviewed")
    review.click()
    expect(review).to_have_text("학습완료")
    expect(review).to_have_attribute("aria-pressed", "false")
    wrong_attempt.refresh_from_db()
    assert wrong_attempt.reviewed_at is None


def test_resume_after_reload_keeps_progress(page: Page, study_topic, screenshot):
    sign_in(page)
    session_id = start_quiz(
        page, study_topic, "stage", lambda f: f.locator("#size-stage").fill("5")
    )
    answer(page, 1, via="click")
    answer(page, 5, via="key")
    expect(progress_text(page)).to_have_text("3 / 5")
    third = current_question(page)

    page.reload()
    expect(progress_text(page)).to_have_text("3 / 5")
    expect(page.locator(".quiz-stem")).to_have_text(third.stem)
    assert current_question(page).pk == third.pk

    # The topic page offers to resume it, showing how far it got.
    open_topic(page, study_topic)
    resume = page.locator("section[aria-labelledby=resume-h] a.row-link")
    expect(resume).to_have_count(1)
    expect(resume).to_contain_text("2 / 5")
    screenshot(page, "10-topic-resume")
    resume.click()
    page.wait_for_url(re.compile(rf"/quiz/{session_id}/$"))
    expect(progress_text(page)).to_have_text("3 / 5")
    answer_all(page, lambda q: q.correct_choice)
    session = QuizSession.objects.get(pk=session_id)
    assert session.status == "finished" and session.answered_count == 5
    assert session.attempts.count() == 5


def test_abandon_keeps_what_was_answered(page: Page, study_topic):
    sign_in(page)
    session_id = start_quiz(
        page, study_topic, "stage", lambda f: f.locator("#size-stage").fill("5")
    )
    answer(page, 2, via="key")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="그만 풀기").click()
    page.wait_for_url(RESULTS_URL)
    expect(page.locator(".summary")).to_contain_text("중단")
    expect(page.locator(".summary")).to_contain_text("5문제 중 1문제 풂")
    assert QuizSession.objects.get(pk=session_id).status == "abandoned"


def test_round_mode_goes_through_the_round_in_order(
    page: Page, study_topic, screenshot
):
    sign_in(page)
    open_topic(page, study_topic)
    options = page.locator("#round-key option")
    expect(options).to_have_count(2)
    expect(options.first).to_have_text("2023년 1회 (15문제)")

    def pick_round(form):
        expect(form.locator("#round-key")).to_be_enabled()
        expect(form.locator("#size-stage")).to_be_disabled()
        form.locator("#round-key").select_option("2022-1")

    start_quiz(page, study_topic, "round", pick_round)
    expect(progress_text(page)).to_have_text("1 / 15")
    screenshot(page, "11-quiz-round")
    for number in range(1, 16):
        expect(page.locator("#quiz-card .meta .badge").first).to_have_text(
            f"2022년 1회 {number}번"
        )
        question = current_question(page)
        assert (question.exam_year, question.number) == (2022, number)
        assert_nothing_revealed(page, question)
        answer(page, question.correct_choice, via="key")
    expect(tab(page, "correct").locator(".count")).to_have_text("15")
    expect(page.locator("#result-list")).to_have_attribute("data-tab-panel", "correct")
    expect(page.locator("#result-list .result-card")).to_have_count(15)
    screenshot(page, "12-results-round-all-correct")


def test_subject_mode_asks_only_the_chosen_subject(page: Page, study_topic):
    sign_in(page)
    chosen = SUBJECTS[1]

    def one_subject(form):
        expect(form.locator("#size-subject")).to_be_enabled()
        expect(form.locator("#size-stage")).to_be_disabled()
        boxes = form.locator("input[name=subjects]")
        expect(boxes).to_have_count(3)
        for subject in SUBJECTS:
            if subject != chosen:
                form.locator(f"input[name=subjects][value='{subject}']").uncheck()
        form.locator("#size-subject").fill("6")

    start_quiz(page, study_topic, "subject", one_subject)
    expect(progress_text(page)).to_have_text("1 / 6")
    expect(page.locator("#quiz-card .quiz-progress")).to_contain_text("과목별")
    seen = []
    while QUIZ_URL.search(page.url):
        expect(page.locator("#quiz-card .meta")).to_contain_text(chosen)
        question = current_question(page)
        seen.append(question.subject)
        answer(page, wrong_choice(question), via="click")
    assert seen == [chosen] * 6
    expect(tab(page, "wrong").locator(".count")).to_have_text("6")


def test_review_queue_starts_a_session(page: Page, study_topic, screenshot):
    sign_in(page)
    start_quiz(page, study_topic, "stage", lambda f: f.locator("#size-stage").fill("5"))
    answer_all(page, lambda q: 5)  # 모르겠음 for everything, by key
    expect(page.locator("#result-list")).to_have_attribute("data-tab-panel", "unsure")
    expect(page.locator("#result-list .result-card")).to_have_count(5)

    # 바로 할 일 counts this session's unchecked misses (모르겠음 is no 오답)
    # and links to the queue where they can be checked at once.
    todo = page.locator("aside.callout")
    expect(todo).not_to_contain_text("오답")
    expect(todo.locator('[data-count="unchecked_unsure"]')).to_have_text("모르겠음 5")
    todo.get_by_role("link", name="복습 목록에서 한꺼번에 확인하기").click()
    page.wait_for_url(
        re.compile(rf"/study-topics/{study_topic.pk}/review-queue\?tab=pending_review$")
    )
    expect(page.locator("h1")).to_have_text("복습 목록")
    expect(page.locator("a.tab.active")).to_have_attribute("data-tab", "pending_review")
    expect(page.locator("#queue-list .queue-item")).to_have_count(5)
    screenshot(page, "14-review-queue-pending")

    page.get_by_role("button", name="이 목록으로 풀기 (5문제)").click()
    page.wait_for_url(QUIZ_URL)
    expect(progress_text(page)).to_have_text("1 / 5")
    expect(page.locator("#quiz-card .quiz-progress")).to_contain_text("복습")
    screenshot(page, "15-quiz-review")
    answer_all(page, lambda q: q.correct_choice, via="click")
    expect(tab(page, "correct").locator(".count")).to_have_text("5")
    expect(page.locator(".summary")).to_contain_text("회복 5")

    page.goto(f"/study-topics/{study_topic.pk}/review-queue?tab=pending_review")
    expect(page.locator("#queue-list")).to_contain_text("이 목록은 비어 있습니다.")
    screenshot(page, "16-review-queue-empty")


def test_stale_tab_cannot_answer_twice(page: Page, study_topic, screenshot):
    """Two tabs on one session: the second answer to a slot is refused, visibly."""
    sign_in(page)
    session_id = start_quiz(
        page, study_topic, "stage", lambda f: f.locator("#size-stage").fill("5")
    )
    other = page.context.new_page()
    other.goto(f"/quiz/{session_id}/")
    expect(progress_text(other)).to_have_text("1 / 5")

    answer(page, 1, via="click")
    other.locator("#quiz-card button.answer[data-key='2']").click()
    error = other.locator("#quiz-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("이미 답한 문제입니다.")
    screenshot(other, "17-quiz-stale-tab-error")
    assert Attempt.objects.filter(session_id=session_id).count() == 1
    other.get_by_role("link", name="현재 문제 불러오기").click()
    expect(progress_text(other)).to_have_text("2 / 5")
    other.close()


# --- regressions of bugs found by these tests ----------------------------------


def test_results_tab_bar_follows_the_selected_tab(page: Page, study_topic):
    sign_in(page)
    start_quiz(page, study_topic, "stage", lambda f: f.locator("#size-stage").fill("5"))
    answer_all(page, lambda q: wrong_choice(q) if q.number % 2 else q.correct_choice)
    first = page.locator("#result-list").get_attribute("data-tab-panel")
    other = "correct" if first != "correct" else "wrong"
    switch_tab(page, other)
    expect(tab(page, other)).to_have_attribute("aria-selected", "true", timeout=2000)
    expect(tab(page, first)).to_have_attribute("aria-selected", "false", timeout=2000)


def test_holding_a_key_answers_only_one_question(page: Page, study_topic):
    sign_in(page)
    start_quiz(page, study_topic, "stage", lambda f: f.locator("#size-stage").fill("5"))
    page.keyboard.down("5")  # first press answers question 1
    expect(progress_text(page)).to_have_text("2 / 5")
    wait_card_ready(page)
    page.keyboard.down("5")  # still held: an auto-repeat keydown (repeat=true)
    page.wait_for_timeout(700)
    page.keyboard.up("5")
    expect(progress_text(page)).to_have_text("2 / 5", timeout=500)


def test_start_form_still_works_after_going_back(page: Page, study_topic):
    sign_in(page)

    def subject_mode(form):
        form.locator("#size-subject").fill("6")

    start_quiz(page, study_topic, "subject", subject_mode)
    page.go_back()
    form = page.locator("form.quiz-start")
    expect(form.locator("input[name=mode][value=subject]")).to_be_checked()
    with page.expect_navigation():
        form.get_by_role("button", name="시작하기").click()
    expect(page.locator(".messages")).to_have_count(0, timeout=1000)
    expect(page).to_have_url(QUIZ_URL, timeout=1000)


def test_answer_right_after_the_swap_stays_in_page(page: Page, study_topic):
    sign_in(page)
    start_quiz(page, study_topic, "stage", lambda f: f.locator("#size-stage").fill("5"))
    # A quick learner (or key auto-repeat) answers the next card as soon as
    # it shows: right after the swap, within the settle delay.
    page.evaluate(
        """() => {
            window.__e2eSameDocument = true;
            document.addEventListener("htmx:afterSwap", () => setTimeout(() => {
                document.querySelector('#quiz-card .answer[data-key="5"]').click();
            }, 0), {once: true});
        }"""
    )
    page.locator("#quiz-card button.answer[data-key='1']").click()
    expect(progress_text(page)).to_have_text("3 / 5")
    wait_card_ready(page)
    assert page.evaluate("() => window.__e2eSameDocument === true"), "page reloaded"
