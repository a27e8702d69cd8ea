from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from study import rounds
from study.amendments import selectors as amendment_selectors
from study.exam_dates import session_dates_format
from study.exam_rules import PASS_RULE_TEXT
from study.forecast import selectors as fsel
from study.forms import ExamDatesForm, TopicEditForm, TopicForm
from study.models import QuizMode, QuizStage
from study.selectors import topics as sel
from study.selectors.counts import answered_any
from study.selectors.exam_dates import exam_calendar
from study.selectors.exam_spec import paper_fill, topic_bank
from study.selectors.results import sessions_for_topic
from study.services.exam_specs import exam_dates_save
from study.services.topics import topic_create, topic_update


@login_required
@require_http_methods(["GET", "POST"])
def home(request):
    form = TopicForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        topic = topic_create(owner=request.user, **form.cleaned_data)
        messages.success(
            request, _("'%(name)s' 토픽을 만들었습니다.") % {"name": topic.name}
        )
        return redirect("study:topic", topic_id=topic.pk)
    topics = list(sel.topics_for_user(user=request.user))
    plans = fsel.exam_plans_by_topic(user=request.user)
    snapshots = fsel.snapshots_by_topic(user=request.user) if plans else {}
    for topic in topics:
        plan = plans.get(topic.pk)
        topic.exam_status = (
            fsel.topic_forecast(
                user=request.user,
                topic=topic,
                exam_plan=plan,
                snapshot=snapshots.get(topic.pk),
            )
            if plan
            else None
        )
    context = {
        "topics": topics,
        "form": form,
        "first_steps": bool(topics) and not answered_any(user=request.user),
    }
    return render(request, "study/home.html", context)


@login_required
def topic_detail(request, topic_id: int):
    topic = sel.topic_get_for_user(user=request.user, topic_id=topic_id)
    active, recent = sessions_for_topic(user=request.user, topic=topic)
    # the paper, the subjects', rounds' and the mock fill's counts: one pass
    # over the bank, cached per version of the bank
    bank = topic_bank(topic=topic)
    cells, paper = bank.cells, bank.paper
    context = {
        "topic": topic,
        "rounds": sel.topic_rounds(topic=topic, cells=cells),
        "subjects": sel.topic_subjects(topic=topic, paper=paper, cells=cells),
        "can_edit": topic.can_edit(request.user),
        "active_sessions": active,
        "recent_sessions": recent,
        "stages": QuizStage.choices,
        "chosen_mode": _chosen_mode(request),
        "mock_fill": paper_fill(topic=topic, paper=paper, cells=cells),
        "pass_rule": PASS_RULE_TEXT,
        "exam_status": fsel.topic_forecast(user=request.user, topic=topic),
        "amended": amendment_selectors.topic_flagged(topic=topic),
    }
    return render(request, "study/topic.html", context)


def _chosen_mode(request) -> str:
    """The mode picked before a failed start stays picked."""
    mode = request.GET.get("mode", "")
    if mode in QuizMode.values and mode != QuizMode.REVIEW:
        return mode
    return QuizMode.STAGE


@login_required
@require_http_methods(["GET", "POST"])
def topic_edit(request, topic_id: int):
    topic = sel.topic_get_editable(user=request.user, topic_id=topic_id)
    form = TopicEditForm(request.POST or None, instance=topic)
    if request.method == "POST" and form.is_valid():
        topic_update(topic=topic, **form.cleaned_data)
        messages.success(request, _("토픽을 저장했습니다."))
        return redirect("study:topic", topic_id=topic.pk)
    context = {"topic": topic, "form": form, "dates_form": _dates_form(topic)}
    return render(request, "study/topic_edit.html", context)


@login_required
@require_POST
def exam_dates_edit(request, topic_id: int):
    topic = sel.topic_get_editable(user=request.user, topic_id=topic_id)
    dates_form = ExamDatesForm(request.POST)
    if not dates_form.is_valid():
        context = {
            "topic": topic,
            "form": TopicEditForm(instance=topic),
            "dates_form": dates_form,
        }
        return render(request, "study/topic_edit.html", context, status=400)
    exam_dates_save(topic=topic, **dates_form.cleaned_data)
    messages.success(request, _("시험일을 저장했습니다."))
    return redirect("study:topic_edit", topic_id=topic.pk)


def _dates_form(topic) -> ExamDatesForm:
    calendar = exam_calendar(topic_id=topic.pk)
    initial = {
        "session_dates": session_dates_format(calendar.usual)
        if calendar.usual_set
        else "",
        "round_dates": "\n".join(
            f"{year} {session} {day.isoformat()}"
            for (year, session), day in sorted(calendar.held.items())
        ),
    }
    return ExamDatesForm(initial=initial)


@login_required
def round_detail(request, topic_id: int, round_key: str):
    topic = sel.topic_get_for_user(user=request.user, topic_id=topic_id)
    year, session = sel.parse_round_key(round_key)
    questions = sel.round_questions(topic=topic, year=year, session=session)
    context = {
        "topic": topic,
        "round_label": rounds.round_label(year, session),
        "round_key": rounds.round_key(year, session),
        "questions": questions,
        "can_edit": topic.can_edit(request.user),
    }
    return render(request, "study/round.html", context)
