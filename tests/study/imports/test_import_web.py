"""Importing question files from the topic page and admin: dry run, import, report."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django_q.models import OrmQ

from study.models import ImportStatus, Question, QuestionImport, Topic
from study.tasks import question_import_apply_task, question_import_check_task
from tests.study.imports.test_import_questions import HEADER, row

GOOD = [HEADER, row(1), row(2, session="B"), row(3, session="1_추가시험")]
BAD = [HEADER, row(4, answer="9"), row(5, session="ì¶”ê°€"), row(6, answer="7")]


def upload(name, lines):
    return SimpleUploadedFile(name, ("\n".join(lines) + "\n").encode("utf-8"))


def post_files(client, topic, *files):
    return client.post(
        reverse("study:import_new", args=[topic.pk]), {"files": list(files)}
    )


def the_run():
    return QuestionImport.objects.get()


def test_owner_dry_runs_then_imports_and_downloads_the_report(client, user, topic):
    client.force_login(user)
    response = post_files(
        client, topic, upload("good.csv", GOOD), upload("bad.csv", BAD)
    )
    run = the_run()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "study:import_detail", args=[topic.pk, run.pk]
    )
    assert run.status == ImportStatus.CHECKED and Question.objects.count() == 0
    page = client.get(response["Location"]).content.decode()
    assert "검사 결과" in page and "아직 저장하지 않았습니다" in page
    assert 'data-count="imported">3<' in page and 'data-count="rejected">3<' in page
    # Counts per reason, and the first rejected rows with file and line.
    assert "<td>올바르지 않은 정답</td><td>2</td>" in page
    assert "<td>회차로 읽을 수 없음</td><td>1</td>" in page
    assert (
        '<span class="where">bad.csv · 2번째 줄</span> <span class="why">'
        "정답은 1~4 중 하나이거나 쉼표로 나눈 번호여야 합니다: &#x27;9&#x27;</span>"
    ) in page

    dry = client.get(reverse("study:import_report", args=[topic.pk, run.pk]))
    assert dry["Content-Disposition"] == (
        f'attachment; filename="import-{run.pk}-dry-run.json"'
    )
    assert json.loads(dry.content)["imported"] == 3

    client.post(reverse("study:import_confirm", args=[topic.pk, run.pk]))
    run.refresh_from_db()
    assert run.status == ImportStatus.DONE
    assert Question.objects.filter(topic=topic).count() == 3
    page = client.get(reverse("study:import_detail", args=[topic.pk, run.pk]))
    assert "가져오기 완료" in page.content.decode()
    # Confirming twice imports nothing twice.
    client.post(reverse("study:import_confirm", args=[topic.pk, run.pk]))
    assert Question.objects.count() == 3


def test_the_web_report_is_the_commands_report(client, user, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "good.csv").write_text("\n".join(GOOD) + "\n", encoding="utf-8")
    (tmp_path / "bad.csv").write_text("\n".join(BAD) + "\n", encoding="utf-8")
    call_command(
        "import_questions",
        "good.csv",
        "bad.csv",
        "--topic",
        "명령",
        "--owner",
        "learner",
        "--report",
        "report.json",
        verbosity=0,
    )
    web_topic = Topic.objects.create(name="웹", owner=user)
    client.force_login(user)
    post_files(client, web_topic, upload("good.csv", GOOD), upload("bad.csv", BAD))
    run = the_run()
    client.post(reverse("study:import_confirm", args=[web_topic.pk, run.pk]))
    web = client.get(reverse("study:import_report", args=[web_topic.pk, run.pk]))
    assert web.content.decode() == (tmp_path / "report.json").read_text("utf-8")
    report = json.loads(web.content)
    counted = report["imported"] + report["updated"] + report["unchanged"]
    assert counted + len(report["rejected"]) == report["rows"] == 6


def test_large_uploads_run_in_the_background_with_progress(
    client, user, topic, settings, django_capture_on_commit_callbacks
):
    settings.QUESTION_IMPORT_INLINE_MAX_BYTES = 10
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        post_files(client, topic, upload("good.csv", GOOD))
    run = the_run()
    assert run.status == ImportStatus.CHECK_QUEUED and run.background
    assert OrmQ.objects.count() == 1
    url = reverse("study:import_detail", args=[topic.pk, run.pk])
    polling = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 1s"' in polling and "검사 중" in polling
    assert "<html" not in polling  # the partial only

    assert question_import_check_task(run.pk) == ImportStatus.CHECKED  # the worker
    done = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in done and "검사 결과" in done

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("study:import_confirm", args=[topic.pk, run.pk]))
    assert OrmQ.objects.count() == 2
    assert Question.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert question_import_apply_task(run.pk) == ImportStatus.DONE
    assert Question.objects.count() == 3
    # the new questions' 근거 카드 are computed ahead, in the background
    queued = [q.task for q in OrmQ.objects.all()]
    assert {"func": "study.tasks.topic_cards_compute_task", "args": [topic.pk]} in [
        {"func": t["func"], "args": list(t["args"])} for t in queued
    ]
    # A task delivered twice does nothing the second time.
    assert question_import_apply_task(run.pk) == ImportStatus.DONE
    assert Question.objects.count() == 3


def test_bad_uploads_are_refused_with_a_reason(client, user, topic, settings):
    client.force_login(user)
    response = post_files(client, topic, upload("notes.pdf", ["%PDF"]))
    assert (
        "CSV(.csv) 또는 JSON Lines(.jsonl) 파일만 됩니다" in response.content.decode()
    )
    settings.QUESTION_IMPORT_MAX_BYTES = 10
    response = post_files(client, topic, upload("a.csv", GOOD))
    assert "파일이 너무 큽니다" in response.content.decode()
    response = client.post(reverse("study:import_new", args=[topic.pk]), {})
    assert (
        response.status_code == 200 and 'class="errorlist' in response.content.decode()
    )
    assert QuestionImport.objects.count() == 0


def test_a_file_that_is_not_a_question_file_is_reported_not_crashed(
    client, user, topic
):
    client.force_login(user)
    post_files(client, topic, upload("x.csv", ["hello", "\x00\x01,2,3", '"open']))
    run = the_run()
    assert run.status == ImportStatus.CHECKED
    assert run.dry_run_report["imported"] == 0
    # Nothing to add or fix: no 가져오기 to press, and the page says why.
    page = client.get(reverse("study:import_detail", args=[topic.pk, run.pk]))
    html = page.content.decode()
    assert "data-nothing-to-import" in html and "아직 저장하지 않았습니다" not in html
    assert reverse("study:import_confirm", args=[topic.pk, run.pk]) not in html


def test_only_owner_and_staff_may_import(client, user, other_user, staff_user, topic):
    client.force_login(user)
    post_files(client, topic, upload("good.csv", GOOD))
    run = the_run()
    client.force_login(other_user)
    topic.is_shared = True
    topic.save()
    for name in ("import_detail", "import_report"):
        assert (
            client.get(reverse(f"study:{name}", args=[topic.pk, run.pk])).status_code
            == 404
        )
    assert client.get(reverse("study:import_new", args=[topic.pk])).status_code == 404
    assert (
        client.post(
            reverse("study:import_confirm", args=[topic.pk, run.pk])
        ).status_code
        == 404
    )
    assert Question.objects.count() == 0
    client.force_login(staff_user)
    client.post(reverse("study:import_confirm", args=[topic.pk, run.pk]))
    assert Question.objects.count() == 3


def test_topic_page_offers_import_to_its_owner_only(client, user, other_user, topic):
    url = reverse("study:topic", args=[topic.pk])
    link = reverse("study:import_new", args=[topic.pk])
    client.force_login(user)
    assert link in client.get(url).content.decode()
    topic.is_shared = True
    topic.save()
    client.force_login(other_user)
    assert link not in client.get(url).content.decode()


@pytest.mark.parametrize("background", [False, True])
def test_admin_imports_with_the_same_steps(
    client, staff_user, topic, settings, background, django_capture_on_commit_callbacks
):
    if background:
        settings.QUESTION_IMPORT_INLINE_MAX_BYTES = 10
    client.force_login(staff_user)
    add = reverse("admin:study_questionimport_add")
    assert "문제 파일" in client.get(add).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            add, {"topic": topic.pk, "files": [upload("good.csv", GOOD)]}
        )
    run = the_run()
    change = reverse("admin:study_questionimport_change", args=[run.pk])
    assert response["Location"] == change
    if background:
        question_import_check_task(run.pk)
    page = client.get(change).content.decode()
    assert "검사 결과" in page and 'data-count="imported">3<' in page
    confirm = reverse("admin:study_questionimport_confirm", args=[run.pk])
    assert confirm in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(confirm)
    if background:
        question_import_apply_task(run.pk)
    assert Question.objects.filter(topic=topic).count() == 3
    report = client.get(reverse("admin:study_questionimport_report", args=[run.pk]))
    assert json.loads(report.content)["imported"] == 3
    listing = client.get(reverse("admin:study_questionimport_changelist"))
    assert "3 (3/0/0/0)" in listing.content.decode() and add in listing.content.decode()


def test_a_failed_or_stuck_step_can_be_run_again(client, user, topic, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from study.imports import runs as question_import_runs

    def broken(**kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(question_import_runs, "questions_import", broken)
    client.force_login(user)
    post_files(client, topic, upload("good.csv", GOOD))
    run = the_run()
    assert run.status == ImportStatus.FAILED
    url = reverse("study:import_detail", args=[topic.pk, run.pk])
    page = client.get(url).content.decode()
    assert "RuntimeError: disk on fire" in page and "다시 시도" in page

    monkeypatch.undo()
    client.post(reverse("study:import_retry", args=[topic.pk, run.pk]))
    run.refresh_from_db()
    assert run.status == ImportStatus.CHECKED and run.error == ""

    # A worker that died while importing: silent for longer than a task may run.
    QuestionImport.objects.filter(pk=run.pk).update(status=ImportStatus.IMPORTING)
    retry = reverse("study:import_retry", args=[topic.pk, run.pk])
    client.post(retry)  # not stale yet: nothing happens
    assert the_run().status == ImportStatus.IMPORTING
    QuestionImport.objects.filter(pk=run.pk).update(
        updated_at=timezone.now() - timedelta(hours=1)
    )
    page = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "작업이 멈춘 것 같습니다" in page and "hx-trigger" not in page
    client.post(retry)
    assert the_run().status == ImportStatus.DONE
    assert Question.objects.count() == 3


def test_a_background_step_saves_its_progress_for_the_page(
    client, user, topic, settings, monkeypatch
):
    from study.imports import runs as question_import_runs

    settings.QUESTION_IMPORT_INLINE_MAX_BYTES = 10
    client.force_login(user)
    post_files(client, topic, upload("good.csv", GOOD), upload("bad.csv", BAD))
    run = the_run()
    assert run.rows_estimate == 10  # lines of both files, for the progress bar
    ticks = iter(range(0, 1000))  # a clock that moves a second per reading
    monkeypatch.setattr(question_import_runs.time, "monotonic", lambda: next(ticks))
    seen = []
    real_import = question_import_runs.questions_import

    def watched(**kwargs):
        on_write = kwargs["on_write"]

        def write():
            seen.append(("rows read", the_run().rows_read))
            on_write()
            seen.append(("writing", the_run().writing, the_run().percent))

        return real_import(**{**kwargs, "on_write": write})

    monkeypatch.setattr(question_import_runs, "questions_import", watched)
    question_import_check_task(run.pk)
    assert seen == [("rows read", 6), ("writing", True, 99)]  # saved as it read
    run.refresh_from_db()
    assert (run.rows_read, run.writing, run.status) == (6, False, ImportStatus.CHECKED)


def test_the_reasons_follow_the_pages_language(client, user, topic):
    """Issue 23: reasons were English inside the Korean page; now each is a
    code worded in the reader's language, on the page and in the report."""
    client.force_login(user)
    post_files(client, topic, upload("bad.csv", BAD))
    run = the_run()
    url = reverse("study:import_detail", args=[topic.pk, run.pk])
    report_url = reverse("study:import_report", args=[topic.pk, run.pk])
    korean = client.get(url).content.decode()
    english = client.get(url, headers={"Accept-Language": "en"}).content.decode()
    assert "<td>올바르지 않은 정답</td><td>2</td>" in korean
    assert "invalid answer" not in korean
    assert "<td>Invalid answer</td><td>2</td>" in english
    assert "<td>Not a round label</td><td>1</td>" in english
    assert "The answer must be one of 1–4" in english
    assert "정답은" not in english
    report = json.loads(
        client.get(report_url, headers={"Accept-Language": "en"}).content
    )
    assert {r["code"] for r in report["rejected"]} == {"invalid_answer", "bad_session"}
    assert report["reasons"][0] == {
        "code": "invalid_answer",
        "reason": "Invalid answer",
        "rows": 2,
    }
    assert report["rejected"][0]["reason"].startswith("The answer must be one of")
