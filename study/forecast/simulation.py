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
policies, with the same random draws where possible: the daily plan
(오늘 할 일) and stage quizzes alone (단계별, the seeds' bucket ratios). Both
sit a mock drawn by the exam spec every week; on the exam day they sit one
more, and that is the outcome the forecasts made 28 and 7 days before are
scored against (Brier), next to the naive rule "last mock's mean ≥ PASS_AVERAGE_MIN".
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
from fsrs import Card, Rating, Scheduler

from study.forecast import model, retention
from study.forecast import plan as daily
from study.selectors.quiz_selection import STAGE_RATIOS, quotas
from study.selectors.scores import PASS_AVERAGE_MIN, passes

START = datetime(2026, 1, 5, 20, 0, tzinfo=UTC)  # the learners study at night
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


@dataclass
class Observed:
    """What the app knows about one question of one learner."""

    card: Card | None = None  # replay of all answers (forecast memory)
    review: Card | None = None  # the review-queue card (after a miss)
    due: datetime | None = None
    last_outcome: str = ""
    had_correct: bool = False
    first_at: datetime | None = None


@dataclass
class LearnerRun:
    passed: bool = False
    forecasts: dict[int, float] = field(default_factory=dict)
    naive: dict[int, float] = field(default_factory=dict)
    exam_mean: float = 0.0


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
        out = {
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
        for d in self.config.forecast_days_before:
            out[f"brier_{d}d"] = self.brier(d)
            out[f"naive_brier_{d}d"] = self.naive_brier(d)
            for policy in ("plan", "stage"):
                out[f"brier_{d}d_{policy}"] = self.brier(d, policy)
                out[f"naive_brier_{d}d_{policy}"] = self.naive_brier(d, policy)
        return out


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

    def __init__(self, bank, spec: PaperSpec, params: LearnerParams, cfg, seed):
        self.bank = bank
        self.by_id = {q.id: q for q in bank}
        self.spec = spec
        self.params = params
        self.cfg = cfg
        self.rng = random.Random(seed)
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

    # -- the learner answers ------------------------------------------------
    def _true_r(self, qid: int, at: datetime) -> float | None:
        card = self.truth.get(qid)
        if card is None:
            return None
        elapsed = (at - card.last_review).total_seconds() / 86400
        return float(model.retrievability(card.stability * self.params.memory, elapsed))

    def answer(self, qid: int, at: datetime, *, learn: bool = True) -> str:
        q = self.by_id[qid]
        r = self._true_r(qid, at)
        if r is None:
            r = self.params.ability[q.subject]
        recalled = self.rng.random() < r
        if recalled:
            outcome = "correct"
        elif self.rng.random() < self.params.unsure:
            outcome = "unsure"
        else:
            outcome = "correct" if self.rng.random() < model.GUESS else "wrong"
        if learn:
            self._record(q, outcome, recalled, at)
        return outcome

    def _record(self, q: BankQuestion, outcome: str, recalled: bool, at) -> None:
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
            elapsed = (at - obs.card.last_review).total_seconds() / 86400
            self.evidence.append((obs.card.stability, elapsed, correct))
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
    def subject_inputs(self, now: datetime | None = None):
        inputs, ids = [], []
        for name, n in self.spec.subjects:
            qs = [q for q in self.bank if q.subject == name]
            rows = []
            for q in qs:
                obs = self.seen.get(q.id)
                if obs is None:
                    rows.append((q.weight, None, None))
                else:
                    rows.append(
                        (
                            q.weight,
                            float(obs.card.stability),
                            obs.card.last_review.timestamp() / 86400,
                        )
                    )
            c, a = self.first[name]
            pace = (
                model.pace(
                    [
                        self.seen[q.id].first_at.timestamp() / 86400
                        for q in qs
                        if q.id in self.seen
                    ],
                    now=now.timestamp() / 86400,
                    started=START.timestamp() / 86400,
                )
                if now
                else 0.0
            )
            inputs.append(model.SubjectInput.build(name, n, rows, c, int(a), pace))
            ids.append([q.id for q in qs])
        return inputs, ids

    def forecast(self, now: datetime) -> float:
        inputs, _ = self.subject_inputs(now)
        return model.forecast(
            inputs,
            exam_day=self.exam_at.timestamp() / 86400,
            today=now.timestamp() / 86400,
            evidence=model.MemoryEvidence.build(
                self.evidence,
                model.guess_rate(self.misses["wrong"], self.misses["unsure"]),
            ),
        ).pass_probability

    # -- sessions ----------------------------------------------------------
    def mock(self, at: datetime, *, learn: bool = True) -> tuple[bool, float]:
        scores = []
        for name, n in self.spec.subjects:
            qs = [q for q in self.bank if q.subject == name]
            picked = weighted_sample(self.rng, qs, n)
            right = sum(self.answer(q.id, at, learn=learn) == "correct" for q in picked)
            scores.append(100.0 * right / n)
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
        for day in range(self.cfg.days):
            at = START + timedelta(days=day)
            days_left = self.cfg.days - day
            if day % self.cfg.mock_every == self.cfg.mock_every - 1:
                _, self.last_mock = self.mock(at)
            elif self.rng.random() < self.params.study_prob:
                ids = self.plan_day(at) if policy == "plan" else self.stage_day(at, day)
                for qid in ids:
                    self.answer(qid, at)
            if days_left in self.cfg.forecast_days_before:
                out.forecasts[days_left] = self.forecast(at + timedelta(hours=2))
                out.naive[days_left] = float(
                    self.last_mock is not None and self.last_mock >= PASS_AVERAGE_MIN
                )
        out.passed, out.exam_mean = self.mock(self.exam_at, learn=False)
        return out


def weighted_sample(rng: random.Random, items, n: int):
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


def bank_from_rows(rows) -> list[BankQuestion]:
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
