from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseStopPolling

from study.ai.explanation_jobs import questions_needing_explanation
from study.ai.session_analysis import session_analysis_retry
from study.ai.states import (
    CardState,
    Queue,
    ai_panel_context,
    explanation_states,
    session_analysis_state,
)
from study.amendments.selectors import amendments_for
from study.evidence.services import evidence_cards_get
from study.exam_rules import PASS_RULE_TEXT
from study.llm.client import llm_configured
from study.models import Outcome
from study.models.question import UNSHOWN_FIELDS
from study.selectors import counts as cnt
from study.selectors import results as sel
from study.selectors.exam_spec import session_paper
from study.selectors.scores import session_score
from study.services.progress import attempt_mark_reviewed, attempt_unmark_reviewed
from study.services.quiz_sessions import session_explanations_backfill

TAB_VALUES = {value for value, _ in sel.RESULT_TABS}


@login_required
def results_page(request, session_id: int):
    session = sel.session_get_for_user(user=request.user, session_id=session_id)
    if session.is_active:
        return redirect("study:quiz", session_id=session.pk)
    # One read of the attempts serves the tab counts, the tab and the AI states.
    every = list(
        session.attempts.select_related("question")
        .defer(*(f"question__{name}" for name in UNSHOWN_FIELDS))
        .order_by("position")
    )
    session_counts = cnt.session_counts(attempts=every)
    counts = session_counts.by_outcome()
    tab = request.GET.get("tab")
    if tab not in TAB_VALUES:
        tab = Outcome.WRONG if counts[Outcome.WRONG] else _first_nonempty(counts)
    attempts = [a for a in every if a.outcome == tab]
    queue = Queue()  # the line of AI work, read at most once for the page
    states = explanation_states(
        attempts=[a for a in every if a.outcome != Outcome.CORRECT], queue=queue
    )
    # Cached cards show at once; the others load as the learner scrolls.
    cards = evidence_cards_get(questions=[a.question for a in attempts], compute=False)
    amendments = amendments_for(question_ids=[a.question_id for a in attempts])
    for attempt in attempts:
        attempt.amendment = amendments.get(attempt.question_id)  # type: ignore[attr-defined]  # for the template
        attempt.ai_state = states.get(attempt.question_id)  # type: ignore[attr-defined]  # for the template
        attempt.evidence = cards.get(attempt.question_id)  # type: ignore[attr-defined]  # for the template
    context = {
        "session": session,
        "tabs": [(v, label, counts[v]) for v, label in sel.RESULT_TABS],
        "tab": tab,
        "attempts": attempts,
    }
    if request.htmx and request.GET.get("tab"):
        return render(request, "study/results.html#result-list", context)
    # GET never writes: what is missing is queued by finalize, or by the
    # learner's explicit POST below (results_ai_prefetch).
    analysis, analysis_state = session_analysis_state(session=session, queue=queue)
    wanting = [
        q for q, s in states.items() if s.state in (CardState.NONE, CardState.FAILED)
    ]
    context.update(
        todo=session_counts,
        changes=cnt.session_changes(session=session, attempts=every),
        score=session_score(
            session=session,
            paper=session_paper(
                session=session, subjects=[a.question.subject for a in every]
            ),
        ),
        pass_rule=PASS_RULE_TEXT,
        analysis=analysis,
        analysis_state=analysis_state,
        session_id=session.pk,
        missing_count=len(questions_needing_explanation(wanting))
        if wanting and llm_configured()
        else 0,
        polling=analysis_state.active or any(s.active for s in states.values()),
    )
    return render(request, "study/results.html", context)


@login_required
@require_POST
def results_ai_prefetch(request, session_id: int):
    """The learner asks for the explanations still missing on this page."""
    session = sel.session_get_for_user(user=request.user, session_id=session_id)
    if not session.is_active and llm_configured():
        session_explanations_backfill(session=session)
        session_analysis_retry(session=session)
    return redirect("study:results", session_id=session.pk)


@login_required
def results_ai_states(request, session_id: int):
    """Polled while anything is queued or running; 286 stops the polling."""
    session = sel.session_get_for_user(user=request.user, session_id=session_id)
    missed = list(
        session.attempts.exclude(outcome=Outcome.CORRECT)
        .select_related("question")
        .defer(*(f"question__{name}" for name in UNSHOWN_FIELDS))
    )
    queue = Queue()
    states = explanation_states(attempts=missed, queue=queue)
    analysis, analysis_state = session_analysis_state(session=session, queue=queue)
    context = {
        "states": states,
        "analysis": analysis,
        "analysis_state": analysis_state,
        "session_id": session.pk,
    }
    response = render(request, "study/_ai_poll.html", context)
    if not any(s.active for s in states.values()) and not analysis_state.active:
        response.status_code = HttpResponseStopPolling.status_code
    return response


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
        {
            "attempt": attempt,
            "question": attempt.question,
            **ai_panel_context(attempt.question),
        },
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
        "todo": cnt.session_unchecked(session=attempt.session),
    }
    return render(request, "study/results.html#review-button", context)
