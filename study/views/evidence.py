"""The 근거 카드 of a question (a partial the results and review pages load),
and the topic's 정답 확인 필요 list for its owner and staff."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from study.amendments.selectors import amendment_for
from study.evidence import selectors as esel
from study.evidence.services import evidence_card_get, topic_cards_compute_enqueue
from study.models import Topic
from study.selectors.topics import question_get_for_user, topic_get_for_user


@login_required
@require_GET
def evidence_card(request, question_id: int) -> HttpResponse:
    question = question_get_for_user(user=request.user, question_id=question_id)
    context = {
        "card": evidence_card_get(question=question),
        "amendment": amendment_for(question_id=question.pk),
        "collapsed": request.GET.get("compact") == "1",
    }
    return render(request, "study/_evidence_card.html", context)


def _topic_for_review(request, topic_id: int) -> Topic:
    topic = topic_get_for_user(user=request.user, topic_id=topic_id)
    if not (topic.can_edit(request.user) or request.user.is_staff):
        raise Http404
    return topic


@login_required
@require_GET
def answer_review(request, topic_id: int) -> HttpResponse:
    topic = _topic_for_review(request, topic_id)
    with_card, questions = esel.topic_card_counts(topic=topic)
    context = {
        "topic": topic,
        "items": esel.topic_answer_review(topic=topic),
        "with_card": with_card,
        "questions": questions,
    }
    template = "study/answer_review.html"
    if request.htmx:
        template += "#review-list"
    return render(request, template, context)


@login_required
@require_POST
def answer_review_compute(request, topic_id: int) -> HttpResponse:
    topic = _topic_for_review(request, topic_id)
    topic_cards_compute_enqueue(topic=topic)
    messages.success(
        request,
        _("모든 문제의 근거 카드를 만드는 중입니다. 끝나면 이 목록에 나옵니다."),
    )
    return redirect("study:answer_review", topic_id=topic.pk)
