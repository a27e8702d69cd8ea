"""Which questions an export holds: a topic, one of its rounds, or a
learner's review queue (one of its tabs)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import QuerySet

from study import rounds
from study.models import Question, Topic
from study.selectors import review_queue as rq


def topic_questions_for_export(*, topic: Topic, round_key: str = "") -> QuerySet:
    """Alive questions of the topic (of one round when given), in round order.
    Raises ValueError for a round key that is no round."""
    questions = Question.objects.alive().filter(topic=topic)
    if round_key:
        year, session = rounds.round_key_parse(round_key)
        questions = questions.filter(exam_year=year, exam_session=session)
    return questions.in_round_order()


def review_questions_for_export(
    *, user: User, topic: Topic, tab: str
) -> list[Question]:
    """The questions of a review-queue tab, in the tab's order."""
    rows = rq.review_tab_queryset(user=user, topic=topic, tab=tab).select_related(
        "question"
    )
    return [row.question for row in rows]
