"""The pass forecast's mathematics, checked against brute force and py-fsrs."""

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from fsrs import Card, Rating, Scheduler

from study.forecast import memory, model, retention

SEOUL = ZoneInfo("Asia/Seoul")


def brute_force_count(ps):
    out = np.zeros(len(ps) + 1)
    for bits in itertools.product([0, 1], repeat=len(ps)):
        prob = 1.0
        for b, p in zip(bits, ps, strict=True):
            prob *= p if b else 1 - p
        out[sum(bits)] += prob
    return out


def test_poisson_binomial_matches_enumeration():
    ps = [0.1, 0.25, 0.5, 0.9, 0.99, 0.3, 0.7]
    assert np.allclose(model.poisson_binomial(ps), brute_force_count(ps))
    assert model.poisson_binomial([]).tolist() == [1.0]


def brute_force_pass(dists):
    total = 0.0
    for ks in itertools.product(*[range(len(d)) for d in dists]):
        scores = [100 * k / (len(d) - 1) for k, d in zip(ks, dists, strict=True)]
        if min(scores) >= 40 and sum(scores) / len(scores) >= 60:
            total += np.prod([d[k] for k, d in zip(ks, dists, strict=True)])
    return total


@pytest.mark.parametrize(
    "slots",
    [
        [[0.6] * 5, [0.7] * 5, [0.5] * 5],
        [[0.9, 0.2, 0.5, 0.6], [0.3] * 5, [0.8, 0.8, 0.7]],  # unequal counts
        [[0.45] * 10, [0.95] * 10],
    ],
)
def test_pass_probability_matches_enumeration_of_the_40_60_rule(slots):
    dists = [model.poisson_binomial(s) for s in slots]
    assert model.pass_probability(dists) == pytest.approx(brute_force_pass(dists))


def test_the_pass_rule_is_exact_at_the_boundaries():
    def certain(k, n):
        d = np.zeros(n + 1)
        d[k] = 1.0
        return d

    # 40 and 80 → mean 60: pass. 35 and 85 → 과락: fail. 40 and 75: mean 57.5.
    assert model.pass_probability([certain(8, 20), certain(16, 20)]) == 1.0
    assert model.pass_probability([certain(7, 20), certain(17, 20)]) == 0.0
    assert model.pass_probability([certain(8, 20), certain(15, 20)]) == 0.0


def test_retrievability_is_py_fsrs_forgetting_curve():
    scheduler = Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)
    at = datetime(2026, 3, 1, tzinfo=UTC)
    card, _ = scheduler.review_card(Card(card_id=1), Rating.Good, review_datetime=at)
    for days in (1, 3, 30, 200):  # py-fsrs counts whole days
        later = at + timedelta(days=days)
        ours = model.retrievability(card.stability, days)
        assert ours == pytest.approx(scheduler.get_card_retrievability(card, later))


def test_replay_gives_py_fsrs_memory_state():
    at = datetime(2026, 3, 1, 12, tzinfo=UTC)
    answers = [(at, False), (at + timedelta(days=1), True), (at + timedelta(4), True)]
    state = memory.replay(answers)
    scheduler = Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)
    card = Card(card_id=1)
    for when, ok in answers:
        card, _ = scheduler.review_card(
            card, Rating.Good if ok else Rating.Again, review_datetime=when
        )
    assert state.stability == pytest.approx(card.stability)
    assert state.last_review_day == pytest.approx(memory.day_number(answers[-1][0]))
    assert memory.replay([]) is None


def test_a_drawn_paper_has_the_weighted_mean_in_every_slot():
    p = np.array([0.25, 0.5, 0.9, 1.0, 0.3])
    w = np.array([1.0, 3.0, 1.0, 2.0, 1.5])
    slots = model.paper_probabilities(p, w, 20)
    assert slots == pytest.approx(np.full(20, (p * w).sum() / w.sum()))
    assert (
        model.paper_probabilities(np.array([]), np.array([]), 4).tolist() == [0.25] * 4
    )


def subject(name, rows, c=0.0, n=0, questions=20):
    return model.SubjectInput.build(name, questions, rows, c, n)


def test_an_unstudied_subject_uses_the_prior_then_the_learners_accuracy():
    unseen = [(1.0, None, None)] * 30
    fresh = model.forecast([subject("A", unseen)], exam_day=100)
    assert fresh.subjects[0].unseen_accuracy == pytest.approx(model.PRIOR_MEAN)
    strong = model.forecast([subject("A", unseen, c=90, n=100)], exam_day=100)
    assert strong.subjects[0].unseen_accuracy > 0.8
    hopeless = model.forecast([subject("A", unseen, c=0, n=100)], exam_day=100)
    assert hopeless.subjects[0].unseen_accuracy == model.GUESS  # the floor
    # Not zero: the model may be off for this learner (the shift's wide prior)
    # until a mock says it is not.
    assert hopeless.pass_probability < 0.05 < fresh.pass_probability
    assert strong.pass_probability > 0.9


def test_memory_fades_towards_the_exam_and_the_forecast_says_so():
    studied = [(1.0, 0.5, 0.0)] * 40  # learnt on day 0, stability half a day
    subjects = [subject(s, studied, c=5, n=40) for s in "ABC"]
    near, far = (model.forecast(subjects, exam_day=d) for d in (1, 120))
    assert near.pass_probability > 0.9 > 0.5 > far.pass_probability
    # The mean of the draws; a rare draw far off (the shift's wide prior) may
    # put it just outside the 80% interval when nearly every draw passes.
    assert near.low <= near.high and near.high >= near.pass_probability - 1e-3
    curve = model.pass_curve(subjects, days=[1, 10, 40, 120])
    assert curve == sorted(curve, reverse=True)


def test_recurring_questions_weigh_more_and_the_weakest_subject_is_at_risk():
    # Subject B: the learner knows the one-offs but not the 단골 questions.
    rows_b = [(model.recurrence_weight(1), 1000.0, 99.0)] * 10 + [
        (model.recurrence_weight(8), None, None)
    ] * 10
    rows_a = [(1.0, 1000.0, 99.0)] * 20
    result = model.forecast(
        [subject("A", rows_a, c=2, n=20), subject("B", rows_b, c=2, n=20)],
        exam_day=100,
    )
    a, b = result.subjects
    assert b.expected_score < 70 < a.expected_score
    assert result.most_at_risk.name == "B"
    assert model.recurrence_weight(8) > model.recurrence_weight(3) > 1.0


def test_the_forecast_is_deterministic():
    rows = [(1.0, 3.0, 0.0)] * 10 + [(1.0, None, None)] * 10
    subjects = [subject("A", rows, c=5, n=10), subject("B", rows, c=7, n=12)]
    one = model.forecast(subjects, exam_day=20)
    two = model.forecast(subjects, exam_day=20)
    assert (one.pass_probability, one.low, one.high) == (
        two.pass_probability,
        two.low,
        two.high,
    )


def test_retention_rises_as_the_exam_nears():
    assert retention.exam_retention(0.9, None) == 0.9
    assert retention.exam_retention(0.9, 90) == 0.9
    assert retention.exam_retention(0.9, 60) == 0.9
    middle = retention.exam_retention(0.9, 33.5)
    assert 0.9 < middle < 0.95
    assert retention.exam_retention(0.9, 7) == 0.95
    assert retention.exam_retention(0.9, 1) == 0.95
    assert retention.exam_retention(0.97, 3) == 0.97  # a higher own setting wins
    assert retention.exam_retention(0.9, -2) == 0.9  # after the exam: back to own


def test_no_review_is_planned_after_the_exam():
    exam = date(2026, 3, 8)
    at = datetime(2026, 3, 1, 12, tzinfo=SEOUL)
    after = datetime(2026, 3, 20, tzinfo=SEOUL)
    before = datetime(2026, 3, 4, tzinfo=SEOUL)
    eve = datetime(2026, 3, 7, tzinfo=SEOUL)
    cap = retention.cap_due
    assert cap(after, reviewed_at=at, exam_date=exam, tz=SEOUL) == eve
    assert cap(before, reviewed_at=at, exam_date=exam, tz=SEOUL) == before
    assert cap(after, reviewed_at=at, exam_date=None, tz=SEOUL) == after
    # Reviewed on the eve itself, or after the exam: plain FSRS.
    late = datetime(2026, 3, 7, 20, tzinfo=SEOUL)
    assert cap(after, reviewed_at=late, exam_date=exam, tz=SEOUL) == after
    past = datetime(2026, 3, 9, tzinfo=SEOUL)
    assert cap(after, reviewed_at=past, exam_date=exam, tz=SEOUL) == after


def test_the_learners_memory_factor_is_learnt_from_their_repeat_answers():
    rng = np.random.default_rng(3)
    stability = rng.uniform(0.5, 20, 400)
    elapsed = rng.uniform(1, 30, 400)
    for true_factor in (0.4, 2.5):
        r = model.retrievability(stability * true_factor, elapsed)
        correct = rng.random(400) < r + (1 - r) * 0.2
        evidence = model.MemoryEvidence(stability, elapsed, correct, guess=0.2)
        weights = model.memory_posterior(evidence)
        estimate = float(np.exp((np.log(model.MEMORY_GRID) * weights).sum()))
        assert estimate == pytest.approx(true_factor, rel=0.35)
    prior = model.memory_posterior(None)
    assert model.MEMORY_GRID[prior.argmax()] == pytest.approx(1.0)
    assert model.guess_rate(wrong=0, unsure=0) == 0.25
    assert model.guess_rate(wrong=30, unsure=0) == 0.25  # always guesses
    assert model.guess_rate(wrong=0, unsure=30) == 0.0  # never guesses


def test_keeping_the_pace_raises_the_forecast_for_a_far_exam():
    rows = [(1.0, 20.0, 0.0)] * 10 + [(1.0, None, None)] * 30
    idle = model.SubjectInput.build("A", 20, rows, 3, 10, pace=0.0)
    busy = model.SubjectInput.build("A", 20, rows, 3, 10, pace=2.0)
    kwargs = {"exam_day": 30.0, "today": 0.0}
    p_idle = model.forecast([idle], **kwargs).subjects[0].expected_score
    p_busy = model.forecast([busy], **kwargs).subjects[0].expected_score
    assert p_busy > p_idle + 10


def test_the_fast_path_gives_the_same_paper_as_the_per_question_model():
    rng = np.random.default_rng(7)
    rows = [
        (
            float(rng.choice([1.0, 1.5, 3.0])),
            float(rng.uniform(0.2, 40)) if rng.random() < 0.5 else None,
            float(rng.uniform(-20, 0)),
        )
        for _ in range(80)
    ]
    rows = [(w, s, d if s is not None else None) for w, s, d in rows]
    sub = model.SubjectInput.build("A", 20, rows, 10, 30, pace=1.5)
    for today, factor, accuracy in ((0.0, 1.0, 0.5), (None, 0.6, 0.3), (5.0, 2.0, 0.1)):
        p = model.question_probabilities(
            sub, exam_day=30.0, unseen_accuracy=accuracy, memory=factor, today=today
        )
        slow = model.paper_probabilities(p, sub.weights, 20)[0]
        fast = model._Prepared(sub, exam_days=[10.0, 30.0], today=today).mean_p(
            accuracy=[accuracy, 0.9], memory=[factor, 1.0]
        )
        assert fast.shape == (2, 2)
        assert fast[0, 1] == pytest.approx(slow)
        p10 = model.question_probabilities(
            sub, exam_day=10.0, unseen_accuracy=0.9, memory=1.0, today=today
        )
        assert fast[1, 0] == pytest.approx(
            model.paper_probabilities(p10, sub.weights, 20)[0]
        )


def test_the_batched_pass_probability_is_the_scalar_one_per_row():
    rng = np.random.default_rng(3)
    batch = [rng.dirichlet(np.ones(n + 1), size=(4, 3)) for n in (20, 20, 10)]
    together = model.pass_probabilities(batch)
    assert together.shape == (4, 3)
    for i in range(4):
        for j in range(3):
            one = model.pass_probability([d[i, j] for d in batch])
            assert together[i, j] == pytest.approx(one)


def test_the_curve_is_the_forecast_of_each_day_in_one_pass():
    rows = [(1.0, 5.0, 0.0)] * 20 + [(2.0, None, None)] * 40
    subjects = [
        model.SubjectInput.build("A", 20, rows, 12, 20, pace=1.0),
        model.SubjectInput.build("B", 20, rows, 8, 20, pace=0.5),
    ]
    days = [3.0, 10.0, 30.0]
    curve = model.pass_curve(subjects, days=days, today=1.0)
    each = [
        model.forecast(subjects, exam_day=d, today=1.0).pass_probability for d in days
    ]
    assert curve == pytest.approx(each)
