"""The answer path (issue 30): one statement per answer (the slot's claim,
the attempt's insert and the read of the next card), and no answer lost or
doubled when two submits race or the database connection dies in the middle
of one."""

import threading
import time

import psycopg
import pytest
from django.db import (
    OperationalError,
    close_old_connections,
    connection,
    connections,
)
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from study.models import (
    Attempt,
    Outcome,
    Question,
    QuestionProgress,
    QuizSession,
    QuizStatus,
)
from study.services.quiz_sessions import AnswerRejected, quiz_answer_record
from tests.study.learner_helpers import make_bank, start

HTMX = {"HTTP_HX_REQUEST": "true"}


def wait_for(condition, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def answer(client, session, position, choice, **extra):
    data = {
        "position": position,
        "question_id": session.question_ids[position],
        "choice": choice,
        "elapsed_ms": 4200,
        **extra,
    }
    return client.post(reverse("study:quiz_answer", args=[session.pk]), data, **HTMX)


@pytest.mark.django_db
def test_it_grades_records_and_shows_the_next_card_in_three_queries(
    client, user, topic
):
    bank = {q.pk: q for q in make_bank(topic)}
    client.force_login(user)
    session = start(user, topic, size=5)
    first, second = (bank[i] for i in session.question_ids[:2])
    with CaptureQueriesContext(connection) as ctx:
        response = answer(client, session, 0, first.correct_choice)
    # session, user, and one statement: claim + insert + the slot read
    assert len(ctx.captured_queries) == 3
    assert response.status_code == 200
    page = response.content.decode()
    assert second.stem in page and first.stem not in page
    assert "<strong>2</strong> / 5" in page
    attempt = Attempt.objects.get()
    assert (attempt.position, attempt.outcome, attempt.selected_choice) == (
        0,
        Outcome.CORRECT,
        first.correct_choice,
    )
    assert attempt.time_taken_ms == 4200 and attempt.user_id == user.pk
    session.refresh_from_db()
    assert session.answered_count == 1
    assert session.last_activity_at == attempt.created_at
    # Nothing but the attempt is written per answer; progress comes at the end.
    assert not QuestionProgress.objects.exists()


@pytest.mark.django_db
def test_it_grades_against_every_accepted_answer(client, user, topic):
    make_bank(topic)
    client.force_login(user)
    session = start(user, topic, size=3)
    Question.objects.filter(pk=session.question_ids[0]).update(
        correct_choice=1, accepted_choices="1,3"
    )
    answer(client, session, 0, 3)
    answer(client, session, 1, 5)
    outcomes = list(
        Attempt.objects.order_by("position").values_list("outcome", flat=True)
    )
    assert outcomes == [Outcome.CORRECT, Outcome.UNSURE]


@pytest.mark.django_db
@pytest.mark.parametrize("accepted", ["", "1,3", "2,4", "4", "1,2,3,4"])
def test_the_statement_grades_as_question_is_correct(client, user, topic, accepted):
    """The answer statement grades in SQL; every choice of every kind of key
    is graded as Question.is_correct (and the regrades) grade it."""
    make_bank(topic)
    client.force_login(user)
    session = start(user, topic, size=6)
    Question.objects.filter(pk__in=session.question_ids).update(
        correct_choice=2, accepted_choices=accepted
    )
    for position, choice in enumerate([1, 2, 3, 4, 5]):
        with CaptureQueriesContext(connection) as ctx:
            assert answer(client, session, position, choice).status_code == 200
        assert len(ctx.captured_queries) == 3  # graded in the one statement
    question = Question.objects.get(pk=session.question_ids[0])
    expected = [
        Outcome.UNSURE
        if c == 5
        else Outcome.CORRECT
        if question.is_correct(c)
        else Outcome.WRONG
        for c in [1, 2, 3, 4, 5]
    ]
    graded = Attempt.objects.order_by("position")
    assert [a.outcome for a in graded] == expected
    assert [a.selected_choice for a in graded] == [1, 2, 3, 4, None]


@pytest.mark.django_db
def test_an_answer_the_statement_leaves_is_recorded_by_the_service(client, user, topic):
    """No reported time (a form posted without script), an offline time, or
    the last slot: the statement only reads, quiz_answer_record records."""
    make_bank(topic)
    client.force_login(user)
    session = start(user, topic, size=2)
    url = reverse("study:quiz_answer", args=[session.pk])
    data = {"position": 0, "question_id": session.question_ids[0], "choice": 1}
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(url, data, **HTMX)
    assert response.status_code == 200
    assert len(ctx.captured_queries) == 4  # the statement reads, the claim writes
    first = Attempt.objects.get()
    assert first.time_taken_ms >= 0 and first.position == 0
    response = answer(client, session, 1, 5)  # the last: finalized with it
    assert response.status_code == 200 and response["HX-Redirect"]
    session.refresh_from_db()
    assert session.status == QuizStatus.FINISHED and session.answered_count == 2
    assert Attempt.objects.count() == 2


@pytest.mark.django_db
def test_a_hostile_position_is_a_clear_error_and_writes_nothing(client, user, topic):
    make_bank(topic)
    client.force_login(user)
    session = start(user, topic, size=3)
    for position in ("-1", "3", "99999999999999999999", "٣", ""):
        response = client.post(
            reverse("study:quiz_answer", args=[session.pk]),
            {"position": position, "question_id": session.question_ids[0], "choice": 1},
            **HTMX,
        )
        assert response.status_code in (400, 409), position
    assert not Attempt.objects.exists()


@pytest.mark.django_db
def test_another_learners_session_is_404_on_the_answer_path(
    client, user, other_user, topic
):
    make_bank(topic)
    session = start(user, topic, size=3)
    client.force_login(other_user)
    assert answer(client, session, 0, 1).status_code == 404
    topic.is_shared = False
    topic.owner = other_user
    topic.save()
    client.force_login(user)  # their own session, in a topic they may no longer see
    assert answer(client, session, 0, 1).status_code == 404
    assert not Attempt.objects.exists()


def _kill_lock_waiters() -> None:
    """Terminate the backends of this database waiting on a lock (a killed
    database connection, as a crash or a restart would leave it)."""
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )


def _waiting_on_a_lock() -> int:
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def _hold_session_row(session: QuizSession):
    """A second connection that locks the session row until released."""
    settings = connections["default"].get_connection_params()
    holder = psycopg.connect(**settings)
    holder.execute(
        "SELECT 1 FROM study_quizsession WHERE id = %s FOR UPDATE", [session.pk]
    )
    return holder


def _in_thread(target) -> tuple[threading.Thread, dict]:
    outcome: dict = {}

    def run():
        try:
            outcome["result"] = target()
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


@pytest.mark.django_db(transaction=True)
def test_two_submits_of_one_slot_at_once_record_one_attempt(user, topic):
    make_bank(topic)
    session = start(user, topic, size=5)
    holder = _hold_session_row(session)
    clients = [Client(), Client()]
    runs = []
    for client, choice in zip(clients, (1, 2), strict=True):
        client.force_login(user)
        runs.append(_in_thread(lambda c=client, ch=choice: answer(c, session, 0, ch)))
    wait_for(lambda: _waiting_on_a_lock() == 2)  # both reached the claim
    holder.rollback()
    holder.close()
    for thread, _ in runs:
        thread.join(60)
    statuses = sorted(outcome["result"].status_code for _, outcome in runs)
    assert statuses == [200, 409]
    assert Attempt.objects.count() == 1
    session.refresh_from_db()
    assert session.answered_count == 1


@pytest.mark.django_db(transaction=True)
def test_an_answer_whose_connection_dies_is_all_or_nothing_and_can_be_resent(
    client, user, topic
):
    make_bank(topic)
    session = start(user, topic, size=5)

    def record():
        return quiz_answer_record(
            session=QuizSession.objects.get(pk=session.pk),
            position=0,
            question_id=session.question_ids[0],
            choice=2,
            time_taken_ms=1000,
        )

    holder = _hold_session_row(session)
    thread, outcome = _in_thread(record)
    wait_for(lambda: _waiting_on_a_lock() == 1)  # blocked inside the statement
    _kill_lock_waiters()
    thread.join(60)
    holder.rollback()
    holder.close()
    assert isinstance(outcome.get("error"), OperationalError)
    session.refresh_from_db()
    assert session.answered_count == 0 and not Attempt.objects.exists()
    client.force_login(user)
    assert answer(client, session, 0, 2).status_code == 200  # the learner resends
    assert answer(client, session, 0, 2).status_code == 409  # and once only
    assert Attempt.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_answers_go_on_after_the_database_drops_every_connection(client, user, topic):
    make_bank(topic)
    session = start(user, topic, size=3)
    client.force_login(user)
    assert answer(client, session, 0, 1).status_code == 200
    with psycopg.connect(**connections["default"].get_connection_params()) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    # The next request finds its persistent connection dead and opens another
    # (CONN_HEALTH_CHECKS, checked at each request's start, which the test
    # client leaves out: it is called here as the server's handler calls it);
    # no answer is lost and the session finishes.
    close_old_connections()
    assert answer(client, session, 1, 1).status_code == 200
    last = answer(client, session, 2, 1)
    assert last["HX-Redirect"] == reverse("study:results", args=[session.pk])
    session.refresh_from_db()
    assert session.status == QuizStatus.FINISHED
    assert list(
        Attempt.objects.order_by("position").values_list("position", flat=True)
    ) == [0, 1, 2]
    assert QuestionProgress.objects.filter(user=user).count() == 3


@pytest.mark.django_db
def test_the_last_answer_and_the_finalize_commit_together(user, topic, monkeypatch):
    """A finalize that fails takes the last answer with it: the learner resends
    it, rather than a finished-looking session without its progress."""
    import study.services.quiz_sessions as quiz_sessions

    make_bank(topic)
    session = start(user, topic, size=2)
    quiz_answer_record(
        session=session,
        position=0,
        question_id=session.question_ids[0],
        choice=1,
        time_taken_ms=1,
    )

    def broken(**kwargs):
        raise RuntimeError("finalize failed")

    monkeypatch.setattr(quiz_sessions, "quiz_session_finalize", broken)
    with pytest.raises(RuntimeError):
        quiz_answer_record(
            session=session,
            position=1,
            question_id=session.question_ids[1],
            choice=1,
            time_taken_ms=1,
        )
    session.refresh_from_db()
    assert session.answered_count == 1 and Attempt.objects.count() == 1
    monkeypatch.undo()
    with pytest.raises(AnswerRejected):  # a replay of the first slot
        quiz_answer_record(
            session=session,
            position=0,
            question_id=session.question_ids[0],
            choice=1,
            time_taken_ms=1,
        )
