"""Questions are embedded in the background after create, edit and import."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import OrmQ

from study.imports.services import questions_import
from study.llm.embeddings import embedder_name, get_embedder
from study.models import EmbeddingStatus, Question
from study.related import embeddings as related_embeddings
from study.services.questions import question_create
from study.tasks import (
    question_embed_task,
    questions_embed_overdue,
    questions_embed_task,
)
from tests.study.related.test_support import REPEATED

CSV_HEADER = (
    "Test Name,Year,Session,Subject,Number,Question,Question_image,"
    "Option 1,Option 2,Option 3,Option 4,Answer\n"
)


def queued(func: str) -> list[tuple]:
    tasks = [q.task for q in OrmQ.objects.all()]
    return [task["args"] for task in tasks if task["func"] == func]


def write_csv(path, rows):
    lines = [
        f"산업안전기사,{year},{session},안전관리론,{number},{stem},,가,나,다,라,1\n"
        for year, session, number, stem in rows
    ]
    path.write_text(CSV_HEADER + "".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def unreachable_embedder(settings):
    settings.EMBEDDING_BASE_URL = "http://127.0.0.1:9/v1"  # nothing listens here
    get_embedder.cache_clear()
    yield
    get_embedder.cache_clear()


def test_a_new_question_is_embedded_in_the_background(
    topic, django_capture_on_commit_callbacks
):
    data = {"exam_year": 2020, "exam_session": "1", "number": 1, **REPEATED}
    with django_capture_on_commit_callbacks(execute=True):
        question = question_create(topic=topic, data=data)
    assert question.embedding_status == EmbeddingStatus.PENDING
    assert queued("study.tasks.question_embed_task") == [(question.pk,)]

    assert question_embed_task(question.pk) == EmbeddingStatus.READY

    question.refresh_from_db()
    assert question.embedding_status == EmbeddingStatus.READY
    assert question.embedding_model == embedder_name()
    assert len(question.embedding) == 384 and question.embedded_at is not None
    assert question.related_computed_at is not None


def test_an_import_enqueues_one_task_per_batch_not_per_row(
    topic, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(related_embeddings, "TASK_BATCH", 3)
    rows = [(2020, "1", n, f"문제 {n}번: 다음 중 옳은 것은?") for n in range(1, 8)]
    with django_capture_on_commit_callbacks(execute=True):
        questions_import(topic=topic, paths=[write_csv(tmp_path / "a.csv", rows)])

    batches = [args[0] for args in queued("study.tasks.questions_embed_task")]
    assert [len(batch) for batch in batches] == [3, 3, 1]
    assert queued("study.tasks.question_embed_task") == []
    assert set(Question.objects.values_list("embedding_status", flat=True)) == {
        EmbeddingStatus.PENDING
    }
    assert questions_embed_task(batches[0]) == 3
    ready = Question.objects.filter(embedding_status=EmbeddingStatus.READY)
    assert sorted(ready.values_list("id", flat=True)) == batches[0]
    assert all(q.related_computed_at for q in ready)


def test_a_re_import_embeds_only_changed_questions(
    topic, tmp_path, django_capture_on_commit_callbacks
):
    rows = [(2020, "1", n, f"문제 {n}번: 다음 중 옳은 것은?") for n in range(1, 4)]
    questions_import(topic=topic, paths=[write_csv(tmp_path / "a.csv", rows)])
    OrmQ.objects.all().delete()
    rows[1] = (2020, "1", 2, "문제 2번: 다음 중 옳지 않은 것은?")
    with django_capture_on_commit_callbacks(execute=True):
        questions_import(topic=topic, paths=[write_csv(tmp_path / "b.csv", rows)])
    changed = Question.objects.get(number=2)
    assert queued("study.tasks.questions_embed_task") == [([changed.pk],)]


def test_a_dry_run_enqueues_nothing(
    topic, tmp_path, django_capture_on_commit_callbacks
):
    rows = [(2020, "1", 1, "문제 1번: 다음 중 옳은 것은?")]
    with django_capture_on_commit_callbacks(execute=True):
        questions_import(
            topic=topic, paths=[write_csv(tmp_path / "a.csv", rows)], dry_run=True
        )
    assert OrmQ.objects.count() == 0


def test_an_unreachable_embedder_marks_the_question_failed(topic, unreachable_embedder):
    question = Question.objects.create(
        topic=topic, embedding_status=EmbeddingStatus.PENDING, **REPEATED
    )
    assert question_embed_task(question.pk) == EmbeddingStatus.FAILED
    question.refresh_from_db()
    assert question.embedding_status == EmbeddingStatus.FAILED
    assert question.embedding is None


def test_an_embedding_of_text_edited_meanwhile_is_dropped(topic, monkeypatch):
    question = Question.objects.create(
        topic=topic, embedding_status=EmbeddingStatus.PENDING, **REPEATED
    )
    real = get_embedder()

    class EditedWhileEmbedding:
        name = real.name

        def embed_passages(self, texts):
            Question.objects.filter(pk=question.pk).update(stem="고쳐진 문제")
            return real.embed_passages(texts)

    monkeypatch.setattr(related_embeddings, "get_embedder", EditedWhileEmbedding)
    assert question_embed_task(question.pk) == "outdated"
    question.refresh_from_db()
    assert question.embedding_status == EmbeddingStatus.PENDING


def test_pending_questions_whose_task_was_lost_are_embedded_later(topic):
    lost = Question.objects.create(
        topic=topic, embedding_status=EmbeddingStatus.PENDING, **REPEATED
    )
    recent = Question.objects.create(
        topic=topic, embedding_status=EmbeddingStatus.PENDING, **REPEATED
    )
    Question.objects.filter(pk=lost.pk).update(
        updated_at=timezone.now() - timedelta(minutes=30)
    )
    assert questions_embed_overdue() == 1
    statuses = dict(Question.objects.values_list("id", "embedding_status"))
    assert statuses == {
        lost.pk: EmbeddingStatus.READY,
        recent.pk: EmbeddingStatus.PENDING,
    }
