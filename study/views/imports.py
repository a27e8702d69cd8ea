"""Importing question files on the topic page: upload, dry run, import, report."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from study.forms_imports import QuestionImportForm
from study.selectors.imports import import_summary
from study.selectors.topics import topic_get_editable
from study.services.question_import import report_json
from study.services.question_import_runs import (
    ImportRejected,
    question_import_confirm,
    question_import_create,
    question_import_retry,
)


@login_required
@require_http_methods(["GET", "POST"])
def import_new(request, topic_id: int):
    topic = topic_get_editable(user=request.user, topic_id=topic_id)
    post = request.method == "POST"
    form = (
        QuestionImportForm(request.POST, request.FILES)
        if post
        else QuestionImportForm()
    )
    if post and form.is_valid():
        try:
            run = question_import_create(
                topic=topic, user=request.user, uploads=form.cleaned_data["files"]
            )
        except ImportRejected as exc:
            form.add_error("files", str(exc))
        else:
            return redirect("study:import_detail", topic_id=topic.pk, import_id=run.pk)
    recent = topic.imports.order_by("-created_at")[:10]
    context = {"topic": topic, "form": form, "recent": recent}
    return render(request, "study/import_new.html", context)


@login_required
def import_detail(request, topic_id: int, import_id: int):
    topic = topic_get_editable(user=request.user, topic_id=topic_id)
    run = get_object_or_404(topic.imports, pk=import_id)
    context = {"topic": topic, **import_summary(run=run, urls=_urls(run))}
    if request.htmx:
        return render(request, "study/_import_status.html", context)
    return render(request, "study/import_detail.html", context)


@login_required
@require_POST
def import_confirm(request, topic_id: int, import_id: int):
    topic = topic_get_editable(user=request.user, topic_id=topic_id)
    run = get_object_or_404(topic.imports, pk=import_id)
    if not question_import_confirm(question_import=run):
        messages.warning(request, "이미 가져왔거나 검사가 끝나지 않았습니다.")
    return redirect("study:import_detail", topic_id=topic.pk, import_id=run.pk)


@login_required
@require_POST
def import_retry(request, topic_id: int, import_id: int):
    topic = topic_get_editable(user=request.user, topic_id=topic_id)
    run = get_object_or_404(topic.imports, pk=import_id)
    if not question_import_retry(question_import=run):
        messages.warning(request, "지금은 다시 시도할 수 없습니다.")
    return redirect("study:import_detail", topic_id=topic.pk, import_id=run.pk)


@login_required
def import_report(request, topic_id: int, import_id: int):
    topic = topic_get_editable(user=request.user, topic_id=topic_id)
    run = get_object_or_404(topic.imports, pk=import_id)
    return report_download(run)


def report_download(run) -> HttpResponse:
    """The import's report (the dry run's until it is imported), as --report."""
    report, kind = (
        (run.report, "report") if run.report else (run.dry_run_report, "dry-run")
    )
    if report is None:
        return HttpResponse("보고서가 아직 없습니다.", status=404)
    response = HttpResponse(
        report_json(report), content_type="application/json; charset=utf-8"
    )
    filename = f"import-{run.pk}-{kind}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _urls(run) -> dict:
    args = [run.topic_id, run.pk]
    return {
        "status": reverse("study:import_detail", args=args),
        "confirm": reverse("study:import_confirm", args=args),
        "retry": reverse("study:import_retry", args=args),
        "report": reverse("study:import_report", args=args),
        "again": reverse("study:import_new", args=[run.topic_id]),
        "topic": reverse("study:topic", args=[run.topic_id]),
    }
