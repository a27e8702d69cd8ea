"""A quiz start and the topic page read their rows from indexes alone.

At full scale (a learner with 20,000 answers, a 7,000-question topic) a quiz
start's review buckets read 1,200-6,000 heap pages for the progress rows'
question ids, the topic page's count of what a quiz may show read the
topic's 1,100 question pages, and its latest sessions gathered and sorted
the learner's 1,000 finished ones. Each index below carries the columns its
statement needs; these tests keep the statements on them.
"""

from __future__ import annotations

import random

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from study.models import QuestionProgress, QuizSession, QuizStatus
from study.selectors.exam_spec import subject_cells
from study.selectors.quiz_selection import select_for_stage
from study.selectors.results import sessions_for_topic
from tests.study.learner_helpers import answer_all, make_bank, start

# VACUUM runs outside a transaction
pytestmark = pytest.mark.django_db(transaction=True)


def _plans(run) -> str:
    """The EXPLAIN text of every SELECT `run` executes on vacuumed tables (all
    visible, as a settled bank's are), with sequential and bitmap scans
    priced out as on tables too large for them."""
    with CaptureQueriesContext(connection) as ctx:
        run()
    statements = [
        q["sql"] for q in ctx.captured_queries if "SELECT" in q["sql"][:40].upper()
    ]
    plans = []
    with connection.cursor() as cursor:
        cursor.execute(
            "VACUUM ANALYZE study_question, study_questionprogress, study_quizsession"
        )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        for statement in statements:
            if "setseed" in statement:
                continue
            cursor.execute(f"EXPLAIN {statement}")
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return "\n\n".join(plans)


@pytest.fixture
def learner_with_reviews(user, topic):
    make_bank(topic, per_subject=10)
    session = start(user, topic, size=20, rng=random.Random(0))
    answer_all(session, lambda pos, qid: 1 if pos % 2 else 2)
    rows = QuestionProgress.objects.filter(user=user, topic=topic)
    # due now, as a review scheduled after these answers would be
    rows.filter(pk__in=rows.values("pk")[:6]).update(due_at=timezone.now())
    assert rows.filter(last_outcome__in=("wrong", "unsure")).exists()
    return user, topic


def test_a_quiz_start_samples_due_and_wrong_rows_from_their_indexes(
    learner_with_reviews,
):
    user, topic = learner_with_reviews
    plans = _plans(
        lambda: select_for_stage(
            user=user, topic=topic, stage="pre_exam", size=20, rng=random.Random(3)
        )
    )
    assert "Index Only Scan using study_prog_due on study_questionprogress" in plans
    assert (
        "Index Only Scan using study_prog_not_correct on study_questionprogress"
        in plans
    )


def test_the_topic_pages_cells_count_quizzable_questions_from_the_index(
    learner_with_reviews,
):
    _user, topic = learner_with_reviews
    plans = _plans(lambda: subject_cells(topic=topic))
    assert "Index Only Scan using study_q_topic_cells on study_question" in plans


def test_the_topic_pages_latest_sessions_are_read_in_order_from_their_index(
    learner_with_reviews,
):
    user, topic = learner_with_reviews
    assert (
        QuizSession.objects.filter(user=user, topic=topic)
        .exclude(status=QuizStatus.ACTIVE)
        .exists()
    )
    plans = _plans(lambda: sessions_for_topic(user=user, topic=topic))
    assert "Index Scan using study_quiz_finished_by_topic on study_quizsession" in plans
