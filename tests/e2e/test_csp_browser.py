"""L8: the app works in Chromium under its Content-Security-Policy.

Every browser test fails on a CSP violation (conftest.CSPWatch); these pages add
what the learner loop does not cover: KaTeX math, the AI panel, confirm dialogs,
the admin, and a check that the watch really catches a violation.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from study.models import AIExplanationStatus, Question
from tests.e2e.conftest import DESKTOP_VIEWPORT, PHONE_VIEWPORT
from tests.e2e.test_learner_loop_browser import sign_in

pytestmark = pytest.mark.browser
VIEWPORTS = pytest.mark.parametrize(
    "page", [PHONE_VIEWPORT, DESKTOP_VIEWPORT], indirect=True, ids=["phone", "desktop"]
)


@pytest.fixture
def math_question(study_topic):
    question = study_topic.questions.order_by("id").first()
    question.stem = "넓이가 $a^2 + b^2$ 인 것은? <img src=x onerror=alert(1)>"
    question.ai_explanation = (
        "정답은 1번입니다.\n\n$$\\frac{W}{t} = P$$ 이고 "
        '<span class="$x$">덫</span> $v = at$'
    )
    question.ai_explanation_status = AIExplanationStatus.READY
    question.correct_choice = 1
    question.save()
    return question


@VIEWPORTS
def test_math_and_the_ai_panel_render_under_the_csp(
    page: Page, math_question, screenshot, request
):
    sign_in(page)
    response = page.goto(f"/study-questions/{math_question.pk}/")

    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-eval" not in policy
    assert "unsafe-inline" not in policy
    assert response.headers["permissions-policy"].startswith("accelerometer=()")
    assert "no-store" in response.headers["cache-control"]
    expect(page.locator(".stem .katex").first).to_be_visible()
    expect(page.locator(".ai-panel .katex-display")).to_have_count(1)
    expect(page.locator(".ai-panel .katex")).to_have_count(3)  # incl. the trap span
    assert (
        page.evaluate("typeof htmx !== 'undefined' && htmx.config.allowEval") is False
    )
    assert page.evaluate("htmx.config.allowScriptTags") is False
    screenshot(page, f"20-csp-question-math-{request.node.callspec.id}")


def test_confirm_dialogs_work_without_inline_handlers(page: Page, study_topic):
    sign_in(page)
    question = study_topic.questions.order_by("id").first()
    page.goto(f"/study-questions/{question.pk}/")
    # One handler for the whole test, told what to do with each dialog: a
    # once() listener left over from a dialog that came late would answer the
    # next one too (seen under load: "dialog already handled").
    answers, asked = ["dismiss"], []

    def on_dialog(dialog):
        asked.append(dialog.message)
        getattr(dialog, answers[-1])()

    page.on("dialog", on_dialog)

    page.get_by_role("button", name="삭제").click()
    wait_until(page, lambda: len(asked) == 1)
    expect(page.get_by_role("button", name="삭제")).to_be_visible()
    assert page.url.endswith(f"/study-questions/{question.pk}/")
    assert Question.objects.alive().filter(pk=question.pk).exists()

    answers.append("accept")
    page.get_by_role("button", name="삭제").click()
    page.wait_for_url(f"**/study-topics/{study_topic.pk}/", timeout=60_000)
    assert len(asked) == 2
    assert not Question.objects.alive().filter(pk=question.pk).exists()


def wait_until(page: Page, condition, timeout_s: float = 30.0) -> None:
    """Wait for a condition the browser's events fulfil (not for a time).
    page.wait_for_timeout, not time.sleep: the sync API delivers events (the
    dialog) only while it runs."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        page.wait_for_timeout(50)


def test_the_admin_runs_under_the_csp(
    page: Page, study_topic, staff_in_browser, screenshot
):
    page.goto("/admin/study/question/")
    expect(page.locator("#result_list")).to_be_visible()
    page.locator("#result_list tbody input.action-select").first.check()
    expect(page.locator(".action-counter")).to_contain_text("1")
    page.goto("/admin/study/topic/add/")
    expect(page.locator("#topic_form")).to_be_visible()
    screenshot(page, "21-csp-admin-topic-add")


def test_the_watch_catches_a_violation(page: Page, study_topic, csp):
    """Proof the guard works: an inline script is blocked and reported."""
    sign_in(page)
    reported = lambda message: "CSP violation" in message.text  # noqa: E731

    with page.expect_console_message(reported) as message:
        page.evaluate(
            "() => { const s = document.createElement('script');"
            " s.textContent = 'window.ran = true'; document.body.appendChild(s); }"
        )

    assert "script-src" in message.value.text
    assert any("script-src" in v for v in csp.take())
    assert page.evaluate("window.ran === undefined")


@pytest.fixture
def staff_in_browser(page: Page, transactional_db):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser(username="boss", password="pw-boss-123")
    page.goto("/admin/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "pw-boss-123")
    page.locator("input[type=submit]").click()
    page.wait_for_url("**/admin/")
    return page


def test_the_lockout_page_is_clear_and_the_topic_form_offers_publishing(
    page: Page, study_topic, screenshot
):
    from tests.e2e.conftest import LEARNER

    page.goto("/accounts/login/")
    for _ in range(5):  # the fifth failure locks
        page.fill("#id_username", LEARNER["username"])
        page.fill("#id_password", "wrong-password")
        with page.expect_navigation():
            page.locator("main form button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("로그인이 잠시 잠겼습니다")
    expect(page.locator("main")).to_contain_text("15분 뒤에 다시 시도하세요")
    screenshot(page, "22-login-locked")

    from axes.models import AccessAttempt

    AccessAttempt.objects.all().delete()  # an admin unlocks (axes_reset does this)
    sign_in(page)
    page.goto(f"/study-topics/{study_topic.pk}/edit")
    publish = page.get_by_label("뷰어에 발행")
    expect(publish).not_to_be_checked()
    screenshot(page, "23-topic-edit-publishing")
