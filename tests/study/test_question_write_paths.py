"""Every way to change a question has the same side effects (issue 14, item 1).

One question is edited, soft deleted and restored through each entry point
that offers the operation: the services, the question form, the admin change
form (its delete button too), the admin actions and the importer. Each time
the outcome is the same: `updated_at` moves, a ready explanation turns stale
when the answer's text changes, re-embedding is queued, the topic's cached
relations are invalidated, and the outbox gets the event.
"""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_q.models import OrmQ

from publishing.models import EventKind, OutboxEvent
from study.models import AIExplanationStatus, EmbeddingStatus, Question
from study.services.questions import (
    question_restore,
    question_soft_delete,
    question_update,
)
from tests.conftest import make_question

NEW_STEM = "고친 문제: 다음 중 옳은 것은?"
EMBED_TASKS = {"study.tasks.question_embed_task", "study.tasks.questions_embed_task"}


@pytest.fixture
def world(settings, topic, staff_user):
    """A published topic; a question with a ready explanation and embedding whose
    relations are cached, and a neighbour whose cache must be invalidated too."""
    settings.STUDY_PUBLISH_ENABLED = True
    topic.is_shared = topic.is_published = True
    topic.save(update_fields=["is_shared", "is_published"])
    question = make_question(topic, 1)
    neighbour = make_question(topic, 2)
    long_ago = timezone.now() - timedelta(days=1)
    Question.objects.filter(topic=topic).update(
        embedding_status=EmbeddingStatus.READY,
        related_computed_at=long_ago,
        updated_at=long_ago,
    )
    Question.objects.filter(pk=question.pk).update(
        ai_explanation="정답은 2번입니다.",
        ai_explanation_status=AIExplanationStatus.READY,
        ai_explanation_model="local-model",
        ai_explanation_generated_at=long_ago,
    )
    question.refresh_from_db()
    return question, neighbour, long_ago


# Entry points, each a function (client, question, tmp_path) -> None.


def service_edit(client, question, tmp_path):
    question_update(question=question, data={"stem": NEW_STEM})


def service_delete(client, question, tmp_path):
    question_soft_delete(question=question)


def service_restore(client, question, tmp_path):
    question_restore(question=question)


def form_edit(client, question, tmp_path):
    client.force_login(question.topic.owner)
    data = {
        "exam_name": question.exam_name,
        "exam_year": question.exam_year,
        "exam_session": question.exam_session,
        "number": question.number,
        "subject": question.subject,
        "scope": question.scope,
        "stem": NEW_STEM,
        **{f"choice_{i}": c for i, c in enumerate(question.choices, start=1)},
        "correct_choice": question.correct_choice,
        "accepted_choices": question.accepted_choices,
        "explanation": question.explanation,
    }
    response = client.post(reverse("study:question_edit", args=[question.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]


def form_delete(client, question, tmp_path):
    client.force_login(question.topic.owner)
    response = client.post(reverse("study:question_delete", args=[question.pk]))
    assert response.status_code == 302


def _admin_form(question, **overrides) -> dict:
    data = {
        "topic": question.topic_id,
        "exam_name": question.exam_name,
        "exam_year": question.exam_year,
        "exam_session": question.exam_session,
        "number": question.number,
        "subject": question.subject,
        "scope": question.scope,
        "stem": question.stem,
        **{f"choice_{i}": c for i, c in enumerate(question.choices, start=1)},
        "correct_choice": question.correct_choice,
        "accepted_choices": question.accepted_choices,
        "explanation": question.explanation,
        "ai_explanation_status": question.ai_explanation_status,
        "ai_explanation": question.ai_explanation,
        "ai_explanation_model": question.ai_explanation_model,
        "deleted_at_0": "",
        "deleted_at_1": "",
    }
    if question.deleted_at:
        local = timezone.localtime(question.deleted_at)
        data["deleted_at_0"] = local.strftime("%Y-%m-%d")
        data["deleted_at_1"] = local.strftime("%H:%M:%S")
    data.update(overrides)
    return data


def _admin_post(client, url, data):
    client.force_login(_staff())
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]


def _staff():
    return get_user_model().objects.get(username="staff")


def admin_form_edit(client, question, tmp_path):
    url = reverse("admin:study_question_change", args=[question.pk])
    _admin_post(client, url, _admin_form(question, stem=NEW_STEM))


def admin_form_delete(client, question, tmp_path):
    now = timezone.localtime()
    url = reverse("admin:study_question_change", args=[question.pk])
    form = _admin_form(
        question,
        deleted_at_0=now.strftime("%Y-%m-%d"),
        deleted_at_1=now.strftime("%H:%M:%S"),
    )
    _admin_post(client, url, form)


def admin_form_restore(client, question, tmp_path):
    url = reverse("admin:study_question_change", args=[question.pk])
    _admin_post(client, url, _admin_form(question, deleted_at_0="", deleted_at_1=""))


def admin_delete_button(client, question, tmp_path):
    url = reverse("admin:study_question_delete", args=[question.pk])
    _admin_post(client, url, {"post": "yes"})


def _admin_action(client, question, action):
    url = reverse("admin:study_question_changelist")
    _admin_post(client, url, {"action": action, "_selected_action": [question.pk]})


def admin_action_delete(client, question, tmp_path):
    _admin_action(client, question, "soft_delete")


def admin_action_restore(client, question, tmp_path):
    _admin_action(client, question, "restore")


def importer_edit(client, question, tmp_path):
    header = "Test Name,Year,Session,Subject,Number,Question,Question_image,"
    header += "Option 1,Option 2,Option 3,Option 4,Answer"
    row = ",".join(
        [
            question.exam_name,
            str(question.exam_year),
            question.exam_session,
            question.subject,
            str(question.number),
            NEW_STEM,
            "",
            *question.choices,
            str(question.correct_choice),
        ]
    )
    path = tmp_path / "bank.csv"
    path.write_text(f"{header}\n{row}\n", encoding="utf-8")
    call_command("import_questions", str(path), "--topic", question.topic.name)


PATHS = {
    "edit": [service_edit, form_edit, admin_form_edit, importer_edit],
    "delete": [
        service_delete,
        form_delete,
        admin_form_delete,
        admin_delete_button,
        admin_action_delete,
    ],
    "restore": [service_restore, admin_form_restore, admin_action_restore],
}
CASES = [(op, path) for op, paths in PATHS.items() for path in paths]


def queued_embeddings(question_id: int) -> bool:
    for queued in OrmQ.objects.all():
        task = queued.task
        if task["func"] in EMBED_TASKS:
            argument = task["args"][0]
            ids = argument if isinstance(argument, list) else [argument]
            if question_id in ids:
                return True
    return False


@pytest.mark.parametrize(
    ("operation", "path"), CASES, ids=[f"{op}-{p.__name__}" for op, p in CASES]
)
def test_every_entry_point_has_the_same_side_effects(
    operation, path, world, client, tmp_path, django_capture_on_commit_callbacks
):
    question, neighbour, long_ago = world
    if operation == "restore":
        question_soft_delete(question=question)
        Question.objects.filter(topic=question.topic).update(
            related_computed_at=long_ago, updated_at=long_ago
        )
    OutboxEvent.objects.all().delete()
    OrmQ.objects.all().delete()

    with django_capture_on_commit_callbacks(execute=True):
        path(client, question, tmp_path)

    question.refresh_from_db()
    neighbour.refresh_from_db()
    assert question.updated_at > long_ago
    # The topic's cached relations are due again, this question's and the rest.
    assert question.related_computed_at is None
    assert neighbour.related_computed_at is None
    events = list(OutboxEvent.objects.filter(aggregate_id=question.pk).order_by("seq"))
    kinds = [event.kind for event in events]
    if operation == "edit":
        assert question.stem == NEW_STEM
        assert question.deleted_at is None
        assert question.ai_explanation_status == AIExplanationStatus.STALE
        assert question.ai_explanation == "정답은 2번입니다."  # kept, marked stale
        assert question.embedding_status == EmbeddingStatus.PENDING
        assert queued_embeddings(question.pk)
        assert kinds == [EventKind.QUESTION, EventKind.EXPLANATION_TOMBSTONE]
        assert events[0].snapshot["stem"] == NEW_STEM
    elif operation == "delete":
        assert question.deleted_at is not None
        assert question.ai_explanation_status == AIExplanationStatus.READY
        assert kinds == [
            EventKind.EXPLANATION_TOMBSTONE,
            EventKind.QUESTION_TOMBSTONE,
        ]
    else:
        assert question.deleted_at is None
        assert kinds == [EventKind.QUESTION, EventKind.EXPLANATION]
    if operation != "edit":
        assert question.stem != NEW_STEM
        assert not queued_embeddings(question.pk)
    # Nothing else changed: the neighbour keeps its content and stays alive.
    assert neighbour.deleted_at is None
    assert Question.objects.filter(pk=neighbour.pk, stem=neighbour.stem).exists()


def test_admin_offers_no_bulk_hard_delete(client, staff_user, question):
    client.force_login(staff_user)
    page = client.get(reverse("admin:study_question_changelist")).content.decode()
    assert 'value="soft_delete"' in page
    assert 'value="delete_selected"' not in page
    url = reverse("admin:study_question_changelist")
    client.post(url, {"action": "delete_selected", "_selected_action": [question.pk]})
    client.post(
        url,
        {"action": "delete_selected", "_selected_action": [question.pk], "post": "yes"},
    )
    assert Question.objects.filter(pk=question.pk, deleted_at__isnull=True).exists()
