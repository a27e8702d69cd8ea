from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_q.models import OrmQ

from study.models import Document, DocumentStatus, Question


def test_admin_lists_and_filters_questions(client, staff_user, topic, question):
    client.force_login(staff_user)
    url = reverse("admin:study_question_changelist")
    for query in (
        "",
        "?q=옳은",
        f"?topic__id__exact={topic.pk}",
        "?exam_year=2020",
        "?exam_session=1",
        "?subject=안전관리론",
        "?ai_explanation_status=none",
        "?deleted=no",
    ):
        response = client.get(url + query)
        assert response.status_code == 200, query
        assert question.stem[:20] in response.content.decode(), query
    assert (
        client.get(reverse("admin:study_topic_changelist") + "?q=산업").status_code
        == 200
    )


def test_admin_soft_delete_and_restore_actions(client, staff_user, question):
    client.force_login(staff_user)
    url = reverse("admin:study_question_changelist")
    client.post(url, {"action": "soft_delete", "_selected_action": [question.pk]})
    assert Question.objects.get(pk=question.pk).deleted_at is not None
    client.post(url, {"action": "restore", "_selected_action": [question.pk]})
    assert Question.objects.get(pk=question.pk).deleted_at is None


def test_learners_cannot_open_admin(client, user):
    client.force_login(user)
    response = client.get(reverse("admin:study_question_changelist"))
    assert response.status_code == 302


def test_admin_document_edits_go_through_the_service(
    client, staff_user, user, topic, django_capture_on_commit_callbacks
):
    """A new file or title is processed again (its chunks came from the old one);
    other edits leave a ready document alone."""
    document = Document.objects.create(
        owner=user,
        title="노트",
        file=SimpleUploadedFile("note.txt", "옛 내용".encode()),
        file_kind="text",
        text="옛 내용",
        status=DocumentStatus.READY,
    )
    document.topics.set([topic])
    client.force_login(staff_user)
    url = reverse("admin:study_document_change", args=[document.pk])

    def post(**changes):
        data = {
            "owner": user.pk,
            "topics": [topic.pk],
            "title": document.title,
            "material_type": document.material_type,
            "jurisdiction": "",
            "year": "",
            "summary": "",
            "chunks-TOTAL_FORMS": 0,
            "chunks-INITIAL_FORMS": 0,
            "chunks-MIN_NUM_FORMS": 0,
            "chunks-MAX_NUM_FORMS": 0,
            **changes,
        }
        OrmQ.objects.all().delete()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url, data)
        assert response.status_code == 302, response.content.decode()[:3000]
        document.refresh_from_db()
        return [q.task["func"] for q in OrmQ.objects.all()]

    assert post(summary="요약을 고쳤습니다.") == []
    assert (document.status, document.text) == (DocumentStatus.READY, "옛 내용")

    new_file = SimpleUploadedFile("new.md", "# 새 내용".encode())
    assert post(file=new_file) == ["study.tasks.document_ingest_task"]
    assert (document.status, document.text) == (DocumentStatus.PENDING, "")
    assert document.file_kind == "markdown"
    assert document.file.read().decode() == "# 새 내용"

    Document.objects.filter(pk=document.pk).update(status=DocumentStatus.READY)
    assert post(title="새 제목") == ["study.tasks.document_ingest_task"]
    assert (document.title, document.status) == ("새 제목", DocumentStatus.PENDING)
