"""Candidates, round counts and grades of a question's relations."""

import pytest
from django.utils import timezone

from study.models import EmbeddingStatus, Question, Topic
from study.related.grades import grade_for
from study.related.services import question_related_compute, topic_related_compute
from study.related.thresholds import current_thresholds
from tests.conftest import make_question
from tests.study.related.test_support import (
    REPEATED,
    embed_as,
    near,
    question_at,
    repeated_at,
)


def compute(question):
    question.refresh_from_db()
    question_related_compute(question=question)
    question.refresh_from_db()
    return question


def ids(entries):
    return [entry["id"] for entry in entries]


@pytest.fixture
def hub(topic):
    return repeated_at(topic, 1, year=2020)


def test_candidates_exclude_itself_its_round_roundless_deleted_and_unready(
    topic, hub, other_user
):
    kept = repeated_at(topic, 1, year=2018)
    repeated_at(topic, 2, year=2020)  # its own round
    embed_as(make_question(topic, 3, year=None, session="", **REPEATED), near())
    embed_as(make_question(topic, 4, year=2017, session="", **REPEATED), near())
    gone = repeated_at(topic, 5, year=2016)
    Question.objects.filter(pk=gone.pk).update(deleted_at=timezone.now())
    pending = repeated_at(topic, 6, year=2015)
    Question.objects.filter(pk=pending.pk).update(
        embedding_status=EmbeddingStatus.PENDING
    )
    old_model = repeated_at(topic, 7, year=2014)
    Question.objects.filter(pk=old_model.pk).update(embedding_model="old-embedder")
    elsewhere = Topic.objects.create(name="다른 토픽", owner=other_user)
    repeated_at(elsewhere, 1, year=2019)

    question = compute(hub)

    assert ids(question.related_repeat) == [kept.pk]
    assert ids(question.related_similar) == []
    assert (question.repeat_count, question.round_count) == (1, 2)


def test_a_question_without_relations_has_round_count_zero_not_one(topic, hub):
    question_at(topic, 2, year=2019, vec=near(0.5))  # unrelated
    question = compute(hub)
    assert question.round_count == 0
    assert question.related_grade == ""
    assert question.related_computed_at is not None


def test_round_count_is_distinct_rounds_among_the_question_and_its_relations(
    topic, hub
):
    repeated_at(topic, 1, year=2019, session="1")
    repeated_at(topic, 1, year=2019, session="2")
    repeated_at(topic, 1, year=2018, session="1")
    repeated_at(topic, 2, year=2018, session="1")  # a second one in 2018 1회
    question = compute(hub)
    assert question.repeat_count == 4
    assert question.round_count == 4  # 2020-1, 2019-1, 2019-2, 2018-1


def test_similar_questions_count_towards_the_rounds(topic, hub):
    thresholds = current_thresholds()
    between = (thresholds.repeat + thresholds.similar) / 2
    similar = question_at(topic, 9, year=2017, vec=near(between, private=2))
    flipped = repeated_at(topic, 1, year=2016, stem="재해예방의 4원칙인 것은?")
    question = compute(hub)
    assert set(ids(question.related_similar)) == {similar.pk, flipped.pk}
    assert question.similar_count == 2
    assert question.round_count == 3


def test_a_question_without_a_round_is_compared_with_every_round(topic):
    loose = embed_as(
        make_question(topic, None, year=None, session="", **REPEATED), near()
    )
    repeated_at(topic, 1, year=2019)
    repeated_at(topic, 1, year=2020)
    question = compute(loose)
    assert question.repeat_count == 2
    assert question.round_count == 2


def test_lists_are_best_first_with_round_number_and_stem_preview(topic, hub):
    far = repeated_at(topic, 7, year=2018, vec=near(0.96, private=3))
    close = repeated_at(topic, 5, year=2019, vec=near(0.999, private=4))
    question = compute(hub)
    assert ids(question.related_repeat) == [close.pk, far.pk]
    first = question.related_repeat[0]
    assert first["year"] == 2019 and first["session"] == "1" and first["number"] == 5
    assert first["stem"] == "재해예방의 4원칙이 아닌 것은?"
    assert first["similarity"] == pytest.approx(0.999, abs=1e-3)


@pytest.mark.parametrize(
    ("round_count", "grade"),
    [
        (9, "단골"),
        (7, "단골"),
        (6, "잘 나오는 반복 출제"),
        (5, "잘 나오는 반복 출제"),
        (4, "반복 출제"),
        (3, "반복 출제"),
        (1, ""),
        (0, ""),
    ],
)
def test_grade_follows_the_number_of_rounds(round_count, grade):
    assert (
        grade_for(round_count=round_count, latest_year=2020, recent_floor=2019) == grade
    )


def test_a_question_in_seven_rounds_is_a_regular(topic, hub):
    for year in range(2014, 2020):
        repeated_at(topic, 1, year=year)
    assert compute(hub).related_grade == "단골"


def test_two_rounds_with_a_recent_one_is_new_and_two_old_rounds_frequent(topic):
    question_at(topic, 50, year=2020, vec=near(0.1, private=9))  # latest exam year
    old = repeated_at(topic, 1, year=2016)
    repeated_at(topic, 1, year=2017)
    new = repeated_at(topic, 2, year=2015, vec=near(axis=5))
    repeated_at(topic, 2, year=2019, vec=near(axis=5))
    assert compute(old).round_count == 2
    assert compute(old).related_grade == "빈출"
    assert compute(new).related_grade == "신출"  # 2019: within the last two years


def test_recent_years_are_configurable(topic, settings):
    question_at(topic, 50, year=2020, vec=near(0.1, private=9))
    old = repeated_at(topic, 1, year=2016)
    repeated_at(topic, 1, year=2017)
    settings.RELATED_RECENT_YEARS = 4  # 2017–2020
    assert compute(old).related_grade == "신출"


def test_the_whole_topic_at_once_agrees_with_one_question_at_a_time(topic):
    thresholds = current_thresholds()
    between = (thresholds.repeat + thresholds.similar) / 2
    made = [
        repeated_at(topic, 1, year=2020),
        repeated_at(topic, 1, year=2019, vec=near(0.99, private=2)),
        repeated_at(topic, 2, year=2019, stem="재해예방의 4원칙인 것은?"),
        question_at(topic, 3, year=2018, vec=near(between, private=3)),
        question_at(topic, 4, year=2017, vec=near(0.2, private=4)),
        embed_as(make_question(topic, None, year=None, session=""), near()),
    ]
    one_by_one = {q.pk: _relations(compute(q)) for q in made}
    report = topic_related_compute(topic_id=topic.pk)
    assert report.questions == len(made)
    at_once = {q.pk: _relations(Question.objects.get(pk=q.pk)) for q in made}
    assert at_once == one_by_one


def _relations(question):
    return (
        [(e["id"], round(e["similarity"], 3)) for e in question.related_repeat],
        [(e["id"], round(e["similarity"], 3)) for e in question.related_similar],
        question.round_count,
        question.related_grade,
    )


def test_each_question_keeps_its_nearest_candidates_only(topic, monkeypatch):
    """CANDIDATE_LIMIT: the rules judge a question's nearest candidates above
    the floor, the same ones one question at a time and the whole topic at
    once (a large topic has hundreds above the floor: issue 30)."""
    monkeypatch.setattr("study.related.services.CANDIDATE_LIMIT", 2)
    hub = repeated_at(topic, 1, year=2021)
    others = [
        repeated_at(topic, 1, year=2020 - n, vec=near(0.999 - n * 0.001, private=n + 2))
        for n in range(4)
    ]
    nearest = [others[0].pk, others[1].pk]
    one = compute(hub)
    assert sorted(ids(one.related_repeat)) == sorted(nearest)
    before = {q.pk: _relations(compute(q)) for q in [hub, *others]}
    topic_related_compute(topic_id=topic.pk)
    after = {pk: _relations(Question.objects.get(pk=pk)) for pk in before}
    assert after == before
    assert sorted(ids(Question.objects.get(pk=hub.pk).related_repeat)) == sorted(
        nearest
    )


def test_matches_above_keeps_the_nearest_ties_by_row():
    import numpy as np

    from study.related.vectors import matches_above

    # Row 0's similarities to rows 1–4: 0.95, 0.99, 0.97, 0.99 (each its own
    # round); a limit of 2 keeps rows 2 and 4, a limit of 3 adds row 3.
    sims = {1: 0.95, 2: 0.99, 3: 0.97, 4: 0.99}
    vectors = [[1.0, 0.0, 0.0, 0.0, 0.0]]
    for row, s in sims.items():
        v = [s, 0.0, 0.0, 0.0, 0.0]
        v[row] = (1 - s * s) ** 0.5
        vectors.append(v)
    matrix = np.array(vectors, dtype=np.float32)
    rounds = np.arange(5)
    for limit, kept in ((2, [2, 4]), (3, [2, 3, 4]), (None, [1, 2, 3, 4])):
        first = next(iter(matches_above(matrix, rounds, 0.9, limit=limit)))
        assert first[0] == 0
        assert sorted(j for j, _ in first[1]) == kept, limit
