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


@pytest.mark.django_db
def test_recent_sessions_count_their_own_right_answers(user, topic):
    """The topic page's 최근 풀이: each of the five latest finished sessions
    with its own right answers (0 when none), older sessions left out."""
    from study.models import Attempt, QuizMode, QuizSession, QuizStage, QuizStatus
    from study.selectors.results import sessions_for_topic

    questions = make_bank(topic, rounds=(("2022", "1"),), subjects=1, per_subject=2)
    now = timezone.now()
    made = []
    for n in range(7):
        session = QuizSession.objects.create(
            user=user,
            topic=topic,
            mode=QuizMode.STAGE,
            stage=QuizStage.PRE_EXAM,
            question_ids=[q.pk for q in questions],
            answered_count=2,
            status=QuizStatus.FINISHED,
            finished_at=now - timezone.timedelta(minutes=10 - n),
        )
        for position, q in enumerate(questions):
            right = position < n % 3  # 0, 1 or 2 right answers
            Attempt.objects.create(
                user=user,
                session=session,
                question=q,
                position=position,
                outcome="correct" if right else "wrong",
                selected_choice=q.correct_choice if right else 5 - q.correct_choice,
            )
        made.append((session.pk, n % 3))
    active, recent = sessions_for_topic(user=user, topic=topic)
    assert active == []
    assert [(s.pk, s.correct) for s in recent] == list(reversed(made))[:5]
