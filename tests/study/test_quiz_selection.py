"""Stage buckets, rounds, spaced subjects, mock papers, what is never picked."""

import random

import pytest

from study.exam_rules import STAGE_RATIOS, quotas
from study.models import Question, QuestionProgress, QuizMode
from study.selectors.quiz_selection import NotEnoughQuestions, select_for_stage
from tests.study.learner_helpers import answer_all, make_bank, start


def test_quotas_follow_the_seed_ratios_and_sum_to_size():
    assert quotas(STAGE_RATIOS["intro"], 20) == {
        "unattempted": 11,
        "wrong_or_unsure": 6,
        "frequent": 3,
    }
    assert quotas(STAGE_RATIOS["pre_exam"], 20) == {
        "due_review": 4,
        "wrong_or_unsure": 6,
        "regressed": 2,
        "frequent": 4,
        "random": 4,
    }
    for stage, ratios in STAGE_RATIOS.items():
        for size in range(5, 101):
            assert sum(quotas(ratios, size).values()) == size, (stage, size)


def test_intro_takes_unattempted_wrong_and_frequent_in_proportion(user, topic):
    bank = make_bank(topic, per_subject=10)  # 60 questions
    # Both picks seeded (SQL sampling included), so the outcome is fixed.
    first = start(user, topic, size=20, rng=random.Random(0))
    wrong_ids = set(first.question_ids[:8])
    answer_all(first, lambda pos, qid: 1 if qid in wrong_ids else 2)
    frequent = [q.pk for q in bank if q.pk not in first.question_ids][:5]
    Question.objects.filter(pk__in=frequent).update(round_count=3)
    ids = select_for_stage(
        user=user, topic=topic, stage="intro", size=20, rng=random.Random(1)
    )
    assert len(ids) == len(set(ids)) == 20
    assert len(wrong_ids & set(ids)) == 6
    # Frequent questions are unattempted too, so the first bucket may take some.
    assert len(set(frequent) & set(ids)) >= 3
    seen = set(first.question_ids)
    assert len([i for i in ids if i not in seen]) == 14  # 11 unattempted + 3 frequent


def test_short_buckets_are_backfilled_at_random(user, topic):
    make_bank(topic, per_subject=4)  # 24 questions, no progress, no frequent
    ids = select_for_stage(user=user, topic=topic, stage="pre_exam", size=20)
    assert len(set(ids)) == 20


def test_too_small_a_bank_gives_a_clear_error(user, topic):
    make_bank(topic, rounds=(("2022", "1"),), subjects=1, per_subject=4)
    with pytest.raises(NotEnoughQuestions, match="문제가 부족합니다"):
        start(user, topic, size=5)


def test_figure_and_deleted_questions_are_never_selected(user, topic):
    bank = make_bank(topic, per_subject=4)
    Question.objects.filter(pk=bank[0].pk).update(needs_figure=True)
    Question.objects.filter(pk=bank[1].pk).update(deleted_at="2026-01-01T00:00Z")
    for stage in STAGE_RATIOS:
        ids = select_for_stage(user=user, topic=topic, stage=stage, size=22)
        assert bank[0].pk not in ids and bank[1].pk not in ids
    with pytest.raises(NotEnoughQuestions):
        select_for_stage(user=user, topic=topic, stage="intro", size=23)


def test_round_mode_serves_the_round_in_exam_order(user, topic):
    make_bank(topic)
    session = start(user, topic, mode=QuizMode.ROUND, round_key="2023-1")
    numbers = list(
        Question.objects.filter(pk__in=session.question_ids).values_list(
            "number", flat=True
        )
    )
    ordered = [Question.objects.get(pk=i).number for i in session.question_ids]
    assert ordered == sorted(numbers) == list(range(1, 16))


def test_subject_mode_skips_questions_seen_in_the_last_day(user, topic):
    make_bank(topic, per_subject=5)  # 과목1: 10 questions over two rounds
    first = start(user, topic, mode=QuizMode.SUBJECT, subjects=("과목1",), size=5)
    answer_all(first, 2)
    second = start(user, topic, mode=QuizMode.SUBJECT, subjects=("과목1",), size=5)
    assert not set(first.question_ids) & set(second.question_ids)
    assert {Question.objects.get(pk=i).subject for i in second.question_ids} == {
        "과목1"
    }
    answer_all(second, 2)
    # Nothing fresh is left: recently seen questions are used rather than failing.
    third = start(user, topic, mode=QuizMode.SUBJECT, subjects=("과목1",), size=5)
    assert len(third.question_ids) == 5


def test_mock_exam_is_composed_per_subject(user, topic):
    make_bank(topic, per_subject=5)
    session = start(user, topic, mode=QuizMode.MOCK, per_subject=4)
    subjects = [Question.objects.get(pk=i).subject for i in session.question_ids]
    assert subjects == ["과목1"] * 4 + ["과목2"] * 4 + ["과목3"] * 4
    with pytest.raises(NotEnoughQuestions):
        start(user, topic, mode=QuizMode.MOCK, per_subject=11)


def test_learning_stage_prefers_due_reviews(user, topic):
    make_bank(topic, per_subject=10)
    first = start(user, topic, size=10)
    answer_all(first, 1)  # all wrong
    QuestionProgress.objects.filter(user=user).update(due_at="2020-01-01T00:00Z")
    ids = select_for_stage(user=user, topic=topic, stage="learning", size=20)
    assert len(set(first.question_ids) & set(ids)) == 10  # due 4 + wrong 8 capped at 10


def test_a_seeded_rng_makes_sql_sampling_reproducible(user, topic):
    make_bank(topic, per_subject=20)  # 120 questions, sampled in SQL
    picks = [
        select_for_stage(
            user=user, topic=topic, stage="pre_exam", size=20, rng=random.Random(3)
        )
        for _ in range(3)
    ]
    assert picks[0] == picks[1] == picks[2]
    other = select_for_stage(
        user=user, topic=topic, stage="pre_exam", size=20, rng=random.Random(4)
    )
    assert other != picks[0]
