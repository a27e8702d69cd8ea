from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect, replace_url

from study.forms import QuizStartForm
from study.models import UNSURE_CHOICE, QuizMode
from study.numbers import ascii_int
from study.offline.parsing import answer_key_from
from study.selectors import results as sel
from study.selectors.quiz_selection import NotEnoughQuestions
from study.selectors.topics import topic_get_for_user
from study.services.quiz_sessions import (
    AnswerRejected,
    mock_draft_save,
    mock_submit,
    quiz_answer_submit,
    quiz_session_abandon,
    quiz_session_start,
)


@login_required
@require_POST
def quiz_start(request, topic_id: int):
    topic = topic_get_for_user(user=request.user, topic_id=topic_id)
    form = QuizStartForm(request.POST, topic=topic)
    if not form.is_valid():
        messages.error(request, form.error_text())
        return redirect(_back_url(request, topic))
    try:
        session = quiz_session_start(
            user=request.user, topic=topic, request=form.to_request()
        )
    except NotEnoughQuestions as exc:
        messages.error(request, str(exc))
        return redirect(_back_url(request, topic))
    return redirect("study:quiz", session_id=session.pk)


@login_required
@require_POST
def mock_draft(request, session_id: int):
    """Keep one answer or review mark of a running mock (JSON, nothing scored)."""
    session = sel.session_get_for_user(user=request.user, session_id=session_id)
    marked = request.POST.get("marked")
    try:
        session = mock_draft_save(
            session=session,
            position=ascii_int(request.POST.get("position"), -1),
            choice=ascii_int(request.POST.get("choice")),
            marked=None if marked is None else marked == "1",
        )
    except AnswerRejected as exc:
        return JsonResponse({"error": str(exc)}, status=exc.status)
    sheet_remaining = sel.mock_remaining_ms(session=session)
    return JsonResponse({"saved": True, "remaining_ms": sheet_remaining})


@login_required
@require_POST
def mock_submit_view(request, session_id: int):
    session = sel.session_get_for_user(user=request.user, session_id=session_id)
    answers = {}
    for position in range(session.size):
        choice = ascii_int(request.POST.get(f"a{position}"))
        if choice is not None and 1 <= choice <= UNSURE_CHOICE:
            answers[position] = choice
    mock_submit(session=session, answers=answers)
    return redirect("study:results", session_id=session.pk)


@login_required
def quiz_page(request, session_id: int):
    session = sel.session_get_for_user(user=request.user, session_id=session_id)
    if not session.is_active:
        return redirect("study:results", session_id=session.pk)
    if session.is_timed:
        sheet = sel.mock_sheet(session=session)
        return render(request, "study/mock.html", {"session": session, "sheet": sheet})
    answered = sel.session_attempt_at(
        session=session, position=ascii_int(request.GET.get("answered"))
    )
    if answered is not None and session.feedback_each:  # the no-JS feedback page
        return render(
            request, "study/quiz.html", {"session": session, "attempt": answered}
        )
    question = sel.session_current_question(session=session)
    context: dict[str, object] = {"session": session, "question": question}
    if request.htmx:  # 다음 문제 after a feedback card
        response = render(request, "study/quiz.html#question-card", context)
        # The address no longer names the answer whose feedback was shown.
        return replace_url(response, reverse("study:quiz", args=[session.pk]))
    return render(request, "study/quiz.html", context)


@login_required
@require_POST
def quiz_answer(request, session_id: int):
    try:
        recorded = quiz_answer_submit(
            user=request.user,
            session_id=session_id,
            position=ascii_int(request.POST.get("position"), -1),
            question_id=ascii_int(request.POST.get("question_id"), -1),
            choice=ascii_int(request.POST.get("choice"), -1),
            time_taken_ms=ascii_int(request.POST.get("elapsed_ms")),
            answer_key=answer_key_from(request.POST.get("client_key")),
        )
    except AnswerRejected as exc:
        if request.htmx:
            return HttpResponse(str(exc), status=exc.status, content_type="text/plain")
        messages.error(request, str(exc))
        return redirect("study:quiz", session_id=session_id)
    session = recorded.session
    if session.feedback_each:
        return _feedback(request, session, recorded.attempt)
    if not session.is_active:
        url = reverse("study:results", args=[session.pk])
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    if not request.htmx:
        return redirect("study:quiz", session_id=session.pk)
    context = {"session": session, "question": recorded.next_question}
    return render(request, "study/quiz.html#question-card", context)


@login_required
@require_POST
def quiz_abandon(request, session_id: int):
    session = sel.session_get_for_user(user=request.user, session_id=session_id)
    try:
        quiz_session_abandon(session=session)
    except AnswerRejected as exc:
        messages.error(request, str(exc))
    return redirect("study:results", session_id=session.pk)


def _feedback(request, session, attempt):
    """Right or wrong, the key and the learner's pick, then 다음 문제."""
    url = reverse("study:quiz", args=[session.pk])
    feedback_url = f"{url}?answered={attempt.position}"
    if request.htmx:
        context = {"session": session, "attempt": attempt}
        response = render(request, "study/quiz.html#feedback-card", context)
        # A reload shows this card again (the no-JS feedback page), not the
        # next question with this answer's verdict gone.
        return replace_url(response, feedback_url) if session.is_active else response
    if not session.is_active:
        return redirect("study:results", session_id=session.pk)
    return redirect(feedback_url)


def _back_url(request, topic) -> str:
    """Back to the form, with the chosen mode kept (the page checks it again)."""
    back = request.POST.get("back", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return back
    mode = request.POST.get("mode", "")
    query = f"?mode={mode}#quiz-start" if mode in QuizMode.values else ""
    return reverse("study:topic", args=[topic.pk]) + query
