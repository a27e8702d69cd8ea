"""Importing question files in a real browser: upload, dry run, import, report.

Phone and desktop sizes; the background path is driven by running the
worker's task in the test once the page shows it is waiting (no sleeps).
Screenshots land in test-artifacts/e2e/.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from study.models import ImportStatus, Question, QuestionImport, Topic
from study.tasks import question_import_apply_task, question_import_check_task
from tests.e2e.conftest import LEARNER
from tests.e2e.test_learner_loop_browser import sign_in

pytestmark = pytest.mark.browser

HEADER = (
    "Test Name,Year,Session,Subject,Number,Question,Question_image,"
    "Option 1,Option 2,Option 3,Option 4,Answer"
)
DETAIL_URL = re.compile(r"/imports/(\d+)/$")


def line(session, number, *, year=2019, answer="2", opts=("가", "나", "다", "라")):
    stem = f"{year}년 {session} {number}번: 다음 중 옳은 것은?"
    return ",".join(
        [
            "소방안전교육사",
            str(year),
            session,
            "소방학개론",
            str(number),
            stem,
            "",
            *opts,
        ]
        + [answer]
    )


@pytest.fixture(autouse=True)
def media(settings, tmp_path_factory):
    """Uploaded question files go to a temporary storage."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")


@pytest.fixture
def files(tmp_path):
    good = tmp_path / "fire-2019.csv"
    good.write_text(
        "\n".join(
            [HEADER]
            + [line("A", n) for n in range(1, 6)]
            + [line("B", n) for n in range(1, 6)]
            + [line("1_추가시험", n, year=2005) for n in range(1, 4)]
            + [line("가", 1, year=2012), line("A", 6, opts=("", "", "", ""))]
        )
        + "\n",
        encoding="utf-8",
    )
    bad = tmp_path / "broken.csv"
    bad.write_text(
        "\n".join(
            [
                HEADER,
                line("A", 7, answer="9"),
                line("ì¶”ê°€", 1),
                line("A", 8, answer="정답"),
                line("A", 1),  # the same key as in fire-2019.csv
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    return [good, bad]


@pytest.fixture
def own_topic(learner):
    return Topic.objects.create(name="소방안전교육사", owner=learner)


def upload_and_check(page: Page, topic, files, screenshot, name: str) -> int:
    page.goto(f"/study-topics/{topic.pk}/")
    page.get_by_role("link", name="문제 가져오기").click()
    expect(page.locator("h1")).to_have_text("문제 가져오기")
    page.set_input_files("input[name=files]", [str(f) for f in files])
    screenshot(page, f"{name}-01-upload")
    page.get_by_role("button", name="검사하기").click()
    page.wait_for_url(DETAIL_URL)
    return int(DETAIL_URL.search(page.url).group(1))


def download_report(page: Page) -> dict:
    with page.expect_download() as info:
        page.get_by_role("link", name="보고서 내려받기 (JSON)").click()
    return json.loads(open(info.value.path(), encoding="utf-8").read())


def assert_dry_run_shown(page: Page) -> None:
    status = page.locator("#import-status")
    expect(status.get_by_role("heading", name="검사 결과")).to_be_visible()
    expect(status.locator('[data-count="imported"]')).to_have_text("15")
    expect(status.locator('[data-count="rejected"]')).to_have_text("4")
    reasons = status.locator("table.import-reasons")
    expect(reasons).to_contain_text("올바르지 않은 정답")
    expect(reasons).to_contain_text("회차로 읽을 수 없음")
    expect(reasons).to_contain_text("중복")
    rejected = status.locator("ul.import-rejected li")
    expect(rejected).to_have_count(4)
    expect(rejected.first).to_contain_text("broken.csv")


def assert_imported(report: dict) -> None:
    counted = report["imported"] + report["updated"] + report["unchanged"]
    assert counted + report["rejected_count"] == report["rows"] == 19
    assert report["imported"] == 15
    labels = {q.round_label for q in Question.objects.all()}
    assert labels == {
        "2019년 A형",
        "2019년 B형",
        "2005년 1회 추가시험",
        "2012년 가책형",
    }
    assert Question.objects.get(exam_session="A", number=6).needs_figure


def test_web_import_dry_run_then_import_on_desktop(
    desktop_page: Page, own_topic, files, screenshot
):
    page = desktop_page
    sign_in(page)
    upload_and_check(page, own_topic, files, screenshot, "import-desktop")
    assert_dry_run_shown(page)
    screenshot(page, "import-desktop-02-dry-run")
    dry = download_report(page)
    assert dry["rows"] == 19 and dry["imported"] == 15
    assert Question.objects.count() == 0  # a dry run writes nothing

    page.get_by_role("button", name="가져오기").click()
    expect(page.get_by_role("heading", name="가져오기 완료")).to_be_visible()
    screenshot(page, "import-desktop-03-done")
    report = download_report(page)
    assert_imported(report)
    assert report["rejected"] == dry["rejected"]

    page.get_by_role("link", name="토픽으로").click()
    rounds = page.locator("section[aria-labelledby=rounds-h]")
    expect(rounds).to_contain_text("2005년 1회 추가시험")
    texts = rounds.locator("li span:first-child").all_inner_texts()
    assert texts == ["2019년 A형", "2019년 B형", "2012년 가책형", "2005년 1회 추가시험"]
    screenshot(page, "import-desktop-04-rounds")


def test_large_web_import_runs_in_the_background_on_a_phone(
    page: Page, own_topic, files, screenshot, settings
):
    settings.QUESTION_IMPORT_INLINE_MAX_BYTES = 0  # every upload is "large"
    sign_in(page)
    import_id = upload_and_check(page, own_topic, files, screenshot, "import-phone")
    status = page.locator("#import-status")
    expect(status.get_by_role("heading", name="검사 중")).to_be_visible()
    expect(status.locator("progress")).to_be_visible()
    screenshot(page, "import-phone-02-waiting")
    assert QuestionImport.objects.get(pk=import_id).status == ImportStatus.CHECK_QUEUED

    question_import_check_task(import_id)  # what a qcluster worker runs
    assert_dry_run_shown(page)  # the polling picked the result up
    screenshot(page, "import-phone-03-dry-run")

    page.get_by_role("button", name="가져오기").click()
    expect(status.get_by_role("heading", name="가져오는 중")).to_be_visible()
    assert Question.objects.count() == 0
    question_import_apply_task(import_id)
    expect(page.get_by_role("heading", name="가져오기 완료")).to_be_visible()
    screenshot(page, "import-phone-04-done")
    assert_imported(download_report(page))


def test_admin_import_in_the_browser(desktop_page: Page, own_topic, files, screenshot):
    from django.contrib.auth import get_user_model

    get_user_model().objects.filter(username=LEARNER["username"]).update(
        is_staff=True, is_superuser=True
    )
    page = desktop_page
    sign_in(page)
    page.goto("/admin/study/questionimport/add/")
    page.select_option("select[name=topic]", str(own_topic.pk))
    page.set_input_files("input[name=files]", [str(f) for f in files])
    screenshot(page, "import-admin-01-upload")
    page.locator("input[type=submit][value=검사하기]").click()
    page.wait_for_url(re.compile(r"/admin/study/questionimport/\d+/change/$"))
    assert_dry_run_shown(page)
    screenshot(page, "import-admin-02-dry-run")
    page.get_by_role("button", name="가져오기").click()
    expect(page.get_by_role("heading", name="가져오기 완료")).to_be_visible()
    screenshot(page, "import-admin-03-done")
    assert_imported(download_report(page))
