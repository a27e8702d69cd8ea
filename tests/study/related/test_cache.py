"""The cached relations: one SELECT on a hit, invalidation, the refresh cron."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_q.models import OrmQ, Schedule

from study.models import EmbeddingStatus, Question
from study.related.embeddings import question_embed
from study.related.refresh import related_refresh
from study.related.selectors import question_get_for_related
from study.related.services import (
    question_related_compute,
    question_related_view,
    topic_related_compute,
)
from study.related.thresholds import current_thresholds
from study.schedules import ensure_schedules
from study.services.questions import (
    question_restore,
    question_soft_delete,
    question_update,
)
from study.tasks import related_refresh as related_refresh_task
from tests.study.related.test_support import near, question_at, repeated_at


@pytest.fixture
def pair(topic):
    first = repeated_at(topic, 1, year=2020)
    second = repeated_at(topic, 1, year=2019)
    topic_related_compute(topic_id=topic.pk)
    first.refresh_from_db()
    second.refresh_from_db()
    return first, second


def queued_tasks() -> list[str]:
    funcs = [queued.task["func"] for queued in OrmQ.objects.all()]
    return [func for func in funcs if func.startswith("study.")]


def is_due(question) -> bool:
    return Question.objects.get(pk=question.pk).related_computed_at is None


def test_a_cache_hit_answers_with_one_select(django_assert_num_queries, user, pair):
    first, _ = pair
    with django_assert_num_queries(1):
        question = question_get_for_related(user=user, question_id=first.pk)
        view = question_related_view(question=question)
    assert (view.repeat_count, view.round_count) == (1, 2)
    assert [item.round for item in view.repeat] == ["2019년 1회"]


def test_a_miss_is_computed_stored_and_then_served_from_the_cache(
    django_assert_num_queries, user, topic
):
    first = repeated_at(topic, 1, year=2020)
    repeated_at(topic, 1, year=2019)
    question = question_get_for_related(user=user, question_id=first.pk)
    assert question_related_view(question=question).repeat_count == 1
    assert not is_due(first)
    with django_assert_num_queries(1):
        question = question_get_for_related(user=user, question_id=first.pk)
        assert question_related_view(question=question).repeat_count == 1


def test_the_endpoint_reads_the_question_table_once_on_a_hit(client, user, pair):
    client.force_login(user)
    url = reverse("study:related_types", args=[pair[0].pk])
    client.get(url)  # warm the session
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.json()["repeat_count"] == 1
    reads = [q["sql"] for q in ctx.captured_queries if "study_question" in q["sql"]]
    assert len(reads) == 1 and reads[0].lstrip().startswith("SELECT")


def test_editing_the_text_re_embeds_and_invalidates_the_topic(
    django_capture_on_commit_callbacks, pair
):
    first, second = pair
    with django_capture_on_commit_callbacks(execute=True):
        question_update(question=first, data={"stem": "재해예방의 5원칙이 아닌 것은?"})
    first.refresh_from_db()
    assert first.embedding_status == EmbeddingStatus.PENDING
    assert is_due(first) and is_due(second)
    assert queued_tasks() == ["study.tasks.question_embed_task"]


def test_moving_a_question_to_another_round_invalidates_without_re_embedding(
    django_capture_on_commit_callbacks, pair
):
    first, second = pair
    with django_capture_on_commit_callbacks(execute=True):
        question_update(question=first, data={"exam_session": "2"})
    first.refresh_from_db()
    assert first.embedding_status == EmbeddingStatus.READY
    assert is_due(first) and is_due(second)
    assert queued_tasks() == []


def test_editing_the_explanation_keeps_the_cache(pair):
    first, second = pair
    question_update(question=first, data={"explanation": "해설을 고쳤습니다."})
    assert not is_due(first) and not is_due(second)


def test_soft_delete_invalidates_the_topic_and_the_refresh_drops_it(pair):
    first, second = pair
    question_soft_delete(question=second)
    assert is_due(first)
    related_refresh()
    first.refresh_from_db()
    assert first.related_repeat == [] and first.round_count == 0
    question_restore(question=second)
    assert is_due(first)
    related_refresh()
    first.refresh_from_db()
    assert first.repeat_count == 1


def test_a_new_embedding_computes_its_relations_and_invalidates_the_rest(topic):
    """Real embedder: the same question text in two rounds becomes a REPEAT."""
    old = repeated_at(topic, 1, year=2019, vec=None)
    bystander = question_at(topic, 2, year=2018, vec=near(0.3, private=5))
    Question.objects.filter(pk=old.pk).update(embedding_status=EmbeddingStatus.PENDING)
    assert question_embed(question_id=old.pk) == EmbeddingStatus.READY
    new = repeated_at(topic, 1, year=2020, vec=None)
    Question.objects.filter(pk=new.pk).update(embedding_status=EmbeddingStatus.PENDING)
    topic_related_compute(topic_id=topic.pk)

    assert question_embed(question_id=new.pk) == EmbeddingStatus.READY

    new.refresh_from_db()
    assert new.embedding_model == current_thresholds().model
    assert [e["id"] for e in new.related_repeat] == [old.pk]
    assert not is_due(new)
    assert is_due(old) and is_due(bystander)


def test_the_refresh_recomputes_invalidated_questions_in_batches(topic, settings):
    made = [repeated_at(topic, n, year=2000 + n % 20) for n in range(1, 26)]
    assert all(is_due(q) for q in made)
    assert related_refresh() == 20
    assert related_refresh() == 5
    assert related_refresh() == 0
    assert not any(is_due(q) for q in made)
    Question.objects.update(related_computed_at=None)
    settings.RELATED_REFRESH_BATCH = 10
    assert related_refresh_task() == 10


def test_the_refresh_skips_deleted_and_unembedded_questions(topic):
    gone = repeated_at(topic, 1, year=2019)
    question_soft_delete(question=gone)
    pending = repeated_at(topic, 2, year=2018)
    Question.objects.filter(pk=pending.pk).update(
        embedding_status=EmbeddingStatus.PENDING
    )
    assert related_refresh() == 0


def test_a_threshold_change_bumps_the_version_and_everything_is_recomputed(
    topic, settings
):
    first = repeated_at(topic, 1, year=2020)
    second = repeated_at(topic, 1, year=2019, vec=near(0.99, private=2))
    topic_related_compute(topic_id=topic.pk)
    old_version = current_thresholds().version
    assert Question.objects.get(pk=first.pk).repeat_count == 1

    # 0.99 apart is now below every threshold: no longer even a candidate.
    settings.RELATED_THRESHOLDS = {current_thresholds().model: (0.999, 0.995)}
    assert current_thresholds().version != old_version
    assert related_refresh(batch=100) == 2

    for question in (first, second):
        question.refresh_from_db()
        assert question.related_threshold_version == current_thresholds().version
        assert (question.repeat_count, question.similar_count) == (0, 0)


def test_an_outdated_version_is_a_cache_miss(topic, settings, user):
    first = repeated_at(topic, 1, year=2020)
    repeated_at(topic, 1, year=2019, vec=near(0.99, private=2))
    question_related_compute(question=first)
    assert question_related_view(question=first).repeat_count == 1
    settings.RELATED_THRESHOLDS = {current_thresholds().model: (0.999, 0.995)}
    question = question_get_for_related(user=user, question_id=first.pk)
    view = question_related_view(question=question)
    assert (view.repeat_count, view.similar_count) == (0, 0)


def test_migrate_declares_the_every_minute_refresh(db):
    ensure_schedules()
    schedule = Schedule.objects.get(name="study.related_refresh")
    assert schedule.func == "study.tasks.related_refresh"
    assert schedule.schedule_type == Schedule.MINUTES and schedule.minutes == 1
    assert Schedule.objects.filter(func="study.tasks.questions_embed_overdue").exists()
