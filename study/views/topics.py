from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from study import rounds
from study.forms import TopicForm
from study.models import QuizStage
from study.selectors import topics as sel
from study.selectors.results import sessions_for_topic
from study.services.topics import topic_create, topic_update


@login_required
@require_http_methods(["GET", "POST"])
def home(request):
    form = TopicForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        topic = topic_create(owner=request.user, **form.cleaned_data)
        messages.success(request, f"'{topic.name}' 토픽을 만들었습니다.")
        return redirect("study:topic", topic_id=topic.pk)
    topics = sel.topics_for_user(user=request.user)
    return render(request, "study/home.html", {"topics": topics, "form": form})


@login_required
def topic_detail(request, topic_id: int):
    topic = sel.topic_get_for_user(user=request.user, topic_id=topic_id)
    active, recent = sessions_for_topic(user=request.user, topic=topic)
    context = {
        "topic": topic,
        "rounds": sel.topic_rounds(topic=topic),
        "subjects": sel.topic_subjects(topic=topic),
        "can_edit": topic.can_edit(request.user),
        "active_sessions": active,
        "recent_sessions": recent,
        "stages": QuizStage.choices,
    }
    return render(request, "study/topic.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def topic_edit(request, topic_id: int):
    topic = sel.topic_get_editable(user=request.user, topic_id=topic_id)
    form = TopicForm(request.POST or None, instance=topic)
    if request.method == "POST" and form.is_valid():
        topic_update(topic=topic, **form.cleaned_data)
        messages.success(request, "토픽을 저장했습니다.")
        return redirect("study:topic", topic_id=topic.pk)
    return render(request, "study/topic_edit.html", {"topic": topic, "form": form})


@login_required
def round_detail(request, topic_id: int, round_key: str):
    topic = sel.topic_get_for_user(user=request.user, topic_id=topic_id)
    year, session = sel.parse_round_key(round_key)
    questions = sel.round_questions(topic=topic, year=year, session=session)
    context = {
        "topic": topic,
        "round_label": rounds.round_label(year, session),
        "questions": questions,
        "can_edit": topic.can_edit(request.user),
    }
    return render(request, "study/round.html", context)
