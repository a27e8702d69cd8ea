from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from study.forecast import selectors as fsel
from study.forecast.chart import pass_chart, reliability_chart
from study.selectors.quiz_selection import NotEnoughQuestions
from study.selectors.topics import topic_get_for_user
from study.services import exam_plans


@login_required
def forecast_page(request, topic_id: int):
    topic = topic_get_for_user(user=request.user, topic_id=topic_id)
    result = fsel.topic_forecast(user=request.user, topic=topic, with_curve=True)
    chart = None
    if result and result.curve:
        chart = pass_chart(
            [p.day for p in result.curve],
            [p.p for p in result.curve],
            [p.p for p in result.idle_curve],
        )
    context = {
        "topic": topic,
        "result": result,
        "chart": chart,
        "spec": fsel.exam_spec(topic=topic),
    }
    return render(request, "study/forecast.html", context)


@login_required
def plan_page(request, topic_id: int):
    topic = topic_get_for_user(user=request.user, topic_id=topic_id)
    today = fsel.daily_plan(user=request.user, topic=topic)
    return render(request, "study/plan.html", {"topic": topic, "today": today})


@login_required
@require_POST
def plan_start(request, topic_id: int):
    topic = topic_get_for_user(user=request.user, topic_id=topic_id)
    try:
        session = exam_plans.plan_session_start(user=request.user, topic=topic)
    except NotEnoughQuestions:
        messages.info(
            request, _("오늘 할 일이 없습니다: 복습할 문제도 새 문제도 없습니다.")
        )
        return redirect("study:plan", topic_id=topic.pk)
    except ValueError as exc:
        messages.error(request, str(exc))
        return redirect("study:settings")
    return redirect("study:quiz", session_id=session.pk)


@login_required
def calibration_page(request, topic_id: int):
    topic = topic_get_for_user(user=request.user, topic_id=topic_id)
    report = fsel.calibration_for(user=request.user, topic=topic)
    record = fsel.forecast_track_record(user=request.user, topic=topic)
    context = {
        "topic": topic,
        "report": report,
        "record": record,
        "reliability": reliability_chart(record.bins),
    }
    return render(request, "study/calibration.html", context)
