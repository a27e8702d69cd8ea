"""The settings page: review retention, interface language and exam dates."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from study.forms import ExamPlanForm, LearnerSettingsForm
from study.models import ExamPlan, LearnerSettings
from study.numbers import ascii_int
from study.services import exam_plans
from study.services.learner_settings import learner_retention_set


@login_required
@require_http_methods(["GET", "POST"])
def learner_settings(request):
    instance = LearnerSettings.objects.filter(user=request.user).first()
    instance = instance or LearnerSettings(user=request.user)  # GET never writes
    form = LearnerSettingsForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        learner_retention_set(
            user_id=request.user.pk,
            desired_retention=form.cleaned_data["desired_retention"],
        )
        messages.success(request, _("설정을 저장했습니다. 다음 복습부터 적용됩니다."))
        return redirect("study:settings")
    return settings_page(request, form=form)


def settings_page(request, *, form=None, exam_form=None, status=200):
    if form is None:
        instance = LearnerSettings.objects.filter(user=request.user).first()
        form = LearnerSettingsForm(
            instance=instance or LearnerSettings(user=request.user)
        )
    if exam_form is None:
        initial: dict[str, object] = {}
        topic_id = ascii_int(request.GET.get("topic"))
        if topic_id is not None:
            initial["topic"] = topic_id
            plan = ExamPlan.objects.filter(user=request.user, topic_id=topic_id).first()
            if plan:
                initial.update(exam_date=plan.exam_date, daily_size=plan.daily_size)
        exam_form = ExamPlanForm(initial=initial, user=request.user)
    plans = ExamPlan.objects.filter(user=request.user).select_related("topic")
    context = {
        "form": form,
        "exam_form": exam_form,
        "plans": plans.order_by("exam_date", "id"),
    }
    return render(request, "study/settings.html", context, status=status)


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
        # "2027년 1월 16일로": the date as the language writes it (a bare
        # 2027-01-16 would need 으로 after some digits and 로 after others).
        % {"topic": data["topic"].name, "date": date_format(data["exam_date"])},
    )
    return redirect("study:topic", topic_id=data["topic"].pk)


@login_required
@require_POST
def exam_plan_delete(request, plan_id: int):
    plan = get_object_or_404(ExamPlan, pk=plan_id, user=request.user)
    exam_plans.exam_plan_delete(plan=plan)
    messages.success(request, _("시험일을 지웠습니다."))
    return redirect("study:settings")
