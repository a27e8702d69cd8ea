"""A topic's cells and paper are cached under its bank version, which the
database renews with every change they read, from any entry point."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from study.models import ExamSpec, Question, Topic
from study.selectors.exam_spec import exam_paper_for_topic, subject_cells, topic_bank
from study.services.questions import question_soft_delete
from tests.conftest import make_question
from tests.study.learner_helpers import make_bank

pytestmark = pytest.mark.django_db


def bank_version(topic: Topic) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT bank_version FROM study_topic WHERE id = %s", [topic.pk])
        return str(cursor.fetchone()[0])


def test_every_change_the_cells_read_renews_the_version(topic):
    seen = [bank_version(topic)]

    def renewed() -> bool:
        now = bank_version(topic)
        fresh = now not in seen
        seen.append(now)
        return fresh

    question = make_question(topic, 1)
    assert renewed()  # insert
    Question.objects.bulk_create(
        [
            Question(
                topic=topic,
                exam_year=2021,
                exam_session="1",
                number=n,
                subject="안전관리론",
                stem=f"문제 {n}",
                choice_1="가",
                choice_2="나",
                choice_3="다",
                choice_4="라",
                correct_choice=1,
            )
            for n in (1, 2)
        ]
    )
    assert renewed()  # a bulk insert, once
    for change in (
        {"subject": "인간공학"},
        {"exam_year": 2019},
        {"exam_session": "2"},
        {"number": 7},
        {"numbered_by_subject": True},
        {"needs_figure": True},
        {"figure": "figures/q.png"},
    ):
        Question.objects.filter(pk=question.pk).update(**change)
        assert renewed(), change
    question_soft_delete(question=question)
    assert renewed()  # deleted_at
    Question.objects.filter(topic=topic, exam_year=2021).delete()
    assert renewed()  # delete


def test_changes_the_cells_do_not_read_keep_the_version(topic):
    question = make_question(topic, 1)
    before = bank_version(topic)
    Question.objects.filter(pk=question.pk).update(
        stem="고친 문제", round_count=3, ai_explanation="해설"
    )
    question.refresh_from_db()
    question.save()  # every column written, none changed
    assert bank_version(topic) == before


def test_a_moved_question_renews_both_topics(topic, user):
    other = Topic.objects.create(name="건설안전기사", owner=user)
    question = make_question(topic, 1)
    versions = bank_version(topic), bank_version(other)
    Question.objects.filter(pk=question.pk).update(topic=other)
    assert bank_version(topic) != versions[0]
    assert bank_version(other) != versions[1]


def test_a_stale_topic_saved_keeps_the_new_version(topic):
    stale = Topic.objects.get(pk=topic.pk)
    make_question(topic, 1)
    renewed = bank_version(topic)
    stale.description = "설명"
    stale.save()
    assert bank_version(topic) == renewed


def test_a_rolled_back_change_leaves_the_version_as_it_was(topic):
    make_bank(topic, per_subject=2)
    before = bank_version(topic)
    paper = exam_paper_for_topic(topic=topic)
    with pytest.raises(RuntimeError), transaction.atomic():
        Question.objects.filter(topic=topic).update(subject="다른 과목")
        assert exam_paper_for_topic(topic=topic).subjects == ("다른 과목",)
        raise RuntimeError
    assert bank_version(topic) == before
    assert exam_paper_for_topic(topic=topic) == paper


def test_the_cached_paper_follows_the_bank(topic):
    make_bank(topic, subjects=2, per_subject=2)
    first = topic_bank(topic=topic)
    assert len(first.paper.subjects) == 2
    assert first.cells == tuple(subject_cells(topic=topic))
    # the same version: one query (the version and the spec), no pass
    with CaptureQueriesContext(connection) as ctx:
        assert topic_bank(topic=topic) == first
    assert len(ctx.captured_queries) == 1
    # a third subject on every round is on the paper at once
    for year in (2022, 2023):
        for number in (5, 6):
            make_question(topic, number, year=year, subject="기계위험방지기술")
    again = topic_bank(topic=topic)
    assert "기계위험방지기술" in again.paper.subjects
    assert again.cells == tuple(subject_cells(topic=topic))
    # a figure now needed leaves a question out of the quizzable count
    question = Question.objects.filter(topic=topic).first()
    Question.objects.filter(pk=question.pk).update(needs_figure=True, figure="")
    counted = sum(c.quizzable for c in topic_bank(topic=topic).cells)
    assert counted == Question.objects.filter(topic=topic).count() - 1


def test_the_owners_spec_is_read_on_every_call(topic):
    make_bank(topic, subjects=2, per_subject=2)
    derived = exam_paper_for_topic(topic=topic)
    assert not derived.is_set
    spec = ExamSpec.objects.create(
        topic=topic, subjects=list(derived.subjects[:1]), questions_per_subject=10
    )
    paper = exam_paper_for_topic(topic=topic)
    assert paper.is_set and paper.subjects == derived.subjects[:1]
    assert paper.old_subjects == derived.subjects[1:]
    spec.questions_per_subject = 15
    spec.save()
    assert exam_paper_for_topic(topic=topic).per_subject == 15


def test_a_topic_deleted_meanwhile_reads_as_an_empty_bank(topic):
    make_bank(topic, subjects=1, per_subject=2)
    stale = Topic.objects.get(pk=topic.pk)
    Topic.objects.filter(pk=topic.pk).delete()
    bank = topic_bank(topic=stale)
    assert bank.cells == () and bank.paper.subjects == ()
