"""Related questions: one question's lists (JSON, or the question page's panel),
counts for a page of cards in one request, and a raw view for staff."""

from dataclasses import asdict

from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from study.json_input import JSONInputError, json_loads_bounded
from study.models import Question, Topic
from study.numbers import ascii_int
from study.related import selectors as sel
from study.related.debug import question_neighbours_raw
from study.related.services import question_related_view
from study.related.thresholds import current_thresholds
from study.selectors.topics import topic_get_for_user

# {"ids": [...]}: BULK_MAX_IDS ids of a few digits each, with room to spare.
BODY_MAX_BYTES = 64 * 1024
BAD_BULK_BODY = format_lazy(
    _('본문은 {{"ids": [문제 번호, …]}} 형식이어야 합니다 (최대 {max}개).'),
    max=sel.BULK_MAX_IDS,
)


@login_required
@require_GET
def related_types(request, question_id: int):
    question = sel.question_get_for_related(user=request.user, question_id=question_id)
    view = question_related_view(question=question)
    grade_label = gettext(view.grade) if view.grade else ""
    return JsonResponse({**view.as_dict(), "grade_label": grade_label})


@login_required
@require_GET
def related_panel(request, question_id: int):
    question = sel.question_get_for_related(user=request.user, question_id=question_id)
    context = {
        "question": question,
        "related": question_related_view(question=question),
    }
    return render(request, "study/_related.html", context)


@login_required
@require_POST
def related_types_bulk(request, topic_id: int):
    topic = topic_get_for_user(user=request.user, topic_id=topic_id)
    ids = _requested_ids(request.body)
    if ids is None:
        return JsonResponse({"error": BAD_BULK_BODY}, status=400)
    counts = sel.related_counts_bulk(topic=topic, question_ids=ids)
    results = {
        str(pk): {
            **c.as_dict(),
            "grade_label": gettext(c.grade) if c.grade else "",
            "url": reverse("study:question", args=[pk]),
        }
        for pk, c in counts.items()
    }
    return JsonResponse({"results": results})


def _requested_ids(body: bytes) -> list[int] | None:
    try:
        data = json_loads_bounded(body or b"{}", max_depth=2, max_bytes=BODY_MAX_BYTES)
    except JSONInputError:
        return None
    ids = data.get("ids") if isinstance(data, dict) else None
    if not isinstance(ids, list) or len(ids) > sel.BULK_MAX_IDS:
        return None
    numbers = [ascii_int(i, -1) for i in ids]
    if any(n < 0 for n in numbers):
        return None
    return numbers


@login_required
@require_GET
def question_similar_raw(request, question_id: int):
    """Nearest questions by raw cosine with the rules' verdicts (staff only)."""
    if not request.user.is_staff:
        raise Http404
    visible = Topic.objects.visible_to(request.user)
    question = get_object_or_404(
        Question.objects.alive().filter(topic__in=visible), pk=question_id
    )
    limit = min(max(_int(request.GET.get("limit"), 20), 1), 100)
    thresholds = current_thresholds()
    neighbours = question_neighbours_raw(question=question, limit=limit)
    return JsonResponse(
        {
            "question_id": question.pk,
            "embedding_status": question.embedding_status,
            "model": thresholds.model,
            "repeat_threshold": thresholds.repeat,
            "similar_threshold": thresholds.similar,
            "threshold_version": thresholds.version,
            "neighbours": [asdict(n) for n in neighbours],
        }
    )


def _int(value: str | None, default: int) -> int:
    return ascii_int(value, default)
