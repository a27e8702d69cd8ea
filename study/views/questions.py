from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from study.ai.states import ai_panel_context
from study.amendments.selectors import amendment_for
from study.evidence.services import evidence_card_get
from study.forms import QuestionForm
from study.selectors import topics as sel
from study.selectors.review_queue import question_progress
from study.services.figures import FigureRejected, figure_content_type
from study.services.questions import (
    question_create,
    question_soft_delete,
    question_update,
)


@login_required
def question_detail(request, question_id: int):
    question = sel.question_get_for_user(user=request.user, question_id=question_id)
    progress = question_progress(user=request.user, question=question)
    context = {
        "question": question,
        "can_edit": question.topic.can_edit(request.user),
        "progress": progress,
        "pending": progress is not None and progress.is_pending_review,
        "evidence": evidence_card_get(question=question),
        "amendment": amendment_for(question_id=question.pk),
        **ai_panel_context(question),
    }
    return render(request, "study/question.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def question_new(request, topic_id: int):
    topic = sel.topic_get_editable(user=request.user, topic_id=topic_id)
    form = QuestionForm(request.POST or None, request.FILES or None, topic=topic)
    if request.method == "POST" and form.is_valid():
        try:
            question = question_create(topic=topic, data=form.cleaned_data)
        except FigureRejected as exc:  # another upload took the quota meanwhile
            form.add_error("figure", str(exc))
        else:
            messages.success(request, _("문제를 추가했습니다."))
            return redirect("study:question", question_id=question.pk)
    return render(request, "study/question_form.html", {"topic": topic, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def question_edit(request, question_id: int):
    question = sel.question_get_editable(user=request.user, question_id=question_id)
    form = QuestionForm(
        request.POST or None,
        request.FILES or None,
        instance=question,
        topic=question.topic,
    )
    if request.method == "POST" and form.is_valid():
        try:
            changed = question_update(question=question, data=form.cleaned_data)
        except FigureRejected as exc:  # another upload took the quota meanwhile
            form.add_error("figure", str(exc))
        else:
            messages.success(
                request, _("저장했습니다.") if changed else _("바뀐 내용이 없습니다.")
            )
            return redirect("study:question", question_id=question.pk)
    context = {"topic": question.topic, "form": form, "question": question}
    return render(request, "study/question_form.html", context)


@login_required
@require_POST
def question_delete(request, question_id: int):
    question = sel.question_get_editable(user=request.user, question_id=question_id)
    question_soft_delete(question=question)
    messages.success(
        request, _("문제를 삭제했습니다. 관리자 화면에서 되살릴 수 있습니다.")
    )
    return redirect("study:topic", topic_id=question.topic_id)


@login_required
def question_figure(request, question_id: int):
    question = sel.question_get_for_user(user=request.user, question_id=question_id)
    content_type = figure_content_type(question.figure) if question.figure else None
    if content_type is None:  # none, or a file from before figures were checked
        raise Http404(_("그림이 없습니다."))
    return FileResponse(question.figure.open("rb"), content_type=content_type)
