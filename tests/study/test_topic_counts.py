"""The home page's question count per topic: live questions only, counted on
the partial index of live questions (issue 30: one subquery per topic, not a
join of every question of every topic)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from study.models import Topic
from study.selectors.topics import topics_for_user
from tests.study.learner_helpers import make_bank


@pytest.mark.django_db
def test_each_topic_counts_its_live_questions(client, user, topic):
    questions = make_bank(topic, rounds=(("2022", "1"),), subjects=1, per_subject=3)
    questions[0].deleted_at = timezone.now()
    questions[0].save(update_fields=["deleted_at"])
    empty = Topic.objects.create(name="빈 토픽", owner=user)
    counts = {t.pk: t.question_count for t in topics_for_user(user=user)}
    assert counts == {topic.pk: 2, empty.pk: 0}
    client.force_login(user)
    page = client.get(reverse("study:home")).content.decode()
    assert "2문제" in page and "0문제" in page
