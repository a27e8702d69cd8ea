"""L1: topics are managed by their owner or an explicit permission, not is_staff.
L4: a session or attempt follows its topic's visibility."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

from study.models import Attempt, Outcome, Topic
from tests.study.learner_helpers import answer_all, make_bank, start


@pytest.fixture
def plain_staff(db):
    """Staff (may open the admin) with no permission on topics."""
    return get_user_model().objects.create_user(
        username="helper", password="x", is_staff=True
    )


def test_staff_alone_cannot_rename_or_share_a_private_topic(
    client, plain_staff, topic, question
):
    client.force_login(plain_staff)

    edit = client.post(
        reverse("study:topic_edit", args=[topic.pk]),
        {"name": "가로챔", "description": "", "is_shared": "on"},
    )
    page = client.get(reverse("study:topic", args=[topic.pk]))
    question_edit = client.get(reverse("study:question_edit", args=[question.pk]))

    assert (edit.status_code, page.status_code, question_edit.status_code) == (
        404,
        404,
        404,
    )
    topic.refresh_from_db()
    assert (topic.name, topic.is_shared) == ("산업안전기사", False)
    # The admin refuses them too (no topic permission).
    assert client.get(reverse("admin:study_topic_changelist")).status_code == 403


def test_an_explicit_permission_lets_staff_manage_any_topic(client, plain_staff, topic):
    plain_staff.user_permissions.add(
        Permission.objects.get(codename="change_topic", content_type__app_label="study")
    )
    client.force_login(plain_staff)

    response = client.post(
        reverse("study:topic_edit", args=[topic.pk]),
        {"name": "정리한 이름", "description": ""},
    )

    assert response.status_code == 302
    topic.refresh_from_db()
    assert topic.name == "정리한 이름"


def test_a_view_permission_reads_but_does_not_manage(client, plain_staff, topic):
    plain_staff.user_permissions.add(
        Permission.objects.get(codename="view_topic", content_type__app_label="study")
    )
    client.force_login(plain_staff)

    assert client.get(reverse("study:topic", args=[topic.pk])).status_code == 200
    edit = client.get(reverse("study:topic_edit", args=[topic.pk]))
    assert edit.status_code == 404


@pytest.fixture
def finished_on_shared(other_user, user):
    """`other_user` finished a quiz on `user`'s shared topic, then it went private."""
    topic = Topic.objects.create(name="공유했던 토픽", owner=user, is_shared=True)
    make_bank(topic, rounds=(("2022", "1"),), subjects=1, per_subject=5)
    done = answer_all(start(other_user, topic, size=5), 1)
    active = start(other_user, topic, size=5)
    topic.is_shared = False
    topic.save()
    return done, active


def test_sessions_and_attempts_of_a_topic_made_private_are_gone(
    client, other_user, finished_on_shared
):
    done, active = finished_on_shared
    attempt = Attempt.objects.filter(session=done).first()
    question_id = active.question_ids[0]
    client.force_login(other_user)

    codes = {
        "quiz": client.get(reverse("study:quiz", args=[active.pk])).status_code,
        "answer": client.post(
            reverse("study:quiz_answer", args=[active.pk]),
            {"position": 0, "question_id": question_id, "choice": 1},
        ).status_code,
        "abandon": client.post(
            reverse("study:quiz_abandon", args=[active.pk])
        ).status_code,
        "results": client.get(reverse("study:results", args=[done.pk])).status_code,
        "card": client.get(
            reverse("study:result_card", args=[done.pk, attempt.pk])
        ).status_code,
        "ai-states": client.get(
            reverse("study:results_ai_states", args=[done.pk])
        ).status_code,
        "reviewed": client.post(
            reverse("study:attempt_reviewed", args=[attempt.pk])
        ).status_code,
    }

    assert set(codes.values()) == {404}, codes
    assert not Attempt.objects.filter(session=active).exists()
    assert attempt.outcome == Outcome.WRONG


def test_the_owner_keeps_their_own_sessions(client, user, topic):
    make_bank(topic, rounds=(("2022", "1"),), subjects=1, per_subject=5)
    done = answer_all(start(user, topic, size=5), 2)
    client.force_login(user)

    assert client.get(reverse("study:results", args=[done.pk])).status_code == 200
