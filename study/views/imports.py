"""Importing question files on the topic page: upload, dry run, import, report."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from study.imports.forms import QuestionImportForm
from study.imports.http import import_step, report_download
from study.imports.runs import (
    ImportRejected,
    question_import_create,
)
from study.imports.selectors import import_summary
from study.selectors.topics import topic_get_editable


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
    run = _get_run(request, topic_id, import_id)
    context = {"topic": run.topic, **import_summary(run=run, urls=_urls(run))}
    if request.htmx:
        return render(request, "study/_import_status.html", context)
    return render(request, "study/import_detail.html", context)


@login_required
@require_POST
def import_confirm(request, topic_id: int, import_id: int):
    return _step(request, _get_run(request, topic_id, import_id), confirm=True)


@login_required
@require_POST
def import_retry(request, topic_id: int, import_id: int):
    return _step(request, _get_run(request, topic_id, import_id), confirm=False)


@login_required
def import_report(request, topic_id: int, import_id: int):
    return report_download(_get_run(request, topic_id, import_id))


def _get_run(request, topic_id: int, import_id: int):
    """The import if the user may edit its topic, else 404."""
    topic = topic_get_editable(user=request.user, topic_id=topic_id)
    return get_object_or_404(topic.imports.select_related("topic"), pk=import_id)


def _step(request, run, *, confirm: bool):
    import_step(request, run, confirm=confirm)
    return redirect("study:import_detail", topic_id=run.topic_id, import_id=run.pk)


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
