"""Time-split validation: learners study the rounds before a cut-off and sit a
real later round.

The bank is every round held before the sat round; the sitting is the sat
round itself, its actual questions in their actual subjects. A question of
the sat round that some bank round asked too (the same stem) is answered
from the learner's memory of it; a question no bank round had is new, and is
answered with the learner's first-sight ability in its subject. Nothing of
the sat round is in the bank, so the forecast meets the new questions it must
foresee (the share of new questions it estimates from the bank's own rounds,
study.forecast.papers).

Simulated learners remember by one of the models of study.forecast.learners
(FSRS, ACT-R or half-life regression), slip (a known answer marked wrong) and
guess (right without knowing, with partial knowledge: 25–40%) at their own
rates, and follow one of two routines: the daily plan's order (due reviews,
then unseen questions by recurrence) or the stage quizzes' buckets. Every
seventh day is a mock drawn from the bank, which the forecast reads as
evidence (a Sitting). The forecast itself is the product's, unchanged: it
sees only the answers.

The whole population is arrays (learners × questions); a day is a loop over
learners to pick their questions and one batch of array operations to answer
and remember them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from study.exam_rules import PASS_AVERAGE_MIN, STAGE_RATIOS, passes, quotas
from study.forecast import learners as memory_models
from study.forecast import model, retention
from study.forecast.papers import NewShare, new_shares
from study.forecast.reliability import reliability_bins

FORECAST_DAYS_BEFORE = (28, 7)
TARGETS = {7: 0.03, 28: 0.05}  # Brier within this of the floor
RELIABILITY_BINS = 10
RELIABILITY_MIN = 30  # forecasts a decile needs before it is judged
RELIABILITY_TOLERANCE = 0.1
UNSURE, WRONG, CORRECT = 3, 2, 1


def normalise_stem(text: str) -> str:
    return re.sub(r"\W", "", text)


@dataclass(frozen=True)
class RoundRow:
    """One question of the files: its round and what identifies it."""

    year: int
    session: str
    subject: str
    number: int
    stem: str
    needs_figure: bool


@dataclass
class Setup:
    """The bank (rounds before the sat round) and the sat round's paper."""

    sit_round: tuple[int, str]
    bank_rounds: list[tuple[int, str]]
    subjects: list[str]
    bank_subject: np.ndarray  # per bank question: subject index
    bank_weight: np.ndarray
    bank_concept: np.ndarray  # per bank question: the stem it shares
    concepts: int
    paper: list[np.ndarray]  # per subject: concept of each question, −1 if new
    shares: list[NewShare]

    @property
    def questions(self) -> int:
        return int(self.bank_subject.size)


def setup_time_split(
    rows: Sequence[RoundRow],
    sit_round: tuple[int, str],
    round_order: Callable[[tuple[int, str]], tuple],
) -> Setup:
    """round_order: a sort key for (year, session) (the order rounds were held)."""
    rounds = sorted({(r.year, r.session) for r in rows}, key=round_order)
    if sit_round not in rounds:
        raise ValueError(f"no round {sit_round[0]}-{sit_round[1]} in the files")
    bank_rounds = [k for k in rounds if round_order(k) < round_order(sit_round)]
    if not bank_rounds:
        raise ValueError("no round before the sat round: nothing to study")
    paper_rows = sorted(
        (r for r in rows if (r.year, r.session) == sit_round), key=lambda r: r.number
    )
    subjects = list(dict.fromkeys(r.subject for r in paper_rows))
    index = {name: i for i, name in enumerate(subjects)}
    in_bank = {k: i for i, k in enumerate(bank_rounds)}
    bank = [r for r in rows if (r.year, r.session) in in_bank and r.subject in index]
    first_round: dict[str, int] = {}
    rounds_of: dict[str, set] = {}
    for r in bank:
        stem = normalise_stem(r.stem)
        order = in_bank[(r.year, r.session)]
        first_round[stem] = min(first_round.get(stem, order), order)
        rounds_of.setdefault(stem, set()).add(order)
    studied = [r for r in bank if not r.needs_figure]
    concept_of: dict[str, int] = {}
    for r in studied:
        concept_of.setdefault(normalise_stem(r.stem), len(concept_of))
    shares = new_shares(
        (
            (
                r.subject,
                in_bank[(r.year, r.session)],
                first_round[normalise_stem(r.stem)] == in_bank[(r.year, r.session)],
            )
            for r in bank
        ),
        subjects,
    )
    paper = [
        np.array(
            [
                concept_of.get(normalise_stem(r.stem), -1)
                for r in paper_rows
                if r.subject == name
            ],
            dtype=int,
        )
        for name in subjects
    ]
    return Setup(
        sit_round=sit_round,
        bank_rounds=bank_rounds,
        subjects=subjects,
        bank_subject=np.array([index[r.subject] for r in studied], dtype=int),
        bank_weight=np.array(
            [
                model.recurrence_weight(len(rounds_of[normalise_stem(r.stem)]))
                for r in studied
            ]
        ),
        bank_concept=np.array(
            [concept_of[normalise_stem(r.stem)] for r in studied], dtype=int
        ),
        concepts=len(concept_of),
        paper=paper,
        shares=[shares[name] for name in subjects],
    )


@dataclass
class Config:
    learners: int = 100
    days: int = 42
    daily_size: int = 10
    seed: int = 1
    learner_model: str = "fsrs"
    mock_every: int = 7
    per_subject: int = 20  # a mock's questions per subject
    # Per learner, drawn uniformly: a known answer marked wrong (slip), and a
    # guess right without knowing (partial knowledge: above 1 in 4).
    slip: tuple[float, float] = (0.0, 0.1)
    guess: tuple[float, float] = (0.25, 0.4)


@dataclass
class Sat:
    """What happened to the learners and what the forecast said."""

    passed: np.ndarray  # (learners,) the sitting's outcome
    exam_probability: np.ndarray  # P(합격) given the true memory at the sitting
    forecasts: dict[int, np.ndarray] = field(default_factory=dict)
    naive: dict[int, np.ndarray] = field(default_factory=dict)
    mean_score: np.ndarray = field(default_factory=lambda: np.zeros(0))


class Population:
    """Every learner of one cell, as arrays."""

    def __init__(self, setup: Setup, cfg: Config) -> None:
        self.setup = setup
        self.cfg = cfg
        self.rng = np.random.default_rng(
            [cfg.seed, 2028]
        )  # the same learners under every memory model
        n, q, s = cfg.learners, setup.questions, len(setup.subjects)
        rng = self.rng
        base = rng.uniform(0.25, 0.6, size=(n, 1))
        self.ability = np.clip(base + rng.normal(0, 0.1, size=(n, s)), 0.02, 0.95)
        self.unsure = rng.uniform(0.1, 0.6, size=n)
        self.study_prob = rng.uniform(0.6, 1.0, size=n)
        self.slip = rng.uniform(*cfg.slip, size=n)
        self.guess = rng.uniform(*cfg.guess, size=n)
        self.stage_policy = rng.random(n) < 0.5  # else the plan's order
        self.tiebreak = rng.random((n, q))
        self.memory = memory_models.MODELS[cfg.learner_model](n, setup.concepts, rng)
        # What the app sees, per bank question.
        self.stability = np.full((n, q), np.nan)
        self.difficulty = np.full((n, q), 5.0)
        self.last = np.full((n, q), np.nan)
        self.first_day = np.full((n, q), np.nan)
        self.first_score = np.zeros((n, q))
        self.outcome = np.zeros((n, q), dtype=int)
        self.had_correct = np.zeros((n, q), dtype=bool)
        self.review_stability = np.full((n, q), np.nan)
        self.review_difficulty = np.full((n, q), 5.0)
        self.due = np.full((n, q), np.inf)
        self.review_last = np.zeros((n, q))
        self.evidence: list[list[np.ndarray]] = [[] for _ in range(n)]
        self.misses = np.zeros((n, 2))  # wrong, unsure
        self.sittings: list[list[tuple[float, list[tuple[float, int, float, int]]]]] = [
            [] for _ in range(n)
        ]
        self.last_mock = np.full(n, np.nan)

    # -- answering ---------------------------------------------------------
    def answer(
        self, learner: np.ndarray, question: np.ndarray, at: float
    ) -> np.ndarray:
        """Outcome codes of a batch of (learner, bank question) answers in the
        app (모르겠음 allowed); the learner studies each with the key shown."""
        concept = self.setup.bank_concept[question]
        seen = self.memory.seen[learner, concept]
        first_sight = self.ability[learner, self.setup.bank_subject[question]]
        p = np.where(seen, self.memory.recall(learner, concept, at), first_sight)
        u = self.rng.random((3, learner.size))
        recalled = u[0] < p
        slipped = recalled & (u[1] < self.slip[learner])
        unsure = ~recalled & (u[1] < self.unsure[learner])
        lucky = ~recalled & ~unsure & (u[2] < self.guess[learner])
        outcome = np.where(
            (recalled & ~slipped) | lucky, CORRECT, np.where(unsure, UNSURE, WRONG)
        )
        self.memory.study(learner, concept, at, recalled, recalled & ~seen)
        self._app_record(learner, question, at, outcome)
        return outcome

    def _app_record(
        self,
        learner: np.ndarray,
        question: np.ndarray,
        at: float,
        outcome: np.ndarray,
    ) -> None:
        good = outcome == CORRECT
        first = np.isnan(self.stability[learner, question])
        before = self.stability[learner, question]
        elapsed = at - self.last[learner, question]
        repeat = ~first
        for i in np.flatnonzero(repeat):
            self.evidence[learner[i]].append(
                np.array([before[i], elapsed[i], float(good[i])])
            )
        s0, d0 = memory_models.fsrs_initial(good)
        s1, d1 = memory_models.fsrs_review(
            np.where(first, 1.0, before),
            self.difficulty[learner, question],
            np.where(first, 0.0, elapsed),
            good,
        )
        self.stability[learner, question] = np.where(first, s0, s1)
        self.difficulty[learner, question] = np.where(first, d0, d1)
        self.last[learner, question] = at
        self.first_day[learner, question] = np.where(
            first, at, self.first_day[learner, question]
        )
        self.first_score[learner, question] = np.where(
            first,
            np.where(good, 1.0, np.where(outcome == UNSURE, model.GUESS, 0.0)),
            self.first_score[learner, question],
        )
        np.add.at(self.misses[:, 0], learner[outcome == WRONG], 1)
        np.add.at(self.misses[:, 1], learner[outcome == UNSURE], 1)
        self.had_correct[learner, question] |= (
            self.outcome[learner, question] == CORRECT
        )
        self.outcome[learner, question] = outcome
        self._schedule_reviews(learner, question, at, good)

    def _schedule_reviews(
        self, learner: np.ndarray, question: np.ndarray, at: float, good: np.ndarray
    ) -> None:
        """The review queue: a miss enters FSRS scheduling at the exam-date
        retention, and no review is planned after the exam (its eve)."""
        queued = ~np.isnan(self.review_stability[learner, question])
        enter = queued | ~good
        if not enter.any():
            return
        lq, qq, g = learner[enter], question[enter], good[enter]
        was = ~np.isnan(self.review_stability[lq, qq])
        s0, d0 = memory_models.fsrs_initial(g)
        s1, d1 = memory_models.fsrs_review(
            np.where(was, self.review_stability[lq, qq], 1.0),
            self.review_difficulty[lq, qq],
            at - np.where(was, self.review_last[lq, qq], at),
            g,
        )
        stability = np.where(was, s1, s0)
        self.review_stability[lq, qq] = stability
        self.review_difficulty[lq, qq] = np.where(was, d1, d0)
        self.review_last[lq, qq] = at
        keep = retention.exam_retention(0.9, self.cfg.days - at)
        due = at + memory_models.fsrs_interval(stability, keep)
        eve = self.cfg.days - 1
        self.due[lq, qq] = np.where((due >= self.cfg.days) & (at < eve), eve, due)

    # -- what each learner studies -----------------------------------------
    def pick(self, learner: int, day: int, at: float) -> np.ndarray:
        if self.stage_policy[learner]:
            return self._stage_pick(learner, day, at)
        return self._plan_pick(learner, at)

    def _plan_pick(self, learner: int, at: float) -> np.ndarray:
        size = self.cfg.daily_size
        due = np.flatnonzero(self.due[learner] <= at + 0.5)
        due = due[np.argsort(self.due[learner, due], kind="stable")]
        unseen = np.flatnonzero(np.isnan(self.stability[learner]))
        order = np.lexsort(
            (self.tiebreak[learner, unseen], -self.setup.bank_weight[unseen])
        )
        reviews = due[: max(size - min(unseen.size, size // 2), size // 2)]
        new = unseen[order][: size - reviews.size]
        picked = np.concatenate([reviews, new])
        if picked.size < size:
            rest = np.setdiff1d(due, picked)[: size - picked.size]
            picked = np.concatenate([picked, rest])
        return picked

    def _stage_pick(self, learner: int, day: int, at: float) -> np.ndarray:
        size = self.cfg.daily_size
        seen = ~np.isnan(self.stability[learner])
        outcome = self.outcome[learner]
        if self.cfg.days - day <= 14:
            stage = "pre_exam"
        elif seen.sum() < 0.3 * seen.size:
            stage = "intro"
        else:
            stage = "learning"
        buckets = {
            "unattempted": ~seen,
            "wrong_or_unsure": seen & (outcome != CORRECT),
            "frequent": self.setup.bank_weight >= 2.0,
            "due_review": self.due[learner] <= at,
            "regressed": self.had_correct[learner] & (outcome == WRONG),
            "random": np.ones(seen.size, dtype=bool),
        }
        chosen = np.zeros(seen.size, dtype=bool)
        for name, quota in quotas(STAGE_RATIOS[stage], size).items():
            candidates = np.flatnonzero(buckets[name] & ~chosen)
            take = self.rng.choice(
                candidates, min(quota, candidates.size), replace=False
            )
            chosen[take] = True
        missing = size - int(chosen.sum())
        if missing > 0:
            rest = np.flatnonzero(~chosen)
            chosen[self.rng.choice(rest, min(missing, rest.size), replace=False)] = True
        return np.flatnonzero(chosen)

    # -- mocks and the forecast ------------------------------------------
    def mock(self, learners: np.ndarray, at: float) -> None:
        """A mock drawn from the bank by weight: answers recorded, its
        per-subject result kept as evidence (what the model predicted just
        before it, and what happened)."""
        keys = self.rng.random((learners.size, self.setup.questions)) ** (
            1.0 / self.setup.bank_weight
        )
        for row, learner in enumerate(learners):
            weights = model.memory_posterior(self.memory_evidence(learner))
            memory = model.memory_mean(weights)
            papers = []
            for s, _ in enumerate(self.setup.subjects):
                pool = np.flatnonzero(self.setup.bank_subject == s)
                take = pool[np.argsort(-keys[row, pool], kind="stable")][
                    : self.cfg.per_subject
                ]
                papers.append(take)
            predicted = [
                model.sitting_memory(
                    self.stability[learner, take],
                    self.last[learner, take],
                    at_day=at,
                    memory=memory,
                )
                for take in papers
            ]
            picked = np.concatenate(papers)
            outcome = self.answer(np.full(picked.size, learner), picked, at)
            results, scores = [], []
            start = 0
            for s, take in enumerate(papers):
                got = outcome[start : start + take.size]
                start += take.size
                right = float(
                    (got == CORRECT).sum() + model.GUESS * (got == UNSURE).sum()
                )
                results.append((*predicted[s], right, int(take.size)))
                scores.append(100.0 * (got == CORRECT).sum() / max(take.size, 1))
            self.sittings[learner].append((at, results))
            self.last_mock[learner] = float(np.mean(scores))

    def memory_evidence(self, learner: int) -> model.MemoryEvidence:
        rows = self.evidence[learner]
        wrong, unsure = self.misses[learner]
        return model.MemoryEvidence.build(
            np.array(rows) if rows else np.zeros((0, 3)),
            model.guess_rate(int(wrong), int(unsure)),
        )

    def subject_inputs(self, learner: int, now: float) -> list[model.SubjectInput]:
        out = []
        for s, name in enumerate(self.setup.subjects):
            mask = self.setup.bank_subject == s
            stability = self.stability[learner, mask]
            seen = ~np.isnan(stability)
            first_days = self.first_day[learner, mask][seen]
            sittings = [
                model.Sitting(*results[s], weight=model.sitting_weight(now - when))
                for when, results in self.sittings[learner][-model.SITTING_MAX :]
                if now - when <= model.SITTING_WINDOW and when < now
            ]
            out.append(
                model.SubjectInput(
                    name=name,
                    questions=int(self.setup.paper[s].size),
                    weights=self.setup.bank_weight[mask],
                    stability=stability,
                    last_review_day=self.last[learner, mask],
                    unseen_correct=float(self.first_score[learner, mask][seen].sum()),
                    unseen_answered=int(seen.sum()),
                    pace=model.pace(first_days, now=now, started=0.0),
                    new_share=self.setup.shares[s],
                    sittings=tuple(sittings),
                )
            )
        return out

    def forecast(self, learner: int, now: float) -> float:
        made = model.forecast(
            self.subject_inputs(learner, now),
            exam_day=float(self.cfg.days),
            today=now,
            evidence=self.memory_evidence(learner),
        )
        return made.pass_probability

    # -- the sitting -------------------------------------------------------
    def sit(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(passed, P(합격) given the true memory, mean score) on the real
        round: no 모르겠음 button, a question not recalled is guessed."""
        at = float(self.cfg.days)
        n = self.cfg.learners
        everyone = np.arange(n)
        probabilities, scores = [], []
        for s, concepts in enumerate(self.setup.paper):
            known = np.tile(self.ability[:, s : s + 1], (1, concepts.size))
            for j, concept in enumerate(concepts):
                if concept < 0:
                    continue
                seen = self.memory.seen[:, concept]
                recall = self.memory.recall(everyone, np.full(n, concept), at)
                known[:, j] = np.where(seen, recall, known[:, j])
            p = known * (1 - self.slip[:, None]) + (1 - known) * self.guess[:, None]
            probabilities.append(p)
            right = (self.rng.random(p.shape) < p).sum(axis=1)
            scores.append(100.0 * right / max(concepts.size, 1))
        exam_probability = np.array(
            [
                model.pass_probability(
                    [model.poisson_binomial(p[i]) for p in probabilities]
                )
                for i in range(n)
            ]
        )
        table = np.column_stack(scores)
        passed = np.array(
            [
                passes(subject_scores=list(row), average=float(row.mean()))
                for row in table
            ]
        )
        return passed, exam_probability, table.mean(axis=1)


def simulate(setup: Setup, cfg: Config) -> Sat:
    pop = Population(setup, cfg)
    days_rng = np.random.default_rng([cfg.seed, 7])
    forecasts: dict[int, np.ndarray] = {
        d: np.zeros(cfg.learners) for d in FORECAST_DAYS_BEFORE
    }
    naive: dict[int, np.ndarray] = {
        d: np.zeros(cfg.learners) for d in FORECAST_DAYS_BEFORE
    }
    for day in range(cfg.days):
        at = float(day)
        days_left = cfg.days - day
        if day % cfg.mock_every == cfg.mock_every - 1:
            pop.mock(np.arange(cfg.learners), at)
        else:
            studying = np.flatnonzero(days_rng.random(cfg.learners) < pop.study_prob)
            picks = [pop.pick(int(i), day, at) for i in studying]
            if picks:
                learner = np.concatenate(
                    [np.full(p.size, i) for i, p in zip(studying, picks, strict=True)]
                ).astype(int)
                pop.answer(learner, np.concatenate(picks).astype(int), at)
        if days_left in FORECAST_DAYS_BEFORE:
            now = at + 2 / 24
            forecasts[days_left] = np.array(
                [pop.forecast(i, now) for i in range(cfg.learners)]
            )
            naive[days_left] = (
                np.nan_to_num(pop.last_mock, nan=0.0) >= PASS_AVERAGE_MIN
            ).astype(float)
    passed, exam_probability, mean_score = pop.sit()
    return Sat(
        passed=passed,
        exam_probability=exam_probability,
        forecasts=forecasts,
        naive=naive,
        mean_score=mean_score,
    )


def cells(sat: Sat, cfg: Config) -> list[dict]:
    """One cell per forecast horizon: Brier, the floor and the target."""
    y = sat.passed.astype(float)
    floor = float(np.mean(sat.exam_probability * (1 - sat.exam_probability)))
    rate = float(y.mean())
    out = []
    for days_before in FORECAST_DAYS_BEFORE:
        f = sat.forecasts[days_before]
        brier = float(np.mean((f - y) ** 2))
        out.append(
            {
                "learner_model": cfg.learner_model,
                "daily_size": cfg.daily_size,
                "seed": cfg.seed,
                "days_before": days_before,
                "learners": cfg.learners,
                "brier": brier,
                "floor": floor,
                "excess": float(np.mean((f - sat.exam_probability) ** 2)),
                "gap": brier - floor,
                "target": TARGETS[days_before],
                "meets_target": brier - floor <= TARGETS[days_before],
                "naive_brier": float(np.mean((sat.naive[days_before] - y) ** 2)),
                "base_rate_brier": rate * (1 - rate),
                "pass_rate": rate,
                "mean_forecast": float(f.mean()),
                "mean_exam_probability": float(sat.exam_probability.mean()),
                "mean_score": float(np.mean(sat.mean_score)),
            }
        )
    return out


def reliability(
    pairs: Sequence[tuple[float, bool]], bins: int = RELIABILITY_BINS
) -> list[dict]:
    """Forecast deciles against the pass rate of the learners in each."""
    out = []
    for row in reliability_bins(pairs, bins):
        entry: dict = row.as_dict()
        if (
            row.n >= RELIABILITY_MIN
            and row.mean_forecast is not None
            and row.pass_rate is not None
        ):
            entry["within_tolerance"] = (
                abs(row.mean_forecast - row.pass_rate) <= RELIABILITY_TOLERANCE
            )
        out.append(entry)
    return out


def forecast_pairs(sat: Sat) -> list[tuple[float, bool]]:
    return [
        (float(f), bool(y))
        for days_before in FORECAST_DAYS_BEFORE
        for f, y in zip(sat.forecasts[days_before], sat.passed, strict=True)
    ]
