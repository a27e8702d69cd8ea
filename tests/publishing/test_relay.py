"""The relay against a real local viewer: signed, in order, at least once."""

import threading
import time
from datetime import timedelta

import httpx
import pytest
from django.db import connection
from django.utils import timezone

from publishing.models import OutboxEvent
from publishing.relay import BACKOFF_CAP_S, backoff_delay_s, outbox_relay
from publishing.signing import encode_body, signature, signature_verify
from publishing.tasks import relay_outbox
from study.services.questions import question_soft_delete, question_update
from tests.publishing.helpers import SECRET, create, make_ready, study_state


def undelivered():
    return OutboxEvent.objects.filter(delivered_at__isnull=True)


def test_it_delivers_signed_events_with_the_idempotency_key(viewer, relay, topic):
    question = create(topic, 1)
    make_ready(question)
    question_update(question=question, data={"scope": "보호구"})

    report = relay.now()

    assert report.delivered == 3
    assert not undelivered().exists()
    events = list(OutboxEvent.objects.order_by("seq"))
    assert [r["key"] for r in viewer.received] == [str(e.id) for e in events]
    assert all(r["verified"] for r in viewer.received)
    body = viewer.received[2]["payload"]
    assert set(body) == {"id", "kind", "aggregate_id", "seq", "created_at", "snapshot"}
    assert (body["kind"], body["aggregate_id"], body["seq"]) == (
        "explanation",
        question.pk,
        3,
    )
    assert (viewer.questions, viewer.explanations) == study_state(topic)


def test_the_task_entry_point_runs_the_relay(viewer, topic):
    create(topic, 1)
    assert relay_outbox() == {"delivered": 1, "retrying": 0, "dead": 0}


def test_the_signature_verifies_and_a_tampered_body_does_not():
    body = encode_body({"id": "e1", "snapshot": {"stem": "원래 문제"}})
    header = signature(body=body, secret=SECRET, timestamp=int(time.time()))
    tampered = body.replace("원래".encode(), "바뀐".encode())

    assert signature_verify(body=body, header=header, secret=SECRET)
    assert not signature_verify(body=tampered, header=header, secret=SECRET)
    assert not signature_verify(body=body, header=header, secret="other-secret")
    stale = signature(body=body, secret=SECRET, timestamp=int(time.time()) - 3600)
    assert not signature_verify(body=body, header=stale, secret=SECRET)


def test_the_viewer_rejects_a_tampered_body(viewer):
    body = encode_body(
        {
            "id": "e1",
            "kind": "question",
            "aggregate_id": 1,
            "seq": 1,
            "snapshot": {"id": 1},
        }
    )
    headers = {
        "Idempotency-Key": "e1",
        "X-Gichul-Signature": signature(
            body=body, secret=SECRET, timestamp=int(time.time())
        ),
    }
    tampered = body.replace(b'"seq":1', b'"seq":9')

    assert httpx.post(viewer.url, content=tampered, headers=headers).status_code == 401
    assert httpx.post(viewer.url, content=body, headers=headers).status_code == 200
    assert [p["seq"] for p in viewer.applied] == [1]


def test_everything_is_delivered_after_the_viewer_comes_back(viewer, relay, topic):
    questions = [create(topic, n) for n in (1, 2, 3)]
    viewer.stop()

    report = relay.now()

    assert (report.delivered, report.retrying) == (0, 3)
    failed = OutboxEvent.objects.get(aggregate_id=questions[0].pk)
    assert failed.attempts == 1
    assert "ConnectError" in failed.last_error
    assert failed.next_attempt_at > failed.last_attempt_at
    assert relay.now().attempted == 0  # backing off

    viewer.start()
    assert relay.later().delivered == 3
    assert not undelivered().exists()
    assert (viewer.questions, viewer.explanations) == study_state(topic)


def test_a_question_edited_five_times_while_down_arrives_in_order(viewer, relay, topic):
    question = create(topic, 1)
    viewer.stop()
    for n in range(1, 6):
        question_update(question=question, data={"stem": f"{n}번째 고친 문제"})
    relay.now()
    relay.later()
    viewer.start()

    relay.later()

    assert viewer.applied_seqs(question.pk) == [1, 2, 3, 4, 5, 6]
    assert viewer.questions[question.pk]["stem"] == "5번째 고친 문제"
    assert viewer.out_of_order == []


def test_order_per_question_holds_while_other_questions_proceed(viewer, relay, topic):
    blocked, free = create(topic, 1), create(topic, 2)
    for n in (1, 2):
        question_update(question=blocked, data={"stem": f"막힌 문제 {n}"})
        question_update(question=free, data={"stem": f"흐르는 문제 {n}"})
    viewer.rule = lambda p: "500" if p["aggregate_id"] == blocked.pk else "ok"

    relay.now()

    assert viewer.applied_seqs(free.pk) == [1, 2, 3]
    assert viewer.applied_seqs(blocked.pk) == []
    tried = [
        r["payload"]["seq"]
        for r in viewer.received
        if r["payload"]["aggregate_id"] == blocked.pk
    ]
    assert tried == [1]  # its later events were never sent
    head = OutboxEvent.objects.get(aggregate_id=blocked.pk, seq=1)
    assert head.last_error.startswith("HTTP 500")

    viewer.rule = None
    relay.later()
    assert viewer.applied_seqs(blocked.pk) == [1, 2, 3]
    assert viewer.questions[blocked.pk]["stem"] == "막힌 문제 2"


@pytest.mark.parametrize("fault", ["500", "drop", "slow", "drop_after", "429"])
def test_it_retries_after_a_transient_fault(viewer, relay, topic, fault):
    question = create(topic, 1)
    viewer.script = [fault]

    first = relay.now()

    assert (first.delivered, first.retrying) == (0, 1)
    event = OutboxEvent.objects.get()
    assert event.delivered_at is None and event.last_error
    relay.later()
    event.refresh_from_db()
    assert event.delivered_at is not None and event.attempts == 2
    # The viewer processed the event once even when it saw it twice.
    assert viewer.applied_seqs(question.pk) == [1]
    assert viewer.duplicates == (1 if fault in ("slow", "drop_after") else 0)


def test_a_slow_viewer_times_out_and_its_second_2xx_is_a_duplicate(
    viewer, relay, topic
):
    create(topic, 1)
    viewer.script = ["slow"]
    relay.now()
    assert "Timeout" in OutboxEvent.objects.get().last_error

    relay.later()

    keys = [r["key"] for r in viewer.received]
    assert len(keys) == 2 and keys[0] == keys[1]
    assert len(viewer.applied) == 1 and viewer.duplicates == 1


def test_a_rejected_event_is_dead_lettered_at_once(viewer, relay, topic):
    question = create(topic, 1)
    question_update(question=question, data={"stem": "다음 판"})
    viewer.script = ["422"]

    report = relay.now()

    assert report.dead == 1
    head = OutboxEvent.objects.get(seq=1)
    assert head.dead_at is not None and head.attempts == 1
    assert head.last_error.startswith("HTTP 422")
    relay.later()
    assert len(viewer.received) == 1  # the next event waits behind the dead one


def test_it_dead_letters_after_the_maximum_attempts(viewer, relay, topic):
    create(topic, 1)
    viewer.rule = lambda p: "500"
    for _ in range(3):
        relay.later()
    assert OutboxEvent.objects.get().dead_at is None
    assert relay.later().dead == 1

    event = OutboxEvent.objects.get()
    assert (event.attempts, event.dead_at is not None) == (4, True)
    assert relay.later().attempted == 0


def test_backoff_grows_exponentially_with_jitter_up_to_a_cap():
    for attempt in (1, 2, 3, 4):
        ceiling = 10 * 2 ** (attempt - 1)
        delays = {backoff_delay_s(attempt) for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1
    assert all(
        BACKOFF_CAP_S / 2 <= backoff_delay_s(40) <= BACKOFF_CAP_S for _ in range(20)
    )
    assert backoff_delay_s(1, retry_after_s=120) == 120


def test_a_retry_after_header_postpones_the_next_attempt(viewer, relay, topic):
    create(topic, 1)
    viewer.script = ["429"]
    before = timezone.now()
    relay.now()
    event = OutboxEvent.objects.get()
    assert event.next_attempt_at >= before + timedelta(seconds=30)


def test_nothing_is_sent_with_the_flag_off(publishing_on, viewer, relay, topic):
    create(topic, 1)
    publishing_on.STUDY_PUBLISH_ENABLED = False
    assert relay.later().attempted == 0
    assert viewer.received == []


def test_an_idempotent_viewer_ends_with_exactly_the_study_state(viewer, relay, topic):
    questions = [create(topic, n) for n in range(1, 6)]
    make_ready(questions[0])
    question_update(question=questions[0], data={"scope": "해설 있는 문제"})
    make_ready(questions[1])
    question_update(question=questions[1], data={"correct_choice": 1})  # stale
    make_ready(questions[2])
    question_soft_delete(question=questions[2])
    question_soft_delete(question=questions[3])
    viewer.script = ["drop_after", "500", "slow", "drop", "drop_after", "500"]

    for _ in range(6):
        relay.later()

    assert not undelivered().exists()
    assert (viewer.questions, viewer.explanations) == study_state(topic)
    keys = [p["id"] for p in viewer.applied]
    assert len(keys) == len(set(keys)) == OutboxEvent.objects.count()
    assert viewer.out_of_order == []


@pytest.mark.django_db(transaction=True)
def test_several_relay_workers_never_send_one_event_twice_at_once(viewer, topic):
    questions = [create(topic, n) for n in range(1, 7)]
    for question in questions:
        for n in (1, 2):
            question_update(question=question, data={"stem": f"{n}판"})
    viewer.delay_s = 0.03
    start = threading.Barrier(4)
    errors = []

    def worker():
        try:
            start.wait()
            outbox_relay()
            outbox_relay()  # the ones others held when this worker looked
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(viewer.received) == OutboxEvent.objects.count() == 18
    assert len({r["key"] for r in viewer.received}) == 18
    assert viewer.max_in_flight_per_question == 1
    assert viewer.out_of_order == []
    assert not undelivered().exists()
