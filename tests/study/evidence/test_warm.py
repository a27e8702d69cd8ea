"""근거 카드 computed ahead: every change that makes a topic's cards missing or
stale enqueues the topic's run on commit, a new session enqueues its own
questions'; the run computes what is missing or stale and nothing else, one
run per topic at a time, and a run that reaches its budget hands the rest to
the next."""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django_q.models import OrmQ

from study.db.locks import WORK_NAMESPACE
from study.documents.services import act_versions_refresh, document_remove_from_topic
from study.evidence import selectors as sel
from study.evidence import services
from study.evidence.services import (
    cards_lock_name,
    evidence_card_get,
    topic_cards_warm,
)
from study.llm.gate import own_connection
from study.models import EvidenceCard, Question, QuizMode
from study.related.refresh import related_refresh
from study.related.services import topic_related_compute
from study.services.questions import question_update
from study.tasks import session_cards_compute_task, topic_cards_compute_task
from tests.conftest import make_document, make_question
from tests.study.documents.test_versions import V2015, V2020, load
from tests.study.evidence.test_cards import BOILER, CALCULATION, LADDER, STATUTE
from tests.study.imports.test_import_questions import HEADER, row, write
from tests.study.learner_helpers import start
from tests.study.related.test_support import repeated_at

TOPIC_TASK = "study.tasks.topic_cards_compute_task"
SESSION_TASK = "study.tasks.session_cards_compute_task"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def queued() -> list[tuple[str, tuple]]:
    """The card tasks in django-q's queue (the ORM broker the tests use)."""
    tasks = [(q.task["func"], tuple(q.task["args"])) for q in OrmQ.objects.all()]
    return sorted(t for t in tasks if t[0] in (TOPIC_TASK, SESSION_TASK))


def clear_queue() -> None:
    OrmQ.objects.all().delete()


@contextmanager
def locked_elsewhere(topic_id: int) -> Iterator[None]:
    """The topic's lock held by another session, as a run in another worker."""
    conn = own_connection(application_name="gichul-test-holder")
    key = [WORK_NAMESPACE, cards_lock_name(topic_id)]
    try:
        conn.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", key)
        yield
        # Released here, not by closing: a closed connection's backend lets
        # go of its locks when it exits, which a loaded machine delays past
        # the next statement (a run right after found the lock still taken).
        conn.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", key)
    finally:
        conn.close()


def lock_free(topic_id: int) -> bool:
    conn = own_connection(application_name="gichul-test-probe")
    key = [WORK_NAMESPACE, cards_lock_name(topic_id)]
    try:
        row = conn.execute(
            "SELECT pg_try_advisory_lock(%s, hashtext(%s))", key
        ).fetchone()
        free = bool(row and row[0])
        if free:  # let go at once (see locked_elsewhere)
            conn.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", key)
        return free
    finally:
        conn.close()


def computed_at(question: Question) -> datetime.datetime:
    return EvidenceCard.objects.get(question=question).computed_at


@pytest.fixture
def statute(user, topic):
    return make_document(user, topic, STATUTE, title="시험안전규칙")


@pytest.fixture
def bank(topic, statute) -> list[Question]:
    return [
        make_question(topic, 1, correct_choice=1, **LADDER),
        make_question(topic, 2, correct_choice=3, **BOILER),
        make_question(topic, 3, **CALCULATION),
    ]


# -- what enqueues ------------------------------------------------------------------


def test_an_import_that_writes_enqueues_the_topic_and_a_dry_run_does_not(
    user, topic, tmp_path, django_capture_on_commit_callbacks
):
    path = write(tmp_path, "bank.csv", [HEADER, row(1), row(2)])
    args = [str(path), "--topic", topic.name, "--owner", user.username]
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_questions", *args, "--dry-run", verbosity=0)
    assert queued() == []
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_questions", *args, verbosity=0)
    assert queued() == [(TOPIC_TASK, (topic.pk,))]
    clear_queue()
    with django_capture_on_commit_callbacks(execute=True):  # nothing changed
        call_command("import_questions", *args, verbosity=0)
    assert queued() == []


def test_a_document_ready_or_removed_enqueues_its_topics(
    user, topic, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        document = make_document(user, topic, STATUTE, title="시험안전규칙")
    assert queued() == [(TOPIC_TASK, (topic.pk,))]
    clear_queue()
    with django_capture_on_commit_callbacks(execute=True):
        document_remove_from_topic(document=document, topic=topic)
    assert queued() == [(TOPIC_TASK, (topic.pk,))]


def test_a_change_of_the_version_in_force_enqueues_and_makes_the_cards_stale(
    user, topic, django_capture_on_commit_callbacks
):
    v2015, v2020 = load(user, topic, V2015, V2020)
    question = make_question(topic, 1, stem="압력방출장치는 몇 년마다 점검하는가?")
    evidence_card_get(question=question)
    assert sel.questions_cards_due(topic_id=topic.pk) == []
    clear_queue()
    act = v2020.act_key
    with django_capture_on_commit_callbacks(execute=True):  # nothing moved
        act_versions_refresh(owner_id=user.pk, act_key=act)
    assert queued() == []
    with django_capture_on_commit_callbacks(execute=True):  # back in 2016
        act_versions_refresh(
            owner_id=user.pk, act_key=act, today=datetime.date(2016, 1, 1)
        )
    assert queued() == [(TOPIC_TASK, (topic.pk,))]
    # The card read the 2020 version; the search now reads the 2015 one.
    assert sel.questions_cards_due(topic_id=topic.pk) == [question.pk]


def test_relations_recomputed_enqueue_their_topic(
    topic, django_capture_on_commit_callbacks
):
    first = repeated_at(topic, 1, year=2020)
    repeated_at(topic, 1, year=2019)
    with django_capture_on_commit_callbacks(execute=True):
        topic_related_compute(topic_id=topic.pk)
    assert queued() == [(TOPIC_TASK, (topic.pk,))]
    clear_queue()
    with django_capture_on_commit_callbacks(execute=True):  # nothing due
        related_refresh()
    assert queued() == []
    Question.objects.filter(pk=first.pk).update(related_computed_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        related_refresh()
    assert queued() == [(TOPIC_TASK, (topic.pk,))]


def test_a_session_start_enqueues_and_computes_its_own_questions(
    user, topic, bank, django_capture_on_commit_callbacks
):
    elsewhere = make_question(topic, 1, year=2019, **CALCULATION)
    with django_capture_on_commit_callbacks(execute=True):
        session = start(user, topic, mode=QuizMode.ROUND, round_key="2020-1")
    assert queued() == [(SESSION_TASK, (session.pk,))]
    assert sorted(session.question_ids) == [q.pk for q in bank]
    evidence_card_get(question=bank[0])  # fresh already: left as it is
    before = computed_at(bank[0])
    assert session_cards_compute_task(session.pk) == 2
    assert computed_at(bank[0]) == before
    assert sel.questions_cards_due(topic_id=topic.pk) == [elsewhere.pk]


# -- the run ---------------------------------------------------------------------


def test_the_run_computes_missing_and_stale_cards_and_leaves_fresh_ones(
    topic, bank, statute
):
    fresh, stale, missing = bank
    evidence_card_get(question=fresh)
    evidence_card_get(question=stale)
    question_update(question=stale, data={"correct_choice": 4})  # a new key
    kept, replaced = computed_at(fresh), computed_at(stale)
    assert sel.questions_cards_due(topic_id=topic.pk) == [stale.pk, missing.pk]
    assert topic_cards_compute_task(topic.pk) == 2
    assert computed_at(fresh) == kept and computed_at(stale) != replaced
    assert EvidenceCard.objects.filter(question=missing).exists()
    assert sel.questions_cards_due(topic_id=topic.pk) == []
    assert sel.evidence_card_for(stale) is not None  # the page's cached path
    assert topic_cards_compute_task(topic.pk) == 0  # nothing left to do


def test_an_upgrade_of_the_check_enqueues_the_topics_whose_cards_it_outdated(
    topic, bank, django_capture_on_commit_callbacks
):
    from django.utils import timezone
    from django_q.models import Schedule

    from study.schedules import ensure_schedules
    from study.tasks import evidence_cards_outdated

    assert topic_cards_compute_task(topic.pk) == 3
    with django_capture_on_commit_callbacks(execute=True):
        assert evidence_cards_outdated() == 0  # every card of this version
    assert queued() == []
    # A card made by the version before this one (read from its data, as
    # an upgraded app finds every card it has).
    card = EvidenceCard.objects.get(question=bank[1])
    EvidenceCard.objects.filter(pk=card.pk).update(
        data={**card.data, "version": "0"}, passages_stamp="made by version 0"
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert evidence_cards_outdated() == 1
    assert queued() == [(TOPIC_TASK, (topic.pk,))]
    assert sel.questions_cards_due(topic_id=topic.pk) == [bank[1].pk]
    assert topic_cards_compute_task(topic.pk) == 1
    clear_queue()
    with django_capture_on_commit_callbacks(execute=True):
        assert evidence_cards_outdated() == 0
    assert queued() == []
    # A deleted question's old card: its topic's run would not remake it.
    card = EvidenceCard.objects.get(question=bank[2])
    EvidenceCard.objects.filter(pk=card.pk).update(
        data={**card.data, "version": "0"}, passages_stamp="made by version 0"
    )
    Question.objects.filter(pk=bank[2].pk).update(deleted_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert evidence_cards_outdated() == 0
    assert queued() == []
    # Checked hourly, and right after every migrate (when an upgrade lands).
    Schedule.objects.filter(name="study.evidence_cards_outdated").update(
        next_run=timezone.now() + datetime.timedelta(hours=1)
    )
    ensure_schedules()
    schedule = Schedule.objects.get(name="study.evidence_cards_outdated")
    assert schedule.func == "study.tasks.evidence_cards_outdated"
    assert schedule.minutes == 60 and schedule.next_run <= timezone.now()


def test_listing_due_cards_reads_no_field_it_did_not_load(
    topic, bank, django_assert_num_queries
):
    # The questions are loaded with the stamps' fields only: a stamp that
    # read another field would cost a query per question here.
    assert topic_cards_compute_task(topic.pk) == 3
    question_update(question=bank[0], data={"correct_choice": 2})
    with django_assert_num_queries(3):  # questions, cards, documents' stamp
        assert sel.questions_cards_due(topic_id=topic.pk) == [bank[0].pk]


def test_a_second_run_at_the_same_time_skips(topic, bank):
    with locked_elsewhere(topic.pk):
        report = topic_cards_warm(topic=topic)
        assert report.skipped and report.computed == 0
        assert EvidenceCard.objects.count() == 0
    assert queued() == []  # the running one does the work, not a new run
    report = topic_cards_warm(topic=topic)
    assert not report.skipped and report.computed == 3
    assert lock_free(topic.pk)


def test_a_run_out_of_budget_enqueues_the_next_which_finishes(
    topic, bank, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services, "BATCH", 1)
    free_when_enqueued = []
    real = services.async_task

    def async_task(func: str, *args: object) -> object:
        free_when_enqueued.append(lock_free(topic.pk))
        return real(func, *args)

    monkeypatch.setattr(services, "async_task", async_task)
    # A clock that moves one second each time it is read: the first batch
    # takes a second, and a second batch would end past a 1.5 s budget.
    with django_capture_on_commit_callbacks(execute=True):
        report = topic_cards_warm(
            topic=topic, budget_s=1.5, clock=itertools.count().__next__
        )
    assert (report.computed, report.continued) == (1, True)
    assert queued() == [(TOPIC_TASK, (topic.pk,))]
    assert free_when_enqueued == [True]  # else the next run would skip
    assert len(sel.questions_cards_due(topic_id=topic.pk)) == 2
    clear_queue()
    report = topic_cards_warm(topic=topic, clock=itertools.count().__next__)
    assert (report.computed, report.continued) == (2, False)
    assert sel.questions_cards_due(topic_id=topic.pk) == []
    assert queued() == []


def test_changes_during_every_pass_leave_the_rest_to_the_next_run(
    topic, bank, monkeypatch, django_capture_on_commit_callbacks
):
    # Statutes uploaded one after another: each makes the cards stale again
    # while the run computes them, and each trigger's run skips for its lock.
    fresh, stale, missing = bank
    real = services.evidence_cards_get
    keys = itertools.cycle([2, 3, 4, 1])

    def get_then_change(*, questions):
        cards = real(questions=questions)
        question_update(question=stale, data={"correct_choice": next(keys)})
        return cards

    monkeypatch.setattr(services, "evidence_cards_get", get_then_change)
    with django_capture_on_commit_callbacks(execute=True):
        report = topic_cards_warm(topic=topic)
    assert report.continued and lock_free(topic.pk)
    assert queued() == [(TOPIC_TASK, (topic.pk,))]  # not left stale until a view
    monkeypatch.setattr(services, "evidence_cards_get", real)
    clear_queue()
    report = topic_cards_warm(topic=topic)
    assert not report.continued and sel.questions_cards_due(topic_id=topic.pk) == []
