from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from study.forms import LearnerSettingsForm
from study.models import LearnerSettings
from study.numbers import ascii_int
from study.selectors import review_queue as rq
from study.selectors.progress_charts import subject_accuracy
from study.selectors.topics import topic_get_for_user

PAGE_SIZE = 20


@login_required
def review_queue(request, topic_id: int):
    topic = topic_get_for_user(user=request.user, topic_id=topic_id)
    tab = request.GET.get("tab", "due_today")
    if tab not in rq.TABS:
        tab = "due_today"
    rows = rq.review_tab_queryset(
        user=request.user, topic=topic, tab=tab
    ).select_related("question")
    page = Paginator(rows, PAGE_SIZE).get_page(ascii_int(request.GET.get("page"), 1))
    context = {
        "topic": topic,
        "tab": tab,
        "tabs": rq.TABS.items(),
        "page": page,
        "now": timezone.now(),
    }
    if request.htmx:
        return render(request, "study/review_queue.html#queue-list", context)
    return render(request, "study/review_queue.html", context)


@login_required
def topic_overview(request, topic_id: int):
    topic = topic_get_for_user(user=request.user, topic_id=topic_id)
    context = {
        "topic": topic,
        "accuracy": subject_accuracy(user=request.user, topic=topic),
        "forecast": _with_heights(rq.due_forecast(user=request.user, topic=topic)),
    }
    return render(request, "study/overview.html", context)


def _with_heights(forecast, full: int = 50):
    top = max((n for _, n in forecast), default=0) or 1
    rows = []
    for day, n in forecast:
        height = round(full * n / top)
        rows.append((day, n, height, full - height))
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def learner_settings(request):
    instance, _ = LearnerSettings.objects.get_or_create(user=request.user)
    form = LearnerSettingsForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "설정을 저장했습니다. 다음 복습부터 적용됩니다.")
        return redirect("study:settings")
    return render(request, "study/settings.html", {"form": form})
