"""Each write path writes the right outbox events, in the content's transaction."""

import io
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.urls import reverse
from django_q.models import OrmQ

from publishing.models import EventKind, OutboxEvent
from publishing.services import (
    TransactionRequired,
    publish_explanation_ready,
    publish_explanation_stale,
    publish_question,
)
from study.imports.services import questions_import
from study.models import AIExplanationStatus, Question
from study.services.questions import (
    question_restore,
    question_soft_delete,
    question_update,
)
from tests.publishing.helpers import (
    create,
    events_of,
    in_transaction,
    kinds,
    make_ready,
    question_data,
)

Q, E = EventKind.QUESTION, EventKind.EXPLANATION
QT, ET = EventKind.QUESTION_TOMBSTONE, EventKind.EXPLANATION_TOMBSTONE


def test_it_publishes_a_created_question_with_its_full_snapshot(publishing_on, topic):
    question = create(topic, 7, accepted_choices="1,3")

    [event] = events_of(question)
    assert (event.kind, event.seq, event.delivered_at) == (Q, 1, None)
    snapshot = event.snapshot
    assert snapshot["id"] == question.pk
    assert (snapshot["topic_id"], snapshot["topic_name"]) == (topic.pk, topic.name)
    assert snapshot["exam_name"] == "산업안전기사"
    assert (snapshot["exam_year"], snapshot["exam_session"]) == (2021, "2")
    assert (snapshot["number"], snapshot["round_label"]) == (7, "2021년 2회")
    assert (snapshot["subject"], snapshot["scope"]) == ("안전관리론", "재해")
    assert snapshot["stem"] == "문제 7: 옳은 것은?"
    assert snapshot["choices"] == ["일", "이", "삼", "사"]
    assert snapshot["correct_choice"] == 3
    assert snapshot["accepted_choices"] == [1, 3]
    assert snapshot["explanation"] == "사람이 쓴 해설"
    assert snapshot["updated_at"] == question.updated_at.isoformat()
    assert "ai_explanation" not in snapshot


def test_it_reprojects_an_update_without_the_explanation_when_not_ready(
    publishing_on, topic
):
    question = create(topic, 1)
    question_update(question=question, data={"subject": "인간공학"})

    events = events_of(question)
    assert kinds(events) == [Q, Q]
    assert [e.seq for e in events] == [1, 2]
    assert events[1].snapshot["subject"] == "인간공학"


def test_it_reprojects_an_update_with_a_ready_explanation(publishing_on, topic):
    question = create(topic, 1)
    make_ready(question, "정답은 **3**")
    question_update(question=question, data={"scope": "보호구"})

    events = events_of(question)
    assert kinds(events) == [Q, Q, E]
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[2].snapshot == {
        "question_id": question.pk,
        "text": "정답은 **3**",
        "model": "local-model",
        "generated_at": question.ai_explanation_generated_at.isoformat(),
    }


def test_an_edit_that_turns_the_explanation_stale_withdraws_it(publishing_on, topic):
    question = create(topic, 1)
    make_ready(question)
    question_update(question=question, data={"correct_choice": 2})

    assert question.ai_explanation_status == AIExplanationStatus.STALE
    assert kinds(events_of(question)) == [Q, Q, ET]
    assert events_of(question)[2].snapshot == {"question_id": question.pk}


def test_an_edit_that_changes_nothing_publishes_nothing(publishing_on, topic):
    question = create(topic, 1)
    question_update(question=question, data=question_data(1))
    assert kinds(events_of(question)) == [Q]


def test_soft_delete_without_explanation_text_tombstones_the_question(
    publishing_on, topic
):
    question = create(topic, 1)
    question_soft_delete(question=question)
    question_soft_delete(question=question)  # already deleted: nothing more

    events = events_of(question)
    assert kinds(events) == [Q, QT]
    assert events[1].snapshot == {
        "id": question.pk,
        "deleted_at": question.deleted_at.isoformat(),
    }


def test_soft_delete_with_explanation_text_tombstones_both(publishing_on, topic):
    question = create(topic, 1)
    make_ready(question)
    question_update(question=question, data={"stem": "바뀐 문제"})  # now stale
    question_soft_delete(question=question)

    assert kinds(events_of(question)) == [Q, Q, ET, ET, QT]


def test_restore_publishes_the_question_again(publishing_on, topic):
    question = create(topic, 1)
    make_ready(question)
    question_soft_delete(question=question)
    question_restore(question=question)

    assert kinds(events_of(question)) == [Q, ET, QT, Q, E]


def test_explanation_ready_publishes_question_and_explanation(publishing_on, topic):
    question = create(topic, 1)
    with transaction.atomic():
        make_ready(question, "새 해설")
        events = publish_explanation_ready(question=question)

    assert kinds(events) == [Q, E]
    assert [e.seq for e in events] == [2, 3]
    assert events[1].snapshot["text"] == "새 해설"


def test_explanation_stale_tombstones_the_explanation(publishing_on, topic):
    question = create(topic, 1)
    make_ready(question)
    events = in_transaction(publish_explanation_stale, question=question)

    assert kinds(events) == [ET]
    assert events[0].seq == 2


def test_a_deleted_question_published_as_ready_still_goes_out_as_tombstones(
    publishing_on, topic
):
    question = create(topic, 1)
    question_soft_delete(question=question)
    make_ready(question)
    events = in_transaction(publish_explanation_ready, question=question)
    assert kinds(events) == [ET, QT]


def test_nothing_is_enqueued_with_the_flag_off(settings, topic):
    settings.STUDY_PUBLISH_ENABLED = False
    question = create(topic, 1)
    question_update(question=question, data={"stem": "바뀜"})
    make_ready(question)
    with transaction.atomic():
        assert publish_explanation_ready(question=question) == []
        assert publish_explanation_stale(question=question) == []
    question_soft_delete(question=question)
    question_restore(question=question)

    assert not OutboxEvent.objects.exists()
    assert not OrmQ.objects.exists()


def test_a_failed_content_transaction_leaves_no_event(
    publishing_on, topic, django_capture_on_commit_callbacks
):
    question = create(topic, 1)
    before = OutboxEvent.objects.count()

    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        question_update(question=question, data={"stem": "저장되지 않을 문제"})
        create(topic, 2)
        raise RuntimeError("boom after the content change")

    assert OutboxEvent.objects.count() == before
    assert Question.objects.get(pk=question.pk).stem != "저장되지 않을 문제"
    assert callbacks == []


def test_commit_wakes_the_relay_through_django_q(
    publishing_on, topic, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        create(topic, 1)

    # Creating a question also queues its embedding; exactly one relay wake-up.
    funcs = [queued.task["func"] for queued in OrmQ.objects.all()]
    assert funcs.count("publishing.tasks.relay_outbox") == 1


def test_the_relay_schedule_is_declared_once_by_the_migration(db):
    from importlib import import_module

    from django.apps import apps
    from django_q.models import Schedule

    migration = import_module("publishing.migrations.0002_relay_schedule")
    migration.schedule_relay(apps, None)
    migration.schedule_relay(apps, None)

    [schedule] = Schedule.objects.filter(name="publishing.relay_outbox")
    assert schedule.func == "publishing.tasks.relay_outbox"
    assert (schedule.schedule_type, schedule.minutes) == (Schedule.MINUTES, 1)
    assert schedule.repeats == -1


def test_the_importer_publishes_created_and_updated_rows_in_bulk(
    publishing_on, topic, tmp_path, django_assert_max_num_queries
):
    header = "Test Name,Year,Session,Subject,Number,Question,Question_image,"
    header += "Option 1,Option 2,Option 3,Option 4,Answer"
    rows = [
        f"산업안전기사,2020,3,안전관리론,{n},문제 {n}?,,가,나,다,라,2"
        for n in (1, 2, 3)
    ]
    first = tmp_path / "a.csv"
    first.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")

    dry = questions_import(topic=topic, paths=[first], dry_run=True)
    assert dry.imported == 3
    assert not OutboxEvent.objects.exists()

    # + the topic's subject aliases and the names and numbering it holds, and
    # the bank's numbers in the upload's rounds (the streaming importer reads
    # them apart from each batch's matches)
    with django_assert_max_num_queries(15):
        questions_import(topic=topic, paths=[first])
    assert OutboxEvent.objects.filter(kind=Q).count() == 3
    assert set(OutboxEvent.objects.values_list("seq", flat=True)) == {1}

    rows[1] = rows[1].replace("문제 2?", "고친 문제 2?")
    second = tmp_path / "b.csv"
    second.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    report = questions_import(topic=topic, paths=[second])

    assert (report.updated, report.unchanged) == (1, 2)
    [update] = OutboxEvent.objects.filter(seq=2)
    assert update.snapshot["stem"] == "고친 문제 2?"


def test_admin_edits_deletes_and_restores_publish(
    publishing_on, client, staff_user, topic
):
    question = create(topic, 1)
    client.force_login(staff_user)
    change_url = reverse("admin:study_question_change", args=[question.pk])
    form = {
        "topic": topic.pk,
        **question_data(1, stem="관리자가 고친 문제"),
        "ai_explanation_status": "none",
        "ai_explanation": "",
        "ai_explanation_model": "",
        "round_count": 0,
    }
    response = client.post(change_url, form)
    assert response.status_code == 302, response.content.decode()[:2000]

    changelist = reverse("admin:study_question_changelist")
    client.post(
        changelist, {"action": "soft_delete", "_selected_action": [question.pk]}
    )
    client.post(changelist, {"action": "restore", "_selected_action": [question.pk]})

    events = events_of(question)
    assert kinds(events) == [Q, Q, QT, Q]
    assert events[1].snapshot["stem"] == "관리자가 고친 문제"


def test_republish_sends_the_current_state_of_a_topic(publishing_on, topic):
    alive = create(topic, 1)
    ready = create(topic, 2)
    make_ready(ready)
    gone = create(topic, 3)
    question_soft_delete(question=gone)
    OutboxEvent.objects.all().delete()

    out = io.StringIO()
    call_command("republish", "--topic", topic.name, stdout=out)

    assert "questions=3 events=4" in out.getvalue()

    assert kinds(events_of(alive)) == [Q]
    assert kinds(events_of(ready)) == [Q, E]
    assert kinds(events_of(gone)) == [QT]
    assert [e.seq for e in events_of(ready)] == [2, 3]  # after the first event


def test_republish_refuses_with_the_flag_off_or_an_unknown_topic(publishing_on, topic):
    with pytest.raises(CommandError):
        call_command("republish", "--topic", "없는 토픽")
    publishing_on.STUDY_PUBLISH_ENABLED = False
    with pytest.raises(CommandError):
        call_command("republish", "--topic", topic.name)


@pytest.mark.django_db(transaction=True)
def test_publishing_outside_a_transaction_is_refused(publishing_on, topic):
    question = Question.objects.create(
        topic=topic,
        **{k: v for k, v in question_data(1).items() if k != "accepted_choices"},
    )
    with pytest.raises(TransactionRequired):
        publish_question(question=question)
    assert not OutboxEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_publishers_get_distinct_consecutive_sequence_numbers(
    publishing_on, topic
):
    question = Question.objects.create(topic=topic, **question_data(1))
    start = threading.Barrier(6)
    errors = []

    def publish_five_times():
        try:
            start.wait()
            for _ in range(5):
                in_transaction(publish_question, question=question)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=publish_five_times) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert [e.seq for e in events_of(question)] == list(range(1, 31))
