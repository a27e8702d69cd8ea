"""Answers that waited on a device: recorded once whatever arrives twice or
late, in slot order, at the time they were given, graded on arrival; and the
three conflicts (two devices, a key corrected, a session deleted)."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from study.models import Attempt, Outcome, QuestionProgress, QuizSession, QuizStatus
from study.offline.selectors import key_version, offline_bundle
from study.services.questions import question_update
from study.services.quiz_sessions import quiz_session_abandon
from tests.study.learner_helpers import make_bank, start

pytestmark = pytest.mark.django_db


@pytest.fixture
def session(user, topic):
    make_bank(topic)
    session = start(user, topic, size=20, rng=__import__("random").Random(3))
    # Started an hour ago, on the way to work: the answers were given since.
    QuizSession.objects.filter(pk=session.pk).update(
        started_at=timezone.now() - timedelta(hours=1)
    )
    session.refresh_from_db()
    return session


@pytest.fixture
def client_in(client, user):
    client.force_login(user)
    return client


def device_answers(session, choices, *, start=0, given_at=None):
    """What a device queues: one keyed answer per slot, as offline.js sends."""
    bundle = offline_bundle(session=session)
    by_position = {q["position"]: q for q in bundle["questions"]}
    base = given_at or session.started_at + timedelta(milliseconds=1)
    answers = []
    for offset, choice in enumerate(choices):
        position = start + offset
        answers.append(
            {
                "key": str(uuid.uuid4()),
                "position": position,
                "question_id": by_position[position]["id"],
                "choice": choice,
                "elapsed_ms": 1000 + position,
                "given_at": (base + timedelta(seconds=10 * position)).isoformat(),
                "key_version": by_position[position]["key_version"],
            }
        )
    return answers


def post_sync(client, session, answers):
    return client.post(
        reverse("study:offline_sync", args=[session.pk]),
        data=json.dumps({"answers": answers}),
        content_type="application/json",
    )


def statuses(response):
    return [a["status"] for a in response.json()["answers"]]


def test_it_records_twenty_waiting_answers_in_order_at_the_time_given(
    client_in, session
):
    answers = device_answers(session, [2, 1, 5, 2] * 5)
    response = post_sync(client_in, session, answers)

    assert response.status_code == 200
    assert statuses(response) == ["recorded"] * 20
    assert response.json()["session_status"] == QuizStatus.FINISHED
    attempts = list(Attempt.objects.filter(session=session).order_by("id"))
    assert [a.position for a in attempts] == list(range(20))
    assert [str(a.client_key) for a in attempts] == [a["key"] for a in answers]
    # Kept at the time each was given and the time it took, not the arrival.
    assert [a.created_at.isoformat() for a in attempts] == [
        a["given_at"] for a in answers
    ]
    assert [a.time_taken_ms for a in attempts] == [1000 + p for p in range(20)]
    # Graded on arrival by the server's key (make_bank: 2 is right).
    assert [a.outcome for a in attempts[:4]] == [
        Outcome.CORRECT,
        Outcome.WRONG,
        Outcome.UNSURE,
        Outcome.CORRECT,
    ]
    # Progress and schedules follow the time given.
    progress = QuestionProgress.objects.get(question_id=attempts[0].question_id)
    assert progress.last_attempted_at == attempts[0].created_at


def test_it_records_each_answer_once_when_a_batch_arrives_twice(client_in, session):
    answers = device_answers(session, [2] * 20)
    first = post_sync(client_in, session, answers[:10])
    again = post_sync(client_in, session, answers[:10])  # the reply was lost
    rest = post_sync(client_in, session, answers[5:])  # overlaps the first

    assert statuses(first) == ["recorded"] * 10
    assert statuses(again) == ["duplicate"] * 10
    assert [a["attempt_id"] for a in again.json()["answers"]] == [
        a["attempt_id"] for a in first.json()["answers"]
    ]
    assert statuses(rest) == ["duplicate"] * 5 + ["recorded"] * 10
    assert Attempt.objects.filter(session=session).count() == 20


def test_it_answers_a_late_duplicate_after_the_session_finished(client_in, session):
    answers = device_answers(session, [2] * 20)
    post_sync(client_in, session, answers)
    late = post_sync(client_in, session, answers[3:4])

    assert statuses(late) == ["duplicate"]
    assert late.json()["answers"][0]["final"] is True
    assert Attempt.objects.filter(session=session).count() == 20


def test_it_sorts_a_batch_into_slot_order_and_waits_for_a_missing_slot(
    client_in, session
):
    answers = device_answers(session, [2] * 6)
    shuffled = [answers[3], answers[0], answers[2], answers[1]]
    response = post_sync(client_in, session, shuffled)
    assert statuses(response) == ["recorded"] * 4

    gap = post_sync(client_in, session, [answers[5]])  # slot 4 not here yet
    assert statuses(gap) == ["not_yet"]
    assert gap.json()["answers"][0]["final"] is False
    filled = post_sync(client_in, session, [answers[4], answers[5]])
    assert statuses(filled) == ["recorded", "recorded"]
    assert list(
        Attempt.objects.filter(session=session).values_list("position", flat=True)
    ) == [0, 1, 2, 3, 4, 5]


def test_it_keeps_the_given_time_within_the_session(client_in, session):
    future = timezone.now() + timedelta(days=3)  # a device clock far ahead
    answers = device_answers(session, [2], given_at=future)
    answers[0]["given_at"] = future.isoformat()
    post_sync(client_in, session, answers)

    attempt = Attempt.objects.get(session=session)
    assert session.started_at <= attempt.created_at <= timezone.now()


def test_two_devices_first_arrival_wins_each_slot(client_in, session):
    """Two devices downloaded the session and both answered offline: each slot
    keeps the answer that reached the server first; the later device's answers
    to the same slots are reported and not recorded, its further ones count."""
    phone = device_answers(session, [2] * 8)
    tablet = device_answers(session, [1] * 12)
    post_sync(client_in, session, phone)
    response = post_sync(client_in, session, tablet)

    assert statuses(response) == ["answered_elsewhere"] * 8 + ["recorded"] * 4
    assert all(a["final"] for a in response.json()["answers"])
    assert response.json()["notices"] == [
        "8문제는 다른 기기나 탭에서 먼저 답해, 먼저 도착한 답을 남겼습니다."
    ]
    attempts = Attempt.objects.filter(session=session).order_by("position")
    assert [a.selected_choice for a in attempts] == [2] * 8 + [1] * 4


def test_a_key_corrected_while_answers_waited_grades_by_the_new_key(
    client_in, session, user
):
    answers = device_answers(session, [2, 3])
    question = session.topic.questions.get(pk=answers[1]["question_id"])
    question_update(question=question, data={"correct_choice": 3})

    response = post_sync(client_in, session, answers)

    body = response.json()
    assert statuses(response) == ["recorded", "recorded"]
    assert [a["key_changed"] for a in body["answers"]] == [False, True]
    assert body["notices"] == [
        "기다리는 동안 정답이 고쳐진 1문제는 고친 정답으로 채점했습니다."
    ]
    attempt = Attempt.objects.get(session=session, position=1)
    assert attempt.outcome == Outcome.CORRECT  # 3 is right now


def test_a_session_deleted_while_offline_records_nothing_and_says_so(
    client_in, session
):
    answers = device_answers(session, [2] * 5)
    session_id = session.pk
    session.delete()

    response = client_in.post(
        reverse("study:offline_sync", args=[session_id]),
        data=json.dumps({"answers": answers}),
        content_type="application/json",
    )

    body = response.json()
    assert response.status_code == 200
    assert body["session_status"] == "gone"
    assert statuses(response) == ["session_gone"] * 5
    assert all(a["final"] for a in body["answers"])
    assert body["notices"] == [
        "세션이 삭제되어 이 기기에 남은 답 5개를 기록하지 못했습니다."
    ]
    assert not Attempt.objects.exists()


def test_a_session_stopped_elsewhere_keeps_what_it_had(client_in, session):
    answers = device_answers(session, [2] * 6)
    post_sync(client_in, session, answers[:2])
    quiz_session_abandon(session=QuizSession.objects.get(pk=session.pk))

    response = post_sync(client_in, session, answers)

    assert statuses(response) == ["duplicate"] * 2 + ["session_closed"] * 4
    assert response.json()["session_status"] == QuizStatus.ABANDONED
    assert Attempt.objects.filter(session=session).count() == 2


def test_another_learners_session_is_gone_for_them(client, other_user, session):
    client.force_login(other_user)
    answers = device_answers(session, [2])
    response = post_sync(client, session, answers)
    assert response.json()["session_status"] == "gone"
    assert not Attempt.objects.exists()


def test_a_key_reused_for_another_session_is_refused(client_in, user, topic):
    make_bank(topic)
    one = start(user, topic, size=5, rng=__import__("random").Random(1))
    two = start(user, topic, size=5, rng=__import__("random").Random(2))
    answers = device_answers(one, [2])
    post_sync(client_in, one, answers)
    reused = device_answers(two, [2])
    reused[0]["key"] = answers[0]["key"]

    assert statuses(post_sync(client_in, two, reused)) == ["invalid"]


@pytest.mark.parametrize(
    "bad",
    [
        {"position": 0, "question_id": -1, "choice": 2},  # not this slot's question
        {"choice": 9},
        {"choice": True},
        {"position": 99},
        {"given_at": "yesterday"},  # unreadable time: recorded at arrival
    ],
)
def test_bad_items_are_reported_not_recorded(client_in, session, bad):
    answer = {**device_answers(session, [2])[0], **bad}
    response = post_sync(client_in, session, [answer])
    expected = "recorded" if "given_at" in bad else "invalid"
    assert statuses(response) == [expected]
    assert Attempt.objects.count() == (1 if expected == "recorded" else 0)


@pytest.mark.parametrize(
    "body", ["not json", "[]", '{"answers": 3}', json.dumps({"answers": [{}] * 201})]
)
def test_an_unreadable_request_is_a_clear_400(client_in, session, body):
    response = client_in.post(
        reverse("study:offline_sync", args=[session.pk]),
        data=body,
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["error"] == "보낸 답을 읽을 수 없습니다."


def test_signed_out_devices_get_401_json_and_keep_their_answers(client, session):
    response = post_sync(client, session, device_answers(session, [2]))
    assert response.status_code == 401
    assert response.json()["login"] is True
    assert not Attempt.objects.exists()


def test_the_mock_exam_stays_online(client_in, user, topic):
    make_bank(topic)
    mock = start(user, topic, mode="mock", per_subject=2)
    bundle = client_in.get(reverse("study:offline_bundle", args=[mock.pk]))
    assert bundle.status_code == 409
    sync = post_sync(client_in, mock, [{"key": str(uuid.uuid4()), "position": 0}])
    assert sync.status_code == 409
    assert not Attempt.objects.exists()


def test_the_bundle_has_no_key_and_no_explanation(client_in, session):
    first = session.topic.questions.get(pk=session.question_ids[0])
    first.explanation = "해설: 정답은 2번"
    first.save()
    response = client_in.get(reverse("study:offline_bundle", args=[session.pk]))

    assert response.status_code == 200
    text = response.content.decode()
    assert "correct_choice" not in text and "accepted" not in text
    assert "해설" not in text
    questions = response.json()["questions"]
    assert [q["id"] for q in questions] == session.question_ids
    assert set(questions[0]) == {
        "position",
        "id",
        "stem",
        "choices",
        "subject",
        "round",
        "figure_url",
        "key_version",
    }
    # The version tag follows the key but is an HMAC under the site's secret:
    # a device cannot try the four choices against it.
    assert questions[0]["key_version"] == key_version(first)
    with override_settings(SECRET_KEY="another-secret-key-0123456789abcdefghijklmnop"):
        assert key_version(first) != questions[0]["key_version"]


def test_the_bundle_starts_at_the_first_unanswered_slot(client_in, session):
    post_sync(client_in, session, device_answers(session, [2] * 3))
    response = client_in.get(reverse("study:offline_bundle", args=[session.pk]))
    positions = [q["position"] for q in response.json()["questions"]]
    assert positions == list(range(3, 20))
    assert response.json()["session"]["answered_count"] == 3


def test_an_online_answer_with_a_key_is_found_by_the_sync(client_in, session):
    """The reply to an online answer was lost: the device queued the same
    answer under the same key, and the sync finds it recorded."""
    key = str(uuid.uuid4())
    client_in.post(
        reverse("study:quiz_answer", args=[session.pk]),
        {
            "position": 0,
            "question_id": session.question_ids[0],
            "choice": 2,
            "client_key": key,
        },
    )
    answer = {**device_answers(session, [2])[0], "key": key}
    response = post_sync(client_in, session, [answer])
    assert statuses(response) == ["duplicate"]
    assert Attempt.objects.filter(session=session).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_tabs_sending_the_same_answers_at_once_record_them_once(user, topic):
    """Two requests with the same keys race (two tabs syncing one queue)."""
    from django.test import Client

    make_bank(topic)
    session = start(user, topic, size=10, rng=__import__("random").Random(5))
    answers = device_answers(session, [2] * 10)
    barrier = threading.Barrier(2)
    results = []

    def send():
        client = Client()
        client.force_login(user)
        barrier.wait()
        results.append(statuses(post_sync(client, session, answers)))
        connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Attempt.objects.filter(session=session).count() == 10
    assert sum(r.count("recorded") for r in results) == 10
    assert {status for r in results for status in r} <= {"recorded", "duplicate"}


def test_a_batch_costs_a_bounded_number_of_queries_per_answer(
    client_in, session, django_assert_max_num_queries
):
    """Each answer goes through the one answer service: one statement that
    claims its slot and inserts it (the batch reads the questions once); the
    batch adds a fixed few (session, keys seen, questions)."""
    answers = device_answers(session, [2] * 10)
    with django_assert_max_num_queries(10 * 1 + 8):  # 16 measured
        response = post_sync(client_in, session, answers)
    assert statuses(response) == ["recorded"] * 10
