"""The import steps' answers to a browser, shared by the topic page's views
and the admin: the same messages and the same report download."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from study.imports.reports import report_json
from study.imports.runs import question_import_confirm, question_import_retry
from study.models import QuestionImport


def import_step(request: HttpRequest, run: QuestionImport, *, confirm: bool) -> bool:
    """Import after the dry run, or run a failed or stuck step again; the page
    says when that was not possible. Shared with the admin."""
    step = question_import_confirm if confirm else question_import_retry
    done = step(question_import=run)
    if not done:
        messages.warning(
            request,
            _("이미 가져왔거나 검사가 끝나지 않았습니다.")
            if confirm
            else _("지금은 다시 시도할 수 없습니다."),
        )
    return done


def report_download(run: QuestionImport) -> HttpResponse:
    """The import's report (the dry run's until it is imported), as --report."""
    report, kind = (
        (run.report, "report") if run.report else (run.dry_run_report, "dry-run")
    )
    if report is None:
        return HttpResponse(_("보고서가 아직 없습니다."), status=404)
    response = HttpResponse(
        report_json(report), content_type="application/json; charset=utf-8"
    )
    filename = f"import-{run.pk}-{kind}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
