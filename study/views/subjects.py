"""The owner's subject page: the exam's current subject list, the names the
bank uses, suggested merges, aliases (merge and undo) and the exam spec."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from study.forms import ExamSpecForm, SubjectMergeForm, SubjectUnmergeForm
from study.models import Topic
from study.selectors import topics as sel
from study.selectors.exam_spec import ExamPaper
from study.selectors.subjects import subjects_overview
from study.services.exam_specs import exam_spec_clear, exam_spec_save
from study.services.subjects import (
    SubjectMergeRefused,
    subject_alias_remove,
    subject_merge,
)


@login_required
def topic_subjects(request: HttpRequest, topic_id: int) -> HttpResponse:
    topic = sel.topic_get_editable(user=request.user, topic_id=topic_id)
    return subjects_page(request, topic)


def subjects_page(
    request: HttpRequest, topic: Topic, *, status: int = 200, **forms: Form
) -> HttpResponse:
    """The page, with the forms that failed (status 400) when there are."""
    overview = subjects_overview(topic=topic)
    names = [row.name for row in overview.names]
    merge_form = forms.get("merge_form") or SubjectMergeForm(names=names)
    context = {
        "topic": topic,
        "overview": overview,
        "paper": overview.paper,
        "merge_form": merge_form,
        "checked_names": set(merge_form["names"].value() or ()),
        "spec_form": forms.get("spec_form") or spec_form_for(overview.paper, topic),
    }
    return render(request, "study/topic_subjects.html", context, status=status)


def spec_form_for(paper: ExamPaper, topic: Topic) -> ExamSpecForm:
    initial = {
        "subjects": "\n".join(paper.subjects) if paper.is_set else "",
        "questions_per_subject": paper.per_subject,
        "time_limit_minutes": paper.minutes if paper.is_set else None,
    }
    return ExamSpecForm(initial=initial, topic=topic)


@login_required
@require_POST
def subject_merge_view(request: HttpRequest, topic_id: int) -> HttpResponse:
    topic = sel.topic_get_editable(user=request.user, topic_id=topic_id)
    names = [row.name for row in subjects_overview(topic=topic).names]
    form = SubjectMergeForm(request.POST, names=names)
    if not form.is_valid():
        return subjects_page(request, topic, status=400, merge_form=form)
    data = form.cleaned_data
    try:
        moved = subject_merge(topic=topic, names=data["names"], into=data["target"])
    except SubjectMergeRefused as exc:
        form.add_error(None, str(exc))
        return subjects_page(request, topic, status=400, merge_form=form)
    messages.success(
        request,
        _("%(names)s을(를) ‘%(subject)s’로 합쳤습니다 (%(n)d문제).")
        % {"names": ", ".join(data["names"]), "subject": data["target"], "n": moved},
    )
    return redirect("study:topic_subjects", topic_id=topic.pk)


@login_required
@require_POST
def subject_unmerge_view(request: HttpRequest, topic_id: int) -> HttpResponse:
    topic = sel.topic_get_editable(user=request.user, topic_id=topic_id)
    form = SubjectUnmergeForm(request.POST)
    try:
        if not form.is_valid():
            raise SubjectMergeRefused(_("되돌릴 이름이 없습니다."))
        name = form.cleaned_data["name"]
        moved = subject_alias_remove(topic=topic, name=name)
    except SubjectMergeRefused as exc:
        messages.error(request, str(exc))
        return subjects_page(request, topic, status=400)
    messages.success(
        request,
        _("‘%(name)s’를 다시 따로 둡니다 (%(n)d문제).") % {"name": name, "n": moved},
    )
    return redirect("study:topic_subjects", topic_id=topic.pk)


@login_required
@require_POST
def exam_spec_edit(request: HttpRequest, topic_id: int) -> HttpResponse:
    topic = sel.topic_get_editable(user=request.user, topic_id=topic_id)
    spec_form = ExamSpecForm(request.POST, topic=topic)
    if not spec_form.is_valid():
        return subjects_page(request, topic, status=400, spec_form=spec_form)
    data = spec_form.cleaned_data
    if data["subjects"]:
        exam_spec_save(topic=topic, **data)
    else:
        exam_spec_clear(topic=topic)
    messages.success(request, _("시험 구성을 저장했습니다."))
    return redirect("study:topic_subjects", topic_id=topic.pk)
