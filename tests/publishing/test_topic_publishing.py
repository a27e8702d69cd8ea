"""M1: only topics marked for publishing reach the viewer; unmarking withdraws them."""

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from publishing.models import EventKind, OutboxEvent
from study.ai.explanations import GenerationResult, explanation_save
from study.models import Question, Topic
from study.services.questions import question_soft_delete, question_update
from study.services.topics import topic_update
from tests.publishing.helpers import create, events_of, in_transaction, kinds

Q, E = EventKind.QUESTION, EventKind.EXPLANATION
QT, ET = EventKind.QUESTION_TOMBSTONE, EventKind.EXPLANATION_TOMBSTONE


@pytest.fixture
def private_topic(user):
    return Topic.objects.create(name="나만 보는 토픽", owner=user)


@pytest.fixture
def shared_topic(user):
    return Topic.objects.create(name="공유만 한 토픽", owner=user, is_shared=True)


def _every_write(topic):
    """Create, edit, ready explanation, soft delete, delete outright."""
    question = create(topic, 1, stem="비공개 토픽의 문제 본문")
    question_update(question=question, data={"stem": "고친 문제 본문"})
    ready = GenerationResult(status="ready", text="해설", model="m")
    in_transaction(explanation_save, question_id=question.pk, result=ready)
    other = create(topic, 2)
    question_soft_delete(question=question)
    in_transaction(Question.objects.filter(pk=other.pk).delete)


@pytest.mark.parametrize("which", ["private_topic", "shared_topic"])
def test_it_writes_no_event_for_a_topic_not_marked_for_publishing(
    publishing_on, request, which
):
    topic = request.getfixturevalue(which)

    _every_write(topic)

    assert OutboxEvent.objects.count() == 0


def test_it_is_off_by_default_for_a_new_topic(publishing_on, client, user):
    client.force_login(user)
    client.post(reverse("study:home"), {"name": "새 토픽", "is_shared": "on"})

    topic = Topic.objects.get(name="새 토픽")
    assert (topic.is_shared, topic.is_published) == (True, False)
    create(topic, 1)
    assert OutboxEvent.objects.count() == 0


def test_marking_a_topic_publishes_its_questions_and_unmarking_sends_tombstones(
    publishing_on, shared_topic
):
    first, second = create(shared_topic, 1), create(shared_topic, 2)
    in_transaction(
        explanation_save,
        question_id=first.pk,
        result=GenerationResult(status="ready", text="해설", model="m"),
    )
    assert OutboxEvent.objects.count() == 0

    _set_published(shared_topic, True)
    assert kinds(events_of(first)) == [Q, E]
    assert kinds(events_of(second)) == [Q]

    _set_published(shared_topic, False)
    assert kinds(events_of(first)) == [Q, E, ET, QT]
    assert kinds(events_of(second)) == [Q, ET, QT]
    assert [e.seq for e in events_of(first)] == [1, 2, 3, 4]

    create(shared_topic, 3)
    question_update(question=second, data={"stem": "다시 고침"})
    assert OutboxEvent.objects.count() == 7


def test_unmarking_a_never_published_topic_sends_nothing(publishing_on, shared_topic):
    create(shared_topic, 1)
    # Marked without the service, so nothing was ever sent for its questions.
    Topic.objects.filter(pk=shared_topic.pk).update(is_published=True)
    shared_topic.refresh_from_db()

    _set_published(shared_topic, False)

    assert OutboxEvent.objects.count() == 0


def test_only_a_shared_topic_can_be_published(publishing_on, client, user, topic):
    private = Topic.objects.create(name="비공개", owner=user)
    client.force_login(user)

    response = client.post(
        reverse("study:topic_edit", args=[private.pk]),
        {"name": "비공개", "description": "", "is_published": "on"},
    )

    assert response.status_code == 200
    assert "발행하려면 먼저 토픽을 공유하세요." in response.content.decode()
    private.refresh_from_db()
    assert private.is_published is False


def test_unmarking_in_the_admin_withdraws_the_topic(
    publishing_on, client, staff_user, topic
):
    question = create(topic, 1)
    client.force_login(staff_user)
    url = reverse("admin:study_topic_change", args=[topic.pk])
    data = {"name": topic.name, "description": "", "owner": topic.owner_id}

    client.post(url, {**data, "is_shared": "on"})

    assert kinds(events_of(question)) == [Q, ET, QT]
    topic.refresh_from_db()
    assert (topic.is_shared, topic.is_published) == (True, False)


def test_republish_refuses_a_topic_not_marked(publishing_on, shared_topic):
    with pytest.raises(CommandError, match="발행 대상이 아닙니다"):
        call_command("republish", "--topic", shared_topic.name)


def _set_published(topic, value: bool) -> None:
    topic_update(
        topic=topic,
        name=topic.name,
        description=topic.description,
        is_shared=topic.is_shared,
        is_published=value,
    )
