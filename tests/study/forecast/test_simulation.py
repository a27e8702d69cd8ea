"""A seeded small simulation: simulated learners, the forecast, the plan.

The full run is `manage.py simulate_forecast` (figures in docs/forecast.md).
"""

import random

import pytest
from django.core.management import call_command

from study.forecast import calibration, model
from study.forecast import plan as daily
from study.forecast import simulation as sim
from tests.shared_data import SHARED_EXAMS, needs_shared


def synthetic_bank(subjects=3, per_subject=150, seed=0):
    rng = random.Random(seed)
    bank = []
    for s in range(subjects):
        for _ in range(per_subject):
            rounds = rng.choice([1, 1, 1, 2, 3, 5, 7])
            bank.append(
                sim.BankQuestion(
                    id=len(bank) + 1,
                    subject=f"과목{s + 1}",
                    weight=model.recurrence_weight(rounds),
                )
            )
    return bank


SPEC = sim.PaperSpec(tuple((f"과목{s + 1}", 20) for s in range(3)))
CONFIG = sim.Config(
    learners=8, days=21, daily_size=12, forecast_days_before=(14, 7), seed=1
)


@pytest.fixture(scope="module")
def result():
    return sim.simulate(synthetic_bank(), SPEC, CONFIG)


def test_the_simulation_is_seeded(result):
    again = sim.simulate(synthetic_bank(), SPEC, CONFIG)
    assert again.summary() == result.summary()


def test_the_forecast_beats_the_naive_rule_for_learners_on_the_plan(result):
    runs = result.plan + result.stage
    assert all(0 <= r.forecasts[d] <= 1 for r in runs for d in (14, 7))
    # Forecasts are not constant: they separate learners.
    assert len({round(r.forecasts[7], 3) for r in runs}) > 4
    for d in (14, 7):
        assert result.brier(d, "plan") < result.naive_brier(d, "plan")
        assert result.brier(d) < 0.3


def test_following_the_plan_passes_at_least_as_often_as_stage_quizzes(result):
    assert result.pass_rate("plan") >= result.pass_rate("stage")
    assert 0 < result.pass_rate("stage") < 1  # the scenario discriminates


def test_the_real_exam_has_no_unsure_button():
    # A learner who never knows and always presses 모르겠음 in the app still
    # guesses on the real exam (right about 1 in 4), as the forecast assumes.
    bank = synthetic_bank(subjects=1, per_subject=400)
    params = sim.LearnerParams(
        ability={"과목1": 0.0}, memory=1.0, unsure=1.0, study_prob=1.0
    )
    learner = sim.Simulator(bank, SPEC, params, CONFIG, seed=5)
    at = sim.START
    in_app = {learner.answer(q.id, at, learn=False) for q in bank}
    on_exam = [learner.answer(q.id, at, learn=False, real_exam=True) for q in bank]
    assert in_app == {"unsure"}
    assert "unsure" not in on_exam
    assert 0.18 < on_exam.count("correct") / len(on_exam) < 0.32


def test_the_two_policies_are_paired_by_common_random_numbers(result):
    # Same key, same draw (whatever the policy); the paired interval brackets
    # the mean difference.
    assert sim.common_uniform(1, 42, 0, 0) == sim.common_uniform(1, 42, 0, 0)
    assert sim.common_uniform(1, 42, 0, 0) != sim.common_uniform(1, 42, 1, 0)
    summary = result.summary()
    low, high = summary["score_diff_ci95"]
    assert low <= summary["score_diff"] <= high
    assert summary["score_diff"] == pytest.approx(
        summary["mean_score_plan"] - summary["mean_score_stage"]
    )
    assert sim.paired_interval([1.0, 1.0, 1.0]) == (1.0, 1.0, 1.0)


def test_learners_differ_in_known_memory_parameters():
    rng = random.Random(4)
    people = [sim.draw_learner(rng, ["A", "B"]) for _ in range(20)]
    assert len({round(p.memory, 3) for p in people}) == 20
    assert all(0 < p.ability["A"] < 1 and 0 <= p.unsure <= 1 for p in people)


def test_the_plan_chooses_new_questions_where_they_raise_p_pass_most():
    # 과목2 sits near 40 (weak); 과목1 is safe: new questions go to 과목2.
    # Two reviews are due: 101, a 단골 of 과목2 missed yesterday (it would be
    # forgotten by the exam), and 1, a question of 과목1 known for good.
    def subject(name, correct, studied):
        rows = [studied, *[(1.0, None, None)] * 59]
        return model.SubjectInput.build(name, 20, rows, correct, 60)

    subjects = [
        subject("과목1", 48, (1.0, 300.0, -1.0)),
        subject("과목2", 22, (3.0, 0.2, -1.0)),
    ]
    ids = [list(range(1, 61)), list(range(101, 161))]
    kwargs = {
        "subjects": subjects,
        "ids": ids,
        "due_ids": [1, 101],
        "size": 12,
        "today": 0.0,
        "exam_day": 20.0,
        "seed": 3,
    }
    plan = daily.daily_plan(**kwargs)
    assert plan.reviews == [101]  # 1 waits: it is known on the exam day anyway
    assert len(plan.new) == 11 and len(set(plan.new)) == 11
    assert not {1, 101} & set(plan.new)
    assert plan.new_by_subject.get("과목2", 0) > plan.new_by_subject.get("과목1", 0)
    assert plan.pass_after > plan.pass_before
    same = daily.daily_plan(**kwargs)
    assert same.new == plan.new  # seeded: the same plan all day


def test_a_review_backlog_leaves_room_for_new_questions():
    # 100 reviews are due of questions remembered well past the exam: while
    # unseen questions remain, those come first; once the bank has been met,
    # the reviews fill the plan.
    known = [(1.0, 50.0, -1.0)] * 100
    unseen = [(1.0, None, None)] * 30
    kwargs = {"size": 20, "today": 0.0, "exam_day": 30.0}
    plan = daily.daily_plan(
        subjects=[model.SubjectInput.build("A", 20, unseen + known, 10, 20)],
        ids=[list(range(130))],
        due_ids=list(range(30, 130)),
        **kwargs,
    )
    assert len(plan.new) == 20 and set(plan.new) <= set(range(30))
    assert plan.reviews == [] and plan.deferred == 100
    met = daily.daily_plan(
        subjects=[model.SubjectInput.build("A", 20, known, 10, 20)],
        ids=[list(range(30, 130))],
        due_ids=list(range(30, 130)),
        **kwargs,
    )
    assert met.reviews == list(range(30, 50)) and met.new == []


def test_calibration_lines_say_what_the_numbers_mean():
    from datetime import UTC, datetime, timedelta

    t0 = datetime(2026, 3, 2, tzinfo=UTC)
    answers = [("과목1", "wrong", i, t0) for i in range(12)]
    answers += [("과목1", "correct", i, t0) for i in range(12, 20)]
    answers += [("과목2", "unsure", 100, t0), ("과목2", "correct", 100, t0)]
    answers += [("과목2", "correct", 101, t0 + timedelta(days=8))]
    report = calibration.calibration_report(answers)
    one, two = report.subjects
    assert one.tally.given_accuracy == 0.4 and one.tally.unsure_rate == 0
    assert "40%가 맞았습니다" in one.line and "모르겠음을 고르세요" in one.line
    assert two.tally.after_unsure_accuracy == 1.0
    assert "다시 풀어 100%를 맞혔습니다" in two.line and "이릅니다" in two.line
    assert [w.isoformat() for w, _ in report.weeks] == ["2026-03-02", "2026-03-09"]


@needs_shared
def test_the_command_runs_on_a_real_bank(capsys, tmp_path):
    out = tmp_path / "figures.json"
    files = sorted(str(p) for p in SHARED_EXAMS.glob("ind-safety-2016-*.csv"))
    call_command(
        "simulate_forecast",
        *files,
        learners=2,
        days=29,
        daily_size=10,
        json=str(out),
    )
    printed = capsys.readouterr().out
    assert "28 days before" in printed and "7 days before" in printed
    assert "with the daily plan" in printed
    import json

    figures = json.loads(out.read_text())
    assert figures["questions"] > 250 and len(figures["subjects"]) == 6
    assert 0 <= figures["brier_7d"] <= 1
    assert "oracle" in printed and "Floor: a perfect forecast" in printed
    assert 0 <= figures["oracle_brier_28d"] <= 1
    assert 0 <= figures["floor_brier"] <= 0.25


def _studied_learner(memory, seed=11):
    """A learner who has met half of a small bank over ten days (seeded)."""
    bank = synthetic_bank(per_subject=60)
    params = sim.LearnerParams(
        ability={"과목1": 0.35, "과목2": 0.4, "과목3": 0.45},
        memory=memory,
        unsure=0.3,
        study_prob=1.0,
    )
    cfg = sim.Config(learners=1, days=21, daily_size=10, seed=1)
    learner = sim.Simulator(bank, SPEC, params, cfg, seed=seed)
    learner.exam_aware = False
    order = random.Random(seed)
    for day in range(10):
        at = sim.START + sim.timedelta(days=day)
        for q in order.sample(bank, 9):
            learner.answer(q.id, at)
    return learner


def test_the_exam_day_probability_is_the_pass_rate_of_the_sitting():
    # Oracle (b): P(합격) from the true memory state. Sit the same exam (same
    # memory, fresh paper and answer draws: another seed) 600 times: the pass
    # rate matches. Seeded, so the check is deterministic; 0.06 is ~3 SE.
    learner = _studied_learner(memory=0.5)
    p = learner.exam_pass_probability()
    assert 0.15 < p < 0.85  # an open case, or the check would be weak
    passed = 0
    for seed in range(600):
        learner.seed = 10_000 + seed
        passed += learner.mock(learner.exam_at, real_exam=True)[0]
    assert abs(passed / 600 - p) < 0.06


def test_the_oracle_forecast_uses_the_true_memory():
    # Oracle (a) made on the exam day itself (nothing left to project) agrees
    # with oracle (b) up to the paper approximation (slots drawn with
    # replacement), and a learner who forgets faster gets a lower oracle.
    slow = _studied_learner(memory=0.5)
    on_the_day = slow.oracle_forecast(slow.exam_at)
    assert abs(on_the_day - slow.exam_pass_probability()) < 0.05
    fast = _studied_learner(memory=0.05)
    assert fast.oracle_forecast(fast.exam_at) < on_the_day


def test_the_summary_reports_the_oracles_and_the_floor(result):
    summary = result.summary()
    for d in (14, 7):
        assert 0 <= summary[f"oracle_brier_{d}d"] <= 1
        assert summary[f"forecast_excess_{d}d"] >= 0
        # No forecast made before the sitting *expects* to beat the floor
        # (E[(f − Y)²] = E[(f − p)²] + E[p(1 − p)]); 16 outcomes scatter
        # around that expectation by about 0.02 (seeded, so fixed here).
        assert summary["floor_brier"] <= summary[f"brier_{d}d"] + 0.02
    assert 0 < summary["floor_brier"] <= 0.25
    assert all(0 <= r.exam_probability <= 1 for r in result.plan + result.stage)
