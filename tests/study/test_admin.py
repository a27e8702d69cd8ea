from django.urls import reverse

from study.models import Question


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
