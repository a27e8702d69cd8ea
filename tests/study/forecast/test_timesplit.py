"""Time-split validation: learners who are not FSRS, a real later round as
the sitting, and the share of new questions on it."""

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from fsrs import Card, Rating, Scheduler

from study.forecast import learners, papers, timesplit
from study.management.commands.simulate_forecast import _round_order
from tests.shared_data import SHARED_EXAMS, needs_shared


def test_the_array_fsrs_is_py_fsrs():
    scheduler = Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)
    rng = np.random.default_rng(5)
    for _ in range(20):
        card = Card(card_id=1)
        at = datetime(2026, 1, 1, 20, tzinfo=UTC)
        s = d = None
        for step in range(8):
            good = bool(rng.random() < 0.7)
            gap = float(rng.choice([0.2, 1.0, 2.5, 7.0, 30.0]))
            if step:
                at += timedelta(days=gap)
                s, d = learners.fsrs_review(
                    np.array([s]), np.array([d]), np.array([gap]), np.array([good])
                )
                s, d = float(s[0]), float(d[0])
            else:
                s0, d0 = learners.fsrs_initial(np.array([good]))
                s, d = float(s0[0]), float(d0[0])
            card, _ = scheduler.review_card(
                card, Rating.Good if good else Rating.Again, review_datetime=at
            )
            assert s == pytest.approx(card.stability, rel=1e-9)
            assert d == pytest.approx(card.difficulty, rel=1e-9)


@pytest.mark.parametrize("name", sorted(learners.MODELS))
def test_every_learner_model_forgets_and_learns_from_spaced_study(name):
    rng = np.random.default_rng(1)
    memory = learners.MODELS[name](2, 3, rng)
    one = np.array([0])
    item = np.array([0])
    memory.study(one, item, 0.0, np.array([True]), np.array([False]))
    soon, late = (memory.recall(one, item, t)[0] for t in (1.0, 30.0))
    assert 0 < late < soon <= 1  # forgetting
    # Studied again on days 3 and 10: remembered better a month on.
    memory.study(one, item, 3.0, np.array([True]), np.array([False]))
    memory.study(one, item, 10.0, np.array([True]), np.array([False]))
    assert memory.recall(one, item, 40.0)[0] > late


def test_actr_learners_differ_in_decay():
    rng = np.random.default_rng(2)
    memory = learners.ActrMemory(40, 1, rng)
    everyone = np.arange(40)
    item = np.zeros(40, dtype=int)
    memory.study(everyone, item, 0.0, np.ones(40, bool), np.zeros(40, bool))
    recall = memory.recall(everyone, item, 14.0)
    # Faster decay (a larger intercept), lower recall two weeks on.
    order = np.argsort(memory.intercept)
    assert recall[order[0]] > recall[order[-1]]
    assert np.corrcoef(memory.intercept, recall)[0, 1] < -0.9


def test_the_new_share_is_measured_on_the_rounds_after_the_first():
    # Round 1 asks 10 questions (new by definition, not counted); rounds 2
    # and 3 ask 10 each, 4 and 6 of them new in subject A.
    rows = [("A", 1, True)] * 10
    rows += [("A", 2, i < 4) for i in range(10)] + [("A", 3, i < 6) for i in range(10)]
    shares = papers.new_shares(rows, ["A", "B"])
    assert (shares["A"].new, shares["A"].asked, shares["A"].rounds) == (10, 20, 2)
    assert shares["A"].mean == pytest.approx(0.5, abs=0.01)
    # B was never asked: the topic's share, uncertain (a weak Beta).
    assert shares["B"].asked == 0
    assert shares["B"].alpha + shares["B"].beta == pytest.approx(10)
    # Only the most recent rounds count.
    recent = papers.new_shares(rows, ["A"], recent=1)["A"]
    assert (recent.new, recent.asked) == (6, 10)
    # Nothing to learn from: half the paper, very uncertain.
    alone = papers.new_shares([("A", 1, True)], ["A"])["A"]
    assert alone.mean == pytest.approx(papers.PRIOR_SHARE) and not alone.measured


def _row(year, session, subject, number, stem, figure=False):
    return timesplit.RoundRow(year, session, subject, number, stem, figure)


def test_the_sat_round_is_its_own_questions_new_ones_included():
    rows = [
        _row(2019, "1", "A", 1, "물음 하나"),
        _row(2019, "1", "A", 2, "물음 둘"),
        _row(2019, "2", "A", 1, "물음 하나"),  # a repeat: weight 1.5
        _row(2019, "2", "A", 2, "그림 물음", figure=True),
        _row(2020, "1", "A", 1, "물음 둘?"),  # the same stem (punctuation)
        _row(2020, "1", "A", 2, "처음 보는 물음"),
        _row(2020, "1", "A", 3, "그림 물음"),  # asked before, but not studiable
        _row(2020, "2", "A", 1, "나중 물음"),  # after the sat round: not used
    ]
    setup = timesplit.setup_time_split(rows, (2020, "1"), _round_order)
    assert setup.bank_rounds == [(2019, "1"), (2019, "2")]
    assert setup.questions == 3 and setup.concepts == 2
    assert sorted(setup.bank_weight.tolist()) == [1.0, 1.5, 1.5]
    paper = setup.paper[0]
    assert paper.size == 3 and (paper >= 0).sum() == 1  # "물음 둘" only
    # 2019-2 asked 2 questions, one new (the figure question): the share.
    assert setup.shares[0].new == 1 and setup.shares[0].asked == 2
    with pytest.raises(ValueError):
        timesplit.setup_time_split(rows, (2019, "1"), _round_order)
    with pytest.raises(ValueError):
        timesplit.setup_time_split(rows, (2021, "1"), _round_order)


@pytest.fixture(scope="module")
def small_setup():
    rows = []
    for year, session in [(2018, "1"), (2018, "2"), (2019, "1")]:
        for s in ("A", "B"):
            for n in range(20):
                # Two in three questions new each round; the rest repeat.
                stem = f"{s}-{n}" if n % 3 == 0 else f"{s}-{year}-{session}-{n}"
                rows.append(_row(year, session, s, 20 * "AB".index(s) + n + 1, stem))
    return timesplit.setup_time_split(rows, (2019, "1"), _round_order)


def test_the_cells_report_brier_floor_and_a_reliability_table(small_setup):
    cfg = timesplit.Config(
        learners=12, days=29, daily_size=8, seed=4, learner_model="hlr"
    )
    sat = timesplit.simulate(small_setup, cfg)
    again = timesplit.simulate(small_setup, cfg)
    assert np.array_equal(sat.passed, again.passed)  # seeded
    assert np.allclose(sat.forecasts[7], again.forecasts[7])
    cells = timesplit.cells(sat, cfg)
    assert [c["days_before"] for c in cells] == [28, 7]
    for cell in cells:
        assert 0 <= cell["floor"] <= 0.25 and 0 <= cell["brier"] <= 1
        assert cell["learner_model"] == "hlr" and cell["seed"] == 4
        # Expected Brier = floor + excess: the run's own Brier is near it.
        assert cell["excess"] >= 0
    rows = timesplit.reliability(timesplit.forecast_pairs(sat))
    assert sum(r["n"] for r in rows) == 24
    assert {"low", "high", "n", "mean_forecast", "pass_rate"} <= set(rows[0])


def test_the_exam_day_probability_is_the_pass_rate_of_the_sitting(small_setup):
    # The floor's P(합격): sit the same round again and again (fresh answer
    # draws, same memory): the pass rate matches (seeded; 0.06 is ~3 SE).
    cfg = timesplit.Config(learners=30, days=29, daily_size=10, seed=2)
    pop = timesplit.Population(small_setup, cfg)
    for day in range(cfg.days):
        picks = [pop.pick(i, day, float(day)) for i in range(cfg.learners)]
        who = np.concatenate([np.full(p.size, i) for i, p in enumerate(picks)])
        pop.answer(who.astype(int), np.concatenate(picks).astype(int), float(day))
    passed = np.zeros(cfg.learners)
    for _ in range(400):
        outcome, probability, _ = pop.sit()
        passed += outcome
    assert np.abs(passed / 400 - probability).max() < 0.1
    assert abs((passed / 400).mean() - probability.mean()) < 0.03


@needs_shared
def test_the_command_sits_a_real_round(tmp_path, capsys):
    out = tmp_path / "split.json"
    files = sorted(str(p) for p in SHARED_EXAMS.glob("ind-safety-2016-*.csv"))
    call_command(
        "simulate_forecast",
        *files,
        sit_round="2016-3",
        learner_model="actr,hlr",
        learners=4,
        days=29,
        daily_size="5",
        seed="1",
        json=str(out),
    )
    figures = json.loads(out.read_text())
    assert len(figures["cells"]) == 4  # 2 models × 2 horizons
    for cell in figures["cells"]:
        for key in (
            "learner_model",
            "daily_size",
            "seed",
            "days_before",
            "brier",
            "floor",
        ):
            assert key in cell
    assert {c["learner_model"] for c in figures["cells"]} == {"actr", "hlr"}
    assert len(figures["reliability"]) == 10
    for row in figures["reliability"]:
        assert {"low", "high", "n", "mean_forecast", "pass_rate"} <= set(row)
    split = figures["rounds"][0]
    assert split["sit_round"] == "2016-3" and split["bank_rounds"] == 2
    assert sum(split["paper_new"].values()) > 100  # 2016-3 is mostly new
    assert "Reliability" in capsys.readouterr().out
    for bad in ({"sit_round": "2030-1"}, {"sit_round": "2016-1"}, {"sit_round": "x"}):
        with pytest.raises(CommandError):
            call_command("simulate_forecast", *files, learners=2, **bad)
    with pytest.raises(CommandError):
        call_command(
            "simulate_forecast", *files, sit_round="2016-3", learner_model="sm2"
        )
