"""Submitting a mock exam (issue 30): the paper and its progress rows are
written set-based in one transaction with the tasks it queues; what it stores
is what the replay of the learner's answers rebuilds; two submits at once or a
connection that dies in the middle record the paper once."""

import random
from datetime import timedelta

import pytest
from django.db import OperationalError, connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_q.models import OrmQ

from study.evidence.services import SESSION_CARDS_TASK
from study.forecast.snapshots import REFRESH_TASK
from study.jobs.runner import CONSUME_TASK
from study.models import (
    Attempt,
    Question,
    QuestionProgress,
    QuizMode,
    QuizSession,
    QuizStatus,
)
from study.services.exam_plans import exam_plan_set
from study.services.learner_settings import learner_retention_set
from study.services.progress import (
    PROGRESS_FIELDS,
    attempt_mark_reviewed,
    question_review_complete,
)
from study.services.quiz_sessions import mock_submit
from study.services.regrade import questions_regrade
from tests.study.learner_helpers import answer_all, make_bank, start, submit_mock
from tests.study.test_answer_path import (
    _in_thread,
    _kill_lock_waiters,
    _waiting_on_a_lock,
    wait_for,
)

# What a progress row holds of the learner's answers (pattern_updated_at is
# the time of the write, not of an answer).
STORED = [
    "last_attempt_id" if name == "last_attempt" else name
    for name in PROGRESS_FIELDS
    if name != "pattern_updated_at"
] + ["user_id", "topic_id", "last_reviewed_at"]


def _rows(user) -> dict[int, tuple]:
    return {
        row.question_id: tuple(_value(row, name) for name in STORED)
        for row in QuestionProgress.objects.filter(user=user)
    }


def _value(row: QuestionProgress, name: str):
    value = getattr(row, name)
    if name == "fsrs_card" and value:  # its id is the time the card was made
        return {key: v for key, v in value.items() if key != "card_id"}
    return value


def _studied(user, topic) -> None:
    """A history with every kind of row a mock meets: scheduled cards (checked
    misses, 확인 완료), answers earlier the same day, and questions never seen."""
    exam_plan_set(
        user=user,
        topic=topic,
        exam_date=timezone.localdate() + timedelta(days=28),
        daily_size=40,
    )
    learner_retention_set(user_id=user.pk, desired_retention=0.85)
    done = answer_all(
        start(user, topic, mode=QuizMode.ROUND, round_key="2022-1"),
        lambda p, q: 1 + p % 2,
    )
    for attempt in done.attempts.filter(outcome="wrong")[:5]:
        attempt_mark_reviewed(attempt=attempt)
    later = list(
        done.attempts.order_by("position").values_list("question_id", flat=True)
    )
    question_review_complete(user=user, question_ids=later[5:9])
    answer_all(
        start(user, topic, mode=QuizMode.ROUND, round_key="2022-1"),
        lambda p, q: 1 + (p // 2) % 2,
    )


@pytest.mark.django_db
def test_a_mock_stores_the_progress_rows_the_replay_of_the_answers_rebuilds(
    user, topic
):
    make_bank(topic, per_subject=5)  # 30 questions, 15 of them studied
    _studied(user, topic)
    before = _rows(user)
    mock = start(user, topic, mode=QuizMode.MOCK, per_subject=10, rng=random.Random(5))
    submit_mock(mock, lambda p, q: [2, 1, 0, 5, 2, 2, 3][p % 7])
    stored = _rows(user)
    assert len(stored) == 30 and len(before) == 15  # 15 rows new, 15 updated
    scheduled = [qid for qid, row in before.items() if row[STORED.index("fsrs_card")]]
    assert len(scheduled) >= 5  # cards reviewed again by the mock
    assert all(
        stored[qid][STORED.index("fsrs_card")] != before[qid][STORED.index("fsrs_card")]
        for qid in scheduled
    )
    # The regrade's replay folds every answer again, through the ORM, from
    # nothing: a key left as it is rebuilds exactly the rows the submit wrote.
    questions_regrade(questions=list(Question.objects.filter(topic=topic)))
    assert _rows(user) == stored
    assert Attempt.objects.filter(session=mock).count() == 30


@pytest.mark.django_db
def test_a_mock_queues_its_tasks_in_its_own_transaction(user, topic, fake_llm):
    make_bank(topic, per_subject=5)
    mock = start(user, topic, mode=QuizMode.MOCK, per_subject=10)
    # The start's own task (its cards, queued with the session) is not the
    # submit's.
    assert [task.func() for task in OrmQ.objects.all()] == [SESSION_CARDS_TASK]
    OrmQ.objects.all().delete()
    with pytest.raises(RuntimeError), transaction.atomic():
        submit_mock(mock, 1)  # many wrong: explanations and an analysis queued
        assert sorted(task.func() for task in OrmQ.objects.all()) == [
            CONSUME_TASK,  # one wake for both kinds of AI work
            REFRESH_TASK,
        ]
        raise RuntimeError("the request fails after the submit")
    # Rolled back with the answers: no task for work that was never stored.
    assert not OrmQ.objects.exists() and not Attempt.objects.exists()
    submit_mock(mock, 1)
    assert OrmQ.objects.count() == 2


def _hold_progress_row(user):
    """A second connection that locks one of the learner's progress rows."""
    import psycopg

    holder = psycopg.connect(**connections["default"].get_connection_params())
    holder.execute(
        "SELECT 1 FROM study_questionprogress WHERE user_id = %s "
        "ORDER BY id LIMIT 1 FOR UPDATE",
        [user.pk],
    )
    return holder


def _submit(client: Client, session: QuizSession, answers: dict[str, int]):
    return client.post(reverse("study:mock_submit", args=[session.pk]), answers)


@pytest.mark.django_db(transaction=True)
def test_two_submits_of_one_mock_at_once_record_its_paper_once(user, topic):
    make_bank(topic, per_subject=5)
    answer_all(start(user, topic, mode=QuizMode.ROUND, round_key="2022-1"), 2)
    mock = start(user, topic, mode=QuizMode.MOCK, per_subject=10)
    answers = {f"a{p}": 2 for p in range(mock.size)}
    holder = _hold_progress_row(user)
    runs = []
    for _ in range(2):
        client = Client()
        client.force_login(user)
        runs.append(_in_thread(lambda c=client: _submit(c, mock, answers)))
    # One holds the session and waits on the progress row; the other waits on
    # the session row it holds.
    wait_for(lambda: _waiting_on_a_lock() == 2)
    holder.rollback()
    holder.close()
    for thread, _ in runs:
        thread.join(60)
    assert [outcome["result"].status_code for _, outcome in runs] == [302, 302]
    mock.refresh_from_db()
    assert mock.status == QuizStatus.FINISHED
    assert Attempt.objects.filter(session=mock).count() == mock.size
    assert mock.result["subjects"][0]["correct"] == 10


@pytest.mark.django_db(transaction=True)
def test_a_mock_submit_whose_connection_dies_records_nothing_and_can_be_resent(
    user, topic
):
    make_bank(topic, per_subject=5)
    answer_all(start(user, topic, mode=QuizMode.ROUND, round_key="2022-1"), 2)
    mock = start(user, topic, mode=QuizMode.MOCK, per_subject=10)
    queued = OrmQ.objects.count()  # the round's refresh
    holder = _hold_progress_row(user)
    thread, outcome = _in_thread(
        lambda: mock_submit(
            session=QuizSession.objects.get(pk=mock.pk), answers={0: 2, 1: 1}
        )
    )
    # Blocked with the paper's attempts written in its transaction.
    wait_for(lambda: _waiting_on_a_lock() == 1)
    _kill_lock_waiters()
    thread.join(60)
    holder.rollback()
    holder.close()
    assert isinstance(outcome.get("error"), OperationalError)
    mock.refresh_from_db()
    assert mock.status == QuizStatus.ACTIVE
    assert not Attempt.objects.filter(session=mock).exists()
    assert OrmQ.objects.count() == queued  # nor its tasks
    mock_submit(session=mock, answers={0: 2, 1: 1})  # the learner submits again
    mock_submit(session=mock, answers={0: 1})  # and once only
    outcomes = list(
        Attempt.objects.filter(session=mock)
        .order_by("position")
        .values_list("outcome", flat=True)
    )
    assert outcomes[:3] == ["correct", "wrong", "unsure"]
    assert len(outcomes) == mock.size
