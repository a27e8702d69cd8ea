"""Issue 24, N1 and N4: an import is bounded by design, whatever the upload.

The parse streams (memory does not grow with the file), a report lists the
first rejected rows and counts the rest, rows per upload and bytes stored per
user have limits with a clear refusal, nothing large runs in the request,
every failure ends the run with a reason, and old uploads are deleted. A bad
JSON Lines row rejects that row only."""

import io
import json
import tracemalloc
from datetime import timedelta

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from study.imports import services as import_services
from study.imports.parsing import (
    LINE_MAX_CHARS,
    ParsedRow,
    parse_bytes,
    parse_stream,
)
from study.imports.runs import question_imports_cleanup
from study.imports.services import REPORT_MAX_REJECTIONS, ImportReport
from study.models import ImportStatus, Question, QuestionImport, QuestionImportFile
from study.tasks import question_import_check_task
from tests.study.imports.test_import_questions import HEADER, row


def upload(name, data: bytes):
    return SimpleUploadedFile(name, data)


def post(client, topic, *files):
    return client.post(
        reverse("study:import_new", args=[topic.pk]), {"files": list(files)}
    )


def the_run():
    return QuestionImport.objects.get()


def hostile_x_lines(count: int) -> bytes:
    """N1's file: the header, then a line "x" over and over."""
    return (HEADER + "\n" + "x\n" * count).encode()


def test_the_parse_holds_a_bounded_part_of_the_file_in_memory():
    # An unclosed quote and 12 MB on one line: before, the whole text was
    # decoded, copied and grown into one csv field (tens of MB).
    data = HEADER + "\n" + row(1) + '\n"' + "x" * 12_000_000 + "\n" + row(2) + "\n"
    data = data.encode()
    tracemalloc.start()
    try:
        items = list(parse_bytes("big.csv", data))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20, f"peak {peak / 2**20:.1f} MiB"
    assert [type(i).__name__ for i in items] == ["ParsedRow", "Rejection", "ParsedRow"]
    assert items[1].code == "line_too_long" and items[1].line == 3
    assert items[1].params == {"max": LINE_MAX_CHARS}


def test_an_unclosed_quote_costs_one_field_not_the_rest_of_the_file():
    lines = [HEADER, row(1), row(2).replace("문제 2", '"문제 2'), *map(row, (3, 4))]
    lines += ["x" * 1000] * 200  # more than a field's worth before the quote ends
    lines += [row(5)]
    items = list(parse_stream("q.csv", io.BytesIO("\n".join(lines).encode())))
    parsed = [i.number for i in items if isinstance(i, ParsedRow)]
    assert parsed[0] == 1 and parsed[-1] == 5
    assert "field_too_long" in {getattr(i, "code", "") for i in items}


def test_a_report_lists_the_first_rejections_and_counts_the_rest(user, topic):
    bad = 3 * REPORT_MAX_REJECTIONS
    report = import_services.questions_import(
        topic=topic,
        sources=[
            import_services.ImportSource(
                "x.csv", lambda: io.BytesIO(hostile_x_lines(bad) + row(1).encode())
            )
        ],
        dry_run=True,
    ).as_dict()
    assert report["rows"] == bad + 1 and report["imported"] == 1
    assert report["rejected_count"] == bad
    assert report["reasons"] == {"wrong_field_count": bad}
    assert len(report["rejected"]) == REPORT_MAX_REJECTIONS
    assert len(json.dumps(report, ensure_ascii=False)) < 150_000


def test_n1s_hostile_upload_runs_in_the_background_and_is_refused_past_the_rows(
    client, user, topic, settings, django_capture_on_commit_callbacks
):
    settings.QUESTION_IMPORT_MAX_ROWS = 20_000
    # Within the byte limit (the default is 64 KiB since issue 30): the line
    # count alone sends it to a worker.
    settings.QUESTION_IMPORT_INLINE_MAX_BYTES = 2**20
    data = hostile_x_lines(520_000)  # about 1 MB, as in the finding
    assert len(data) <= settings.QUESTION_IMPORT_INLINE_MAX_BYTES
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=False):
        response = post(client, topic, upload("x.csv", data))
    run = the_run()
    assert response.status_code == 302
    assert run.background and run.status == ImportStatus.CHECK_QUEUED  # not inline
    assert question_import_check_task(run.pk) == ImportStatus.FAILED
    run.refresh_from_db()
    assert run.error_code == "too_many_rows" and run.dry_run_report is None
    url = reverse("study:import_detail", args=[topic.pk, run.pk])
    page = client.get(url).content.decode()
    assert "파일의 행이 20000개를 넘어 가져오지 않았습니다" in page
    english = client.get(url, headers={"Accept-Language": "en"})
    assert "more than 20000 rows" in english.content.decode()


def test_a_report_the_database_refuses_fails_the_run_with_a_reason(
    client, user, topic, monkeypatch
):
    real = ImportReport.as_dict

    def unstorable(self):  # PostgreSQL refuses it, as it refused N1's 47 MB one
        return {**real(self), "files": "\x00"}

    monkeypatch.setattr(ImportReport, "as_dict", unstorable)
    client.force_login(user)
    post(client, topic, upload("a.csv", (HEADER + "\n" + row(1)).encode()))
    run = the_run()
    assert run.status == ImportStatus.FAILED  # not "checking" forever
    assert run.error_code == "report_not_saved"
    page = client.get(reverse("study:import_detail", args=[topic.pk, run.pk]))
    assert "보고서를 저장하지 못했습니다" in page.content.decode()


def test_stored_uploads_have_a_per_user_quota(
    client, user, topic, settings, django_capture_on_commit_callbacks
):
    settings.QUESTION_IMPORT_QUOTA_BYTES = 3000
    data = (HEADER + "\n" + "\n".join(row(n) for n in range(1, 20))).encode()
    assert 1500 < len(data) < 3000
    client.force_login(user)
    post(client, topic, upload("a.csv", data))
    response = post(client, topic, upload("b.csv", data))
    assert "보관 중인 가져오기 파일이 한도" in response.content.decode()
    assert QuestionImport.objects.count() == 1
    # Importing the first frees its bytes: the next upload is taken.
    run = the_run()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("study:import_confirm", args=[topic.pk, run.pk]))
    assert QuestionImportFile.objects.get().file == ""
    assert post(client, topic, upload("b.csv", data)).status_code == 302
    assert QuestionImport.objects.count() == 2


def test_old_uploads_are_deleted_and_their_import_says_so(client, user, topic):
    client.force_login(user)
    post(client, topic, upload("a.csv", (HEADER + "\n" + row(1)).encode()))
    run = the_run()
    stored = QuestionImportFile.objects.get().file.name
    assert default_storage.exists(stored)
    assert question_imports_cleanup() == 0  # still within its time
    QuestionImport.objects.filter(pk=run.pk).update(
        created_at=timezone.now() - timedelta(days=4)
    )
    assert question_imports_cleanup() == 1
    assert not default_storage.exists(stored)
    run.refresh_from_db()
    assert run.status == ImportStatus.FAILED and run.error_code == "files_gone"
    page = client.get(reverse("study:import_detail", args=[topic.pk, run.pk]))
    assert "올린 파일을 보관 기간이 지나 지웠습니다" in page.content.decode()
    client.post(reverse("study:import_retry", args=[topic.pk, run.pk]))
    assert the_run().status == ImportStatus.FAILED and Question.objects.count() == 0


def test_the_dry_run_counts_the_rows_that_need_a_figure(client, user, topic):
    data = "\n".join([HEADER, row(1, image="O"), row(2, image="O"), row(3)])
    client.force_login(user)
    post(client, topic, upload("a.csv", data.encode()))
    run = the_run()
    assert run.dry_run_report["needs_figure"] == 2
    url = reverse("study:import_detail", args=[topic.pk, run.pk])
    page = client.get(url).content.decode()
    assert 'data-count="needs-figure">2<' in page
    assert "2문제는 그림이 필요합니다. 가져오지만 그림을 붙이기 전까지" in page
    english = client.get(url, headers={"Accept-Language": "en"}).content.decode()
    assert "2 questions need a figure" in english


def test_a_bad_json_lines_row_rejects_that_row_only(user, topic):
    def record(number, **extra):
        return json.dumps(
            {
                "year": 2020,
                "session": 1,
                "number": number,
                "question": f"문제 {number}",
                "choices": ["a", "b", "c", "d"],
                "answer": 1,
                **extra,
            }
        )

    lines = [
        record(1),
        '{"year": 2020, "number": ' + "9" * 5000 + "}",  # int() refuses 4,300+
        "[" * 50_000 + "]" * 50_000,  # RecursionError in json
        record(4, question={"nested": ["x"]}),
        record(5, question="\ud800 lone surrogate"),
        record(6),
    ]
    data = "\n".join(lines).encode("utf-8", "surrogatepass")
    report = import_services.questions_import(
        topic=topic,
        sources=[import_services.ImportSource("a.jsonl", lambda: io.BytesIO(data))],
    )
    assert report.imported == 2
    codes = {r.line: r.code for r in report.rejected}
    assert codes == {
        2: "invalid_json",
        3: "json_too_deep",
        4: "json_not_text",
        5: "corrupted_text",
    }


def test_a_file_of_empty_lines_is_not_read_to_its_end(monkeypatch):
    monkeypatch.setattr("study.imports.parsing.SKIPPED_LINES_MAX", 5)
    lines = [HEADER, row(1), "", row(2), *[""] * 7, row(3)]
    items = list(parse_bytes("a.csv", "\n".join(lines).encode()))
    assert [getattr(i, "number", None) for i in items[:2]] == [1, 2]
    assert items[-1].code == "too_many_skipped_lines" and len(items) == 3
    junk = "\n".join(["a,b"] * 20 + [row(1)]).encode()  # no header, no row
    assert [i.code for i in parse_bytes("j.csv", junk)] == ["too_many_skipped_lines"]
    jsonl = "\n".join(["", "", "", "", "", "", "", '{"x": 1}']).encode()
    assert [i.code for i in parse_bytes("j.jsonl", jsonl)] == ["too_many_skipped_lines"]
