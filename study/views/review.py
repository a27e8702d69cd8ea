from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from study.amendments.selectors import amendments_for
from study.models.question import UNSHOWN_FIELDS
from study.numbers import ascii_int
from study.selectors import counts as cnt
from study.selectors import review_queue as rq
from study.selectors.progress_charts import subject_accuracy
from study.selectors.topics import question_get_for_user, topic_get_for_user
from study.services.progress import question_review_complete

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
    rows = rows.defer(*(f"question__{name}" for name in UNSHOWN_FIELDS))
    counts = cnt.queue_counts(user=request.user, topic=topic)
    paginator = Paginator(rows, PAGE_SIZE)
    paginator.count = counts.by_tab()[tab]  # the tab's count: one definition
    page = paginator.get_page(ascii_int(request.GET.get("page"), 1))
    amendments = amendments_for(question_ids=[p.question_id for p in page])
    for p in page:
        p.amendment = amendments.get(p.question_id)  # type: ignore[attr-defined]  # for the template
    context = {
        "topic": topic,
        "tab": tab,
        "tabs": _tabs(counts),
        "counts": counts,
        "tab_count": counts.by_tab()[tab],
        "page": page,
        "now": timezone.now(),
    }
    if tab == "due_today" and not page.paginator.count:  # say when it fills
        context["next_reviews"] = cnt.next_reviews(user=request.user, topic=topic)
    if request.htmx:
        return render(request, "study/review_queue.html#queue-list", context)
    return render(request, "study/review_queue.html", context)


@login_required
@require_POST
def review_complete(request, topic_id: int, question_id: int):
    """확인 완료 of one question (review queue row or question page)."""
    topic = topic_get_for_user(user=request.user, topic_id=topic_id)
    question = question_get_for_user(user=request.user, question_id=question_id)
    if question.topic_id != topic.pk:
        raise Http404
    question_review_complete(user=request.user, question_ids=[question.pk])
    progress = rq.question_progress(user=request.user, question=question)
    if not request.htmx:
        messages.success(request, _("확인했습니다. 복습 일정이 잡혔습니다."))
        return redirect(_safe_next(request, topic))
    context: dict[str, object] = {
        "question": question,
        "progress": progress,
        "pending": False,
    }
    tab = request.POST.get("queue_tab")
    if tab in rq.TABS:  # a queue row: its tabs and totals change too
        counts = cnt.queue_counts(user=request.user, topic=topic)
        context.update(
            topic=topic,
            tab=tab,
            tabs=_tabs(counts),
            counts=counts,
            tab_count=counts.by_tab()[tab],
            oob_counts=True,
        )
    return render(request, "study/_review_complete.html", context)


def _tabs(counts: cnt.QueueCounts) -> list[tuple[str, str | Promise, int]]:
    by_tab = counts.by_tab()
    return [(value, label, by_tab[value]) for value, label in rq.TABS.items()]


@login_required
@require_POST
def review_complete_all(request, topic_id: int):
    """확인 완료 of every row of 확인 안 함 at once."""
    topic = topic_get_for_user(user=request.user, topic_id=topic_id)
    pending = rq.review_tab_queryset(
        user=request.user, topic=topic, tab="pending_review"
    )
    done = question_review_complete(
        user=request.user, question_ids=pending.values_list("question_id", flat=True)
    )
    messages.success(
        request,
        ngettext(
            "%(n)d문제를 확인했습니다. 복습 일정이 잡혔습니다.",
            "%(n)d문제를 확인했습니다. 복습 일정이 잡혔습니다.",
            done,
        )
        % {"n": done},
    )
    return redirect(f"{reverse('study:review_queue', args=[topic.pk])}?tab=due_today")


def _safe_next(request, topic) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("study:review_queue", args=[topic.pk]) + "?tab=pending_review"


@login_required
def topic_overview(request, topic_id: int):
    topic = topic_get_for_user(user=request.user, topic_id=topic_id)
    forecast = rq.due_forecast(user=request.user, topic=topic)
    context = {
        "topic": topic,
        "accuracy": subject_accuracy(user=request.user, topic=topic),
        "forecast": _with_heights(forecast),
        "forecast_total": sum(n for _, n in forecast),
    }
    return render(request, "study/overview.html", context)


def _with_heights(forecast, full: int = 50):
    top = max((n for _, n in forecast), default=0) or 1
    rows = []
    for day, n in forecast:
        height = round(full * n / top)
        rows.append((day, n, height, full - height))
    return rows
