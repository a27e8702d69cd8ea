"""Simulated learners: does the forecast predict the exam, does the plan help?

Each simulated learner has known memory parameters:

- ``ability[subject]``: the chance of already knowing a question never seen;
- ``memory``: a factor on every FSRS stability (how fast *this* learner
  forgets compared with FSRS's default learner);
- ``unsure``: when they do not recall, how often they press 모르겠음 rather
  than guess (a guess is right 1 in 4).

Their true memory of each question is an FSRS card updated by whether they
really recalled it (feedback shows the key after every answer), with the true
retrievability R(t, S·memory). What the app sees is only the answers; the
forecast replays them with default FSRS parameters, exactly as for a real
learner.

Every learner studies the same number of questions on the same days under two
policies, with common random numbers (see Simulator): the daily plan
(오늘 할 일) and stage quizzes alone (단계별, the seeds' bucket ratios). Both
sit a mock drawn by the exam spec every week; on the exam day they sit the
real exam (drawn the same way, no 모르겠음 button: what is not recalled is
guessed), and that is the outcome the forecasts made 28 and 7 days before are
scored against (Brier), next to the naive rule "last mock's mean ≥
PASS_AVERAGE_MIN" and a constant forecast of the pass rate.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
from fsrs import Card, Rating, Scheduler

from study.exam_rules import PASS_AVERAGE_MIN, STAGE_RATIOS, passes, quotas
from study.forecast import model, retention
from study.forecast import plan as daily

if TYPE_CHECKING:
    from study.imports.identity import Row

START = datetime(2026, 1, 5, 20, 0, tzinfo=UTC)  # the learners study at night
ORACLE_PAPERS = 256  # papers averaged over for the exam-day probability
TZ = retention.ZoneInfo("Asia/Seoul")


@dataclass(frozen=True)
class BankQuestion:
    id: int
    subject: str
    weight: float


@dataclass(frozen=True)
class PaperSpec:
    subjects: tuple[tuple[str, int], ...]  # (subject, questions) in exam order


@dataclass(frozen=True)
class LearnerParams:
    ability: dict[str, float]
    memory: float
    unsure: float
    study_prob: float


@dataclass
class Config:
    learners: int = 40
    days: int = 42
    daily_size: int = 40
    forecast_days_before: tuple[int, ...] = (28, 7)
    mock_every: int = 7
    seed: int = 1


def card_memory(card: Card | None) -> tuple[float, float]:
    """(stability, day of the last review) of a card reviewed at least once."""
    if card is None or card.stability is None or card.last_review is None:
        raise ValueError("a card that was never reviewed has no memory state")
    return float(card.stability), card.last_review.timestamp() / 86400


@dataclass
class Observed:
    """What the app knows about one question of one learner."""

    card: Card | None = None  # replay of all answers (forecast memory)
    review: Card | None = None  # the review-queue card (after a miss)
    due: datetime | None = None
    last_outcome: str = ""
    had_correct: bool = False
    first_at: datetime = START


@dataclass
class LearnerRun:
    passed: bool = False
    forecasts: dict[int, float] = field(default_factory=dict)
    naive: dict[int, float] = field(default_factory=dict)
    # The forecast's expected mean score (out of 100) next to the real one.
    expected: dict[int, float] = field(default_factory=dict)
    exam_mean: float = 0.0
    # Oracle (a): the forecast's own projection (pace of the last two weeks
    # continues) fed with the learner's TRUE memory and ability instead of
    # estimates, with no uncertainty draws.
    oracle: dict[int, float] = field(default_factory=dict)
    # Oracle (b): P(합격) given the true memory state at the exam sitting;
    # only the paper and the answers on the day remain random.
    exam_probability: float = 0.0


@dataclass
class Result:
    config: Config
    plan: list[LearnerRun]
    stage: list[LearnerRun]

    def brier(self, days_before: int, policy: str = "both") -> float:
        runs = self._runs(policy)
        return float(
            np.mean([(r.forecasts[days_before] - r.passed) ** 2 for r in runs])
        )

    def naive_brier(self, days_before: int, policy: str = "both") -> float:
        runs = self._runs(policy)
        return float(np.mean([(r.naive[days_before] - r.passed) ** 2 for r in runs]))

    def oracle_brier(self, days_before: int, policy: str = "both") -> float:
        runs = self._runs(policy)
        return float(np.mean([(r.oracle[days_before] - r.passed) ** 2 for r in runs]))

    def floor(self, policy: str = "both") -> float:
        """The Brier score a perfect forecast expects, mean p(1 − p) with p
        the exam-day probability: no forecast made earlier can expect less
        (E[(f − Y)²] = E[(f − p)²] + E[p(1 − p)] for any f fixed before the
        sitting)."""
        runs = self._runs(policy)
        return float(
            np.mean([r.exam_probability * (1 - r.exam_probability) for r in runs])
        )

    def excess(self, days_before: int, which: str = "forecasts") -> float:
        """mean (f − p)²: how far a forecast is from the exam-day probability
        (its expected Brier score is this plus the floor)."""
        runs = self._runs("both")
        return float(
            np.mean(
                [
                    (getattr(r, which)[days_before] - r.exam_probability) ** 2
                    for r in runs
                ]
            )
        )

    def pass_rate(self, policy: str) -> float:
        return float(np.mean([r.passed for r in self._runs(policy)]))

    def mean_forecast(self, days_before: int, policy: str) -> float:
        return float(np.mean([r.forecasts[days_before] for r in self._runs(policy)]))

    def _runs(self, policy: str) -> list[LearnerRun]:
        return {"plan": self.plan, "stage": self.stage}.get(
            policy, self.plan + self.stage
        )

    def summary(self) -> dict:
        pairs = list(zip(self.plan, self.stage, strict=True))
        out: dict[str, Any] = {
            "learners": self.config.learners,
            "days": self.config.days,
            "daily_size": self.config.daily_size,
            "pass_rate_plan": self.pass_rate("plan"),
            "pass_rate_stage": self.pass_rate("stage"),
            "mean_score_plan": float(np.mean([r.exam_mean for r in self.plan])),
            "mean_score_stage": float(np.mean([r.exam_mean for r in self.stage])),
            # The same learner: passes only with the plan / only with stages.
            "only_plan_passed": sum(p.passed and not s.passed for p, s in pairs),
            "only_stage_passed": sum(s.passed and not p.passed for p, s in pairs),
        }
        # Plan − stage for the same learner, with a 95% confidence interval
        # (normal approximation to the mean of the paired differences).
        for name, values in (
            ("pass", [float(p.passed) - float(s.passed) for p, s in pairs]),
            ("score", [p.exam_mean - s.exam_mean for p, s in pairs]),
        ):
            mean, low, high = paired_interval(values)
            out[f"{name}_diff"] = mean
            out[f"{name}_diff_ci95"] = [low, high]
        # A constant forecast that knew the overall pass rate in advance: the
        # Brier score of knowing nothing about the individual learner.
        rate = float(np.mean([r.passed for r in self.plan + self.stage]))
        out["base_rate_brier"] = rate * (1 - rate)
        out["floor_brier"] = self.floor()
        out["floor_brier_plan"] = self.floor("plan")
        out["floor_brier_stage"] = self.floor("stage")
        out["exam_oracle_brier"] = float(
            np.mean([(r.exam_probability - r.passed) ** 2 for r in self._runs("both")])
        )
        for d in self.config.forecast_days_before:
            out[f"brier_{d}d"] = self.brier(d)
            out[f"naive_brier_{d}d"] = self.naive_brier(d)
            out[f"oracle_brier_{d}d"] = self.oracle_brier(d)
            out[f"forecast_excess_{d}d"] = self.excess(d, "forecasts")
            out[f"oracle_excess_{d}d"] = self.excess(d, "oracle")
            for policy in ("plan", "stage"):
                out[f"brier_{d}d_{policy}"] = self.brier(d, policy)
                out[f"naive_brier_{d}d_{policy}"] = self.naive_brier(d, policy)
                out[f"oracle_brier_{d}d_{policy}"] = self.oracle_brier(d, policy)
        return out


def paired_interval(differences: Sequence[float]) -> tuple[float, float, float]:
    """Mean of paired differences and its 95% confidence interval."""
    arr = np.asarray(differences, dtype=float)
    if arr.size == 0:
        return 0.0, 0.0, 0.0
    mean = float(arr.mean())
    if arr.size < 2:
        return mean, mean, mean
    half = 1.96 * float(arr.std(ddof=1)) / math.sqrt(arr.size)
    return mean, mean - half, mean + half


def draw_learner(rng: random.Random, subjects: Sequence[str]) -> LearnerParams:
    base = rng.uniform(0.25, 0.6)
    return LearnerParams(
        ability={s: min(max(base + rng.gauss(0, 0.1), 0.02), 0.95) for s in subjects},
        memory=math.exp(rng.gauss(0, 0.4)),
        unsure=rng.uniform(0.1, 0.6),
        study_prob=rng.uniform(0.6, 1.0),
    )


class Simulator:
    """One learner under one policy."""

    def __init__(
        self,
        bank: Sequence[BankQuestion],
        spec: PaperSpec,
        params: LearnerParams,
        cfg: Config,
        seed: int,
    ) -> None:
        self.bank = bank
        self.by_id = {q.id: q for q in bank}
        self.by_subject = {
            name: [q for q in bank if q.subject == name] for name, _ in spec.subjects
        }
        self.spec = spec
        self.params = params
        self.cfg = cfg
        self.seed = seed
        # The policy's own choices (which stage-quiz questions) draw from rng;
        # everything about the learner draws common random numbers, the same
        # under both policies: which days they study, which papers they sit,
        # and, for the k-th answer to a question, whether they recall it, press
        # 모르겠음 or guess right. The two policies then differ only by what
        # they make the learner study (a paired comparison).
        self.rng = random.Random(seed)
        self.answers_given: dict[int, int] = {}
        self.truth: dict[int, Card] = {}
        self.seen: dict[int, Observed] = {}
        self.first: dict[str, list[float]] = {s: [0.0, 0] for s, _ in spec.subjects}
        self.fsrs = Scheduler(
            learning_steps=(), relearning_steps=(), enable_fuzzing=False
        )
        self.exam_at = START + timedelta(days=cfg.days)
        self.exam_date = self.exam_at.astimezone(TZ).date()
        self.last_mock: float | None = None
        self.evidence: list[tuple[float, float, bool]] = []
        self.misses = {"wrong": 0, "unsure": 0}
        # Mocks sat: (day, per subject (predicted, right, asked)), the
        # forecast's evidence of how far its model is off (model.Sitting).
        self.sittings: list[tuple[float, list[tuple[float, int, float, int]]]] = []

    # -- the learner answers ------------------------------------------------
    def _true_r(self, qid: int, at: datetime) -> float | None:
        card = self.truth.get(qid)
        if card is None:
            return None
        stability, last_day = card_memory(card)
        elapsed = at.timestamp() / 86400 - last_day
        return float(model.retrievability(stability * self.params.memory, elapsed))

    def answer(
        self, qid: int, at: datetime, *, learn: bool = True, real_exam: bool = False
    ) -> str:
        """What the learner answers; on the real exam (real_exam) there is no
        모르겠음 button, so a question not recalled is always guessed."""
        q = self.by_id[qid]
        r = self._true_r(qid, at)
        if r is None:
            r = self.params.ability[q.subject]
        k = EXAM_ANSWER if real_exam else self.answers_given.get(qid, 0)
        if learn:
            self.answers_given[qid] = k + 1
        recalled = common_uniform(self.seed, qid, k, 0) < r
        if recalled:
            outcome = "correct"
        elif (
            not real_exam and common_uniform(self.seed, qid, k, 1) < self.params.unsure
        ):
            outcome = "unsure"
        else:
            guessed = common_uniform(self.seed, qid, k, 2) < model.GUESS
            outcome = "correct" if guessed else "wrong"
        if learn:
            self._record(q, outcome, recalled, at)
        return outcome

    def _record(
        self, q: BankQuestion, outcome: str, recalled: bool, at: datetime
    ) -> None:
        truth = self.truth.get(q.id) or Card(card_id=q.id)
        self.truth[q.id], _ = self.fsrs.review_card(
            truth, Rating.Good if recalled else Rating.Again, review_datetime=at
        )
        obs = self.seen.get(q.id)
        if obs is None:
            obs = self.seen[q.id] = Observed(first_at=at)
            stats = self.first[q.subject]
            stats[0] += (
                1.0
                if outcome == "correct"
                else (model.GUESS if outcome == "unsure" else 0.0)
            )
            stats[1] += 1
        correct = outcome == "correct"
        if obs.card is not None:
            stability, last_day = card_memory(obs.card)
            self.evidence.append(
                (stability, at.timestamp() / 86400 - last_day, correct)
            )
        if outcome != "correct":
            self.misses[outcome] += 1
        obs.card, _ = self.fsrs.review_card(
            obs.card or Card(card_id=q.id),
            Rating.Good if correct else Rating.Again,
            review_datetime=at,
        )
        if obs.review is not None or not correct:
            # The review queue, as in the app: a miss (marked 학습완료) enters
            # FSRS scheduling, at the exam-date retention.
            days_left = retention.days_to_exam(self.exam_date, at, TZ)
            scheduler = Scheduler(
                desired_retention=retention.exam_retention(0.9, days_left)
                if self.exam_aware
                else 0.9,
                learning_steps=(),
                relearning_steps=(),
                enable_fuzzing=False,
            )
            card = obs.review or Card(card_id=q.id)
            obs.review, _ = scheduler.review_card(
                card, Rating.Good if correct else Rating.Again, review_datetime=at
            )
            obs.due = (
                retention.cap_due(
                    obs.review.due, reviewed_at=at, exam_date=self.exam_date, tz=TZ
                )
                if self.exam_aware
                else obs.review.due
            )
        if obs.last_outcome == "correct" and outcome == "wrong":
            obs.had_correct = True
        obs.last_outcome = outcome

    # -- what the app computes from the answers ----------------------------
    def subject_inputs(
        self, now: datetime | None = None
    ) -> tuple[list[model.SubjectInput], list[list[int]]]:
        inputs, ids = [], []
        for name, n in self.spec.subjects:
            qs = self.by_subject[name]
            rows: list[tuple[float, float | None, float | None]] = []
            for q in qs:
                obs = self.seen.get(q.id)
                if obs is None:
                    rows.append((q.weight, None, None))
                else:
                    rows.append((q.weight, *card_memory(obs.card)))
            c, a = self.first[name]
            pace = self._pace(qs, now) if now else 0.0
            inputs.append(
                model.SubjectInput.build(
                    name, n, rows, c, int(a), pace, sittings=self._sittings(name, now)
                )
            )
            ids.append([q.id for q in qs])
        return inputs, ids

    def _sittings(self, name: str, now: datetime | None) -> list[model.Sitting]:
        if now is None:
            return []
        day = now.timestamp() / 86400
        index = [s for s, _ in self.spec.subjects].index(name)
        return [
            model.Sitting(*results[index], weight=model.sitting_weight(day - when))
            for when, results in self.sittings[-model.SITTING_MAX :]
            if 0 < day - when <= model.SITTING_WINDOW
        ]

    def _predict_sitting(
        self, papers: Sequence[Sequence[BankQuestion]], at: datetime
    ) -> list[tuple[float, int]]:
        """What the model says of each subject's mock questions just before."""
        inputs, ids = self.subject_inputs()
        weights = model.memory_posterior(
            model.MemoryEvidence.build(
                self.evidence,
                model.guess_rate(self.misses["wrong"], self.misses["unsure"]),
            )
        )
        out = []
        for sub, bank_ids, picked in zip(inputs, ids, papers, strict=True):
            where = {qid: i for i, qid in enumerate(bank_ids)}
            index = [where[q.id] for q in picked]
            out.append(
                model.sitting_memory(
                    sub.stability[index],
                    sub.last_review_day[index],
                    at_day=at.timestamp() / 86400,
                    memory=model.memory_mean(weights),
                )
            )
        return out

    def _pace(self, qs: Iterable[BankQuestion], now: datetime) -> float:
        return model.pace(
            [
                self.seen[q.id].first_at.timestamp() / 86400
                for q in qs
                if q.id in self.seen
            ],
            now=now.timestamp() / 86400,
            started=START.timestamp() / 86400,
        )

    def forecast(self, now: datetime) -> model.Forecast:
        inputs, _ = self.subject_inputs(now)
        return model.forecast(
            inputs,
            exam_day=self.exam_at.timestamp() / 86400,
            today=now.timestamp() / 86400,
            evidence=model.MemoryEvidence.build(
                self.evidence,
                model.guess_rate(self.misses["wrong"], self.misses["unsure"]),
            ),
        )

    # -- oracles: what perfect knowledge of the learner would say ----------
    def oracle_forecast(self, now: datetime) -> float:
        """Oracle (a): the forecast's projection (model.point_pass_probability,
        the pace of the last two weeks continuing to the exam) fed with the
        truth: each studied question's true FSRS card with the learner's true
        stability factor, each subject's true chance of knowing an unseen
        question (plus a guess), and no uncertainty draws. Its distance from
        the product's forecast is the cost of estimating the learner; its
        distance from the floor is the cost of the projection."""
        inputs = []
        for name, n in self.spec.subjects:
            qs = self.by_subject[name]
            rows: list[tuple[float, float | None, float | None]] = []
            for q in qs:
                card = self.truth.get(q.id)
                if card is None:
                    rows.append((q.weight, None, None))
                else:
                    stability, last_day = card_memory(card)
                    rows.append((q.weight, stability * self.params.memory, last_day))
            inputs.append(
                model.SubjectInput.build(name, n, rows, pace=self._pace(qs, now))
            )
        accuracies = [
            float(model.p_from_retrievability(self.params.ability[name]))
            for name, _ in self.spec.subjects
        ]
        return model.point_pass_probability(
            inputs,
            exam_day=self.exam_at.timestamp() / 86400,
            today=now.timestamp() / 86400,
            accuracies=accuracies,
        )

    def exam_pass_probability(self, papers: int = ORACLE_PAPERS) -> float:
        """Oracle (b): P(합격) at the exam sitting given the learner's true
        memory of every question then. Only the sitting is random: the paper
        (drawn like Simulator.mock, by weight without replacement; averaged
        over `papers` seeded draws) and, per question, recall with the true
        retrievability or a 1-in-4 guess (Poisson-binomial per paper)."""
        at = self.exam_at
        rng = np.random.default_rng([self.seed, 20261129])  # its own stream
        dists = []
        for name, n in self.spec.subjects:
            qs = self.by_subject[name]
            r = np.array(
                [
                    self.params.ability[name]
                    if (true := self._true_r(q.id, at)) is None
                    else true
                    for q in qs
                ],
                dtype=float,
            )
            p = model.p_from_retrievability(r)
            w = np.array([q.weight for q in qs], dtype=float)
            k = min(n, len(qs))
            keys = rng.random((papers, len(qs))) ** (1.0 / w)
            picked = np.argsort(-keys, axis=1, kind="stable")[:, :k]
            missing = np.zeros(n - k)  # a short bank: the empty slots score 0
            dists.append(
                np.mean(
                    [
                        model.poisson_binomial(np.concatenate([p[row], missing]))
                        for row in picked
                    ],
                    axis=0,
                )
            )
        return model.pass_probability(dists)

    # -- sessions ----------------------------------------------------------
    def mock(self, at: datetime, *, real_exam: bool = False) -> tuple[bool, float]:
        """A paper drawn by the exam spec: a mock in the app (with 모르겠음,
        answers recorded), or the real exam (no 모르겠음, nothing recorded)."""
        scores = []
        papers = [
            weighted_sample(
                random.Random(f"{self.seed}:{at.isoformat()}:{name}"),
                self.by_subject[name],
                n,
            )
            for name, n in self.spec.subjects
        ]
        predicted = None if real_exam else self._predict_sitting(papers, at)
        results = []
        for (_, n), picked in zip(self.spec.subjects, papers, strict=True):
            outcomes = [
                self.answer(q.id, at, learn=not real_exam, real_exam=real_exam)
                for q in picked
            ]
            right = outcomes.count("correct")
            scores.append(100.0 * right / n)
            results.append(right + model.GUESS * outcomes.count("unsure"))
        if predicted is not None:
            self.sittings.append(
                (
                    at.timestamp() / 86400,
                    [
                        (*memo, r, len(picked))
                        for memo, r, picked in zip(
                            predicted, results, papers, strict=True
                        )
                    ],
                )
            )
        mean = sum(scores) / len(scores)
        return passes(subject_scores=scores, average=mean), mean

    def due_ids(self, at: datetime) -> list[int]:
        due = [(o.due, qid) for qid, o in self.seen.items() if o.due and o.due <= at]
        return [qid for _, qid in sorted(due)]

    def plan_day(self, at: datetime) -> list[int]:
        inputs, ids = self.subject_inputs()
        result = daily.daily_plan(
            subjects=inputs,
            ids=ids,
            due_ids=self.due_ids(at + timedelta(hours=4)),
            size=self.cfg.daily_size,
            today=at.timestamp() / 86400,
            exam_day=self.exam_at.timestamp() / 86400,
            seed=self.rng.randrange(1 << 30),
        )
        return result.question_ids

    def stage_day(self, at: datetime, day: int) -> list[int]:
        size = self.cfg.daily_size
        unseen = [q.id for q in self.bank if q.id not in self.seen]
        days_left = self.cfg.days - day
        if days_left <= 14:
            stage = "pre_exam"
        elif len(self.seen) < 0.3 * len(self.bank):
            stage = "intro"
        else:
            stage = "learning"
        buckets = {
            "unattempted": unseen,
            "wrong_or_unsure": [
                qid for qid, o in self.seen.items() if o.last_outcome != "correct"
            ],
            "frequent": [q.id for q in self.bank if q.weight >= 2.0],
            "due_review": self.due_ids(at),
            "regressed": [
                qid
                for qid, o in self.seen.items()
                if o.had_correct and o.last_outcome == "wrong"
            ],
            "random": [q.id for q in self.bank],
        }
        picked: list[int] = []
        chosen: set[int] = set()
        for name, quota in quotas(STAGE_RATIOS[stage], size).items():
            cands = [i for i in buckets[name] if i not in chosen]
            take = self.rng.sample(cands, min(quota, len(cands)))
            picked += take
            chosen.update(take)
        rest = [q.id for q in self.bank if q.id not in chosen]
        picked += self.rng.sample(rest, min(size - len(picked), len(rest)))
        return picked

    def run(self, policy: str) -> LearnerRun:
        self.exam_aware = policy == "plan"
        out = LearnerRun()
        days = random.Random(f"{self.seed}:days")
        for day in range(self.cfg.days):
            at = START + timedelta(days=day)
            days_left = self.cfg.days - day
            if day % self.cfg.mock_every == self.cfg.mock_every - 1:
                _, self.last_mock = self.mock(at)
            elif days.random() < self.params.study_prob:
                ids = self.plan_day(at) if policy == "plan" else self.stage_day(at, day)
                for qid in ids:
                    self.answer(qid, at)
            if days_left in self.cfg.forecast_days_before:
                made = self.forecast(at + timedelta(hours=2))
                out.forecasts[days_left] = made.pass_probability
                out.expected[days_left] = float(
                    np.mean([s.expected_score for s in made.subjects])
                )
                out.naive[days_left] = float(
                    self.last_mock is not None and self.last_mock >= PASS_AVERAGE_MIN
                )
                out.oracle[days_left] = self.oracle_forecast(at + timedelta(hours=2))
        out.exam_probability = self.exam_pass_probability()
        out.passed, out.exam_mean = self.mock(self.exam_at, real_exam=True)
        return out


EXAM_ANSWER = 1 << 20  # the answer index of the exam-day sitting
_MASK = (1 << 64) - 1


def common_uniform(*key: int) -> float:
    """A uniform number in [0, 1) fixed by integer key (splitmix64 hashing):
    the same key gives the same draw under both policies."""
    x = 0
    for part in key:
        x = (x ^ (part & _MASK)) * 0x9E3779B97F4A7C15 & _MASK
        x ^= x >> 30
        x = x * 0xBF58476D1CE4E5B9 & _MASK
        x ^= x >> 27
        x = x * 0x94D049BB133111EB & _MASK
        x ^= x >> 31
    return x / float(1 << 64)


def weighted_sample(
    rng: random.Random, items: Iterable[BankQuestion], n: int
) -> list[BankQuestion]:
    """n distinct items, each draw proportional to weight (Efraimidis–Spirakis)."""
    keyed = sorted(items, key=lambda q: rng.random() ** (1.0 / q.weight), reverse=True)
    return keyed[:n]


def simulate(bank: Sequence[BankQuestion], spec: PaperSpec, cfg: Config) -> Result:
    rng = random.Random(cfg.seed)
    names = [s for s, _ in spec.subjects]
    plan_runs, stage_runs = [], []
    for i in range(cfg.learners):
        params = draw_learner(rng, names)
        seed = cfg.seed * 100_003 + i
        plan_runs.append(Simulator(bank, spec, params, cfg, seed).run("plan"))
        stage_runs.append(Simulator(bank, spec, params, cfg, seed).run("stage"))
    return Result(config=cfg, plan=plan_runs, stage=stage_runs)


def bank_from_rows(rows: Sequence[Row]) -> list[BankQuestion]:
    """Parsed import rows → a bank; repeats are the same stem in other rounds."""

    def norm(text: str) -> str:
        return re.sub(r"\W", "", text)

    rounds: dict[str, set] = {}
    for r in rows:
        rounds.setdefault(norm(r.stem), set()).add((r.year, r.session))
    return [
        BankQuestion(
            id=i,
            subject=r.subject,
            weight=model.recurrence_weight(len(rounds[norm(r.stem)])),
        )
        for i, r in enumerate(rows, start=1)
        if not r.needs_figure
    ]
