from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseStopPolling

from study.llm.client import llm_configured
from study.models import Outcome
from study.selectors import results as sel
from study.selectors.ai_states import explanation_states, session_analysis_state
from study.selectors.review_queue import session_todo_counts
from study.selectors.scores import PASS_RULE_TEXT, session_score
from study.services.progress import attempt_mark_reviewed, attempt_unmark_reviewed
from study.services.quiz_sessions import session_explanations_backfill

TAB_VALUES = {value for value, _ in sel.RESULT_TABS}


@login_required
def results_page(request, session_id: int):
    session = sel.session_get_for_user(user=request.user, session_id=session_id)
    if session.is_active:
        return redirect("study:quiz", session_id=session.pk)
    counts = sel.session_outcome_counts(session=session)
    tab = request.GET.get("tab")
    if tab not in TAB_VALUES:
        tab = Outcome.WRONG if counts[Outcome.WRONG] else _first_nonempty(counts)
    attempts = list(sel.session_attempts_for_tab(session=session, tab=tab))
    states = explanation_states(
        attempts=[a for a in attempts if a.outcome != "correct"]
    )
    for attempt in attempts:
        attempt.ai_state = states.get(attempt.question_id, "")
    context = {
        "session": session,
        "tabs": [(v, label, counts[v]) for v, label in sel.RESULT_TABS],
        "tab": tab,
        "attempts": attempts,
    }
    if request.htmx and request.GET.get("tab"):
        return render(request, "study/results.html#result-list", context)
    backfilled = (
        session_explanations_backfill(session=session) if llm_configured() else 0
    )
    analysis, analysis_pending = session_analysis_state(session=session)
    context.update(
        todo=_todo(request.user, session),
        score=session_score(session=session),
        pass_rule=PASS_RULE_TEXT,
        analysis=analysis,
        analysis_pending=analysis_pending,
        polling=analysis_pending or backfilled or "pending" in states.values(),
    )
    return render(request, "study/results.html", context)


@login_required
def results_ai_states(request, session_id: int):
    """Polled while anything is pending; 286 stops the polling."""
    session = sel.session_get_for_user(user=request.user, session_id=session_id)
    missed = list(
        session.attempts.exclude(outcome=Outcome.CORRECT).select_related("question")
    )
    states = explanation_states(attempts=missed)
    analysis, analysis_pending = session_analysis_state(session=session)
    context = {
        "states": states,
        "analysis": analysis,
        "analysis_pending": analysis_pending,
    }
    response = render(request, "study/_ai_poll.html", context)
    if "pending" not in states.values() and not analysis_pending:
        response.status_code = HttpResponseStopPolling.status_code
    return response


def _todo(user, session) -> dict[str, int]:
    counts = session_todo_counts(user=user, question_ids=session.question_ids)
    return {k: v for k, v in counts.items() if v}


def _first_nonempty(counts: dict) -> str:
    return next((k for k, v in counts.items() if v), Outcome.CORRECT)


@login_required
def result_card(request, session_id: int, attempt_id: int):
    attempt = sel.attempt_get_for_user(user=request.user, attempt_id=attempt_id)
    if attempt.session_id != session_id or attempt.session.is_active:
        raise Http404
    return render(
        request,
        "study/results.html#card-detail",
        {"attempt": attempt, "question": attempt.question},
    )


@login_required
@require_POST
def attempt_reviewed(request, attempt_id: int):
    attempt = sel.attempt_get_for_user(user=request.user, attempt_id=attempt_id)
    if attempt.session.is_active:
        raise Http404
    if request.POST.get("reviewed") == "0":
        attempt_unmark_reviewed(attempt=attempt)
    else:
        attempt_mark_reviewed(attempt=attempt)
    if not request.htmx:
        return redirect("study:results", session_id=attempt.session_id)
    context = {
        "attempt": attempt,
        "session": attempt.session,
        "todo": _todo(request.user, attempt.session),
    }
    return render(request, "study/results.html#review-button", context)
