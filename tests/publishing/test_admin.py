"""The outbox in admin: filters, last error, retry of dead letters, replay."""

from django.urls import reverse

from publishing.models import EventKind, OutboxEvent
from study.services.questions import question_update
from tests.publishing.helpers import create, events_of, kinds, make_ready

CHANGELIST = "admin:publishing_outboxevent_changelist"


def test_admin_lists_and_filters_events(publishing_on, client, staff_user, topic):
    question = create(topic, 1)
    other = create(topic, 2)
    OutboxEvent.objects.filter(aggregate_id=other.pk).update(
        dead_at="2026-01-01T00:00:00Z", attempts=4, last_error="HTTP 422: 거부됨"
    )
    client.force_login(staff_user)
    url = reverse(CHANGELIST)

    def listed(query):
        response = client.get(url + query)
        assert response.status_code == 200, query
        return response.context["cl"].result_list

    assert len(listed("")) == 2
    assert "HTTP 422: 거부됨" in client.get(url).content.decode()
    assert [e.aggregate_id for e in listed("?dead=yes")] == [other.pk]
    assert [e.aggregate_id for e in listed("?dead=no")] == [question.pk]
    assert len(listed("?delivered=no")) == 2
    assert len(listed("?delivered=yes")) == 0
    assert len(listed("?kind__exact=question")) == 2
    assert len(listed("?kind__exact=explanation")) == 0
    assert [e.aggregate_id for e in listed(f"?q={other.pk}")] == [other.pk]
    assert len(listed("?q=not-a-number")) == 0
    event = OutboxEvent.objects.get(aggregate_id=question.pk)
    change = reverse("admin:publishing_outboxevent_change", args=[event.pk])
    page = client.get(change)
    assert page.status_code == 200
    assert "다시 시도" in page.content.decode()  # actions on the change form too


def test_dead_letter_retry_action_gets_it_delivered(
    viewer, relay, client, staff_user, topic
):
    question = create(topic, 1)
    question_update(question=question, data={"stem": "고친 문제"})
    viewer.script = ["422"]
    relay.now()
    dead = OutboxEvent.objects.get(seq=1)
    assert dead.dead_at is not None

    client.force_login(staff_user)
    client.post(reverse(CHANGELIST), {"action": "retry", "_selected_action": [dead.pk]})
    dead.refresh_from_db()
    assert (dead.dead_at, dead.attempts) == (None, 0)
    assert dead.last_error.startswith("HTTP 422")  # kept for the record

    relay.now()
    assert viewer.applied_seqs(question.pk) == [1, 2]
    assert viewer.questions[question.pk]["stem"] == "고친 문제"


def test_replay_action_publishes_the_current_state_as_new_events(
    viewer, relay, client, staff_user, topic
):
    question = create(topic, 1)
    relay.now()
    make_ready(question)
    old = OutboxEvent.objects.get()

    client.force_login(staff_user)
    client.post(reverse(CHANGELIST), {"action": "replay", "_selected_action": [old.pk]})

    assert kinds(events_of(question)) == [EventKind.QUESTION] * 2 + [
        EventKind.EXPLANATION
    ]
    relay.now()
    assert viewer.applied_seqs(question.pk) == [1, 2, 3]
    assert question.pk in viewer.explanations


def test_only_dead_events_can_be_deleted(publishing_on, client, staff_user, topic):
    question = create(topic, 1)
    question_update(question=question, data={"stem": "다음 판"})
    first, second = events_of(question)
    first.dead_at = first.created_at
    first.save()
    client.force_login(staff_user)

    def delete(event):
        url = reverse("admin:publishing_outboxevent_delete", args=[event.pk])
        return client.post(url, {"post": "yes"})

    assert delete(second).status_code == 403
    assert delete(first).status_code == 302
    assert [e.seq for e in events_of(question)] == [2]
