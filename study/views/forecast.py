from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from study.forecast.chart import pass_chart
from study.forms import ExamPlanForm
from study.models import ExamPlan
from study.selectors import forecast as fsel
from study.selectors.quiz_selection import NotEnoughQuestions
from study.selectors.topics import topic_get_for_user
from study.services import exam_plans
from study.views.review import settings_page


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
    return render(request, "study/calibration.html", {"topic": topic, "report": report})


@login_required
@require_POST
def exam_plan_save(request):
    form = ExamPlanForm(request.POST, user=request.user)
    if not form.is_valid():
        return settings_page(request, exam_form=form, status=400)
    data = form.cleaned_data
    exam_plans.exam_plan_set(
        user=request.user,
        topic=data["topic"],
        exam_date=data["exam_date"],
        daily_size=data["daily_size"],
    )
    messages.success(
        request,
        _("%(topic)s 시험일을 %(date)s로 정했습니다.")
        % {"topic": data["topic"].name, "date": f"{data['exam_date']:%Y-%m-%d}"},
    )
    return redirect("study:topic", topic_id=data["topic"].pk)


@login_required
@require_POST
def exam_plan_delete(request, plan_id: int):
    plan = get_object_or_404(ExamPlan, pk=plan_id, user=request.user)
    exam_plans.exam_plan_delete(plan=plan)
    messages.success(request, _("시험일을 지웠습니다."))
    return redirect("study:settings")
