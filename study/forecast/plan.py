"""오늘 할 일: due reviews first, then the new questions that raise P(합격) most.

New questions are picked one at a time. For each subject the candidate is its
unseen question with the highest recurrence weight; learning it is assumed to
bring it to LEARNED_RETENTION on the exam day (the exam-date rule keeps
reviewing it). The pick goes to the subject where that raises P(합격) most;
when no pick moves P(합격) (it is ~0 or ~1), the weakest subject by expected
score goes first — which is also where a subject near 40 points sits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from study.forecast import model

LEARNED_RETENTION = 0.9
PICK_ROUNDS = 10
# While unseen questions remain, reviews fill at most this share of the plan
# (the most overdue first; the rest stay due): a backlog of reviews must not
# stop the learner from ever meeting most of the bank.
REVIEW_SHARE = 0.6
MIN_GAIN = 1e-9


@dataclass
class Plan:
    reviews: list[int] = field(default_factory=list)
    new: list[int] = field(default_factory=list)
    new_by_subject: dict[str, int] = field(default_factory=dict)
    pass_before: float = 0.0
    pass_after: float = 0.0

    @property
    def question_ids(self) -> list[int]:
        return self.reviews + self.new

    @property
    def size(self) -> int:
        return len(self.reviews) + len(self.new)


def learned_stability(days_to_exam: float) -> float:
    """Stability that leaves LEARNED_RETENTION after days_to_exam days."""
    t = max(days_to_exam, 1.0)
    return model.FSRS_FACTOR * t / (LEARNED_RETENTION ** (-1 / model.FSRS_DECAY) - 1)


def _learn(subject: model.SubjectInput, index: int, today: float, stability: float):
    stab = subject.stability.copy()
    last = subject.last_review_day.copy()
    stab[index], last[index] = stability, today
    return replace(subject, stability=stab, last_review_day=last)


def _expected(dist: np.ndarray) -> float:
    n = len(dist) - 1
    return float((dist * np.arange(n + 1)).sum() / n) if n else 0.0


def daily_plan(
    *,
    subjects: Sequence[model.SubjectInput],
    ids: Sequence[Sequence[int]],
    due_ids: Sequence[int],
    size: int,
    today: float,
    exam_day: float,
    seed: int = 0,
) -> Plan:
    """ids[s][i] is the question id of subjects[s]'s i-th bank question.

    due_ids are the reviews due today, most urgent first; seed fixes the order
    among equally weighted new questions (a day's plan is the same on reload).
    """
    unseen_left = sum(int((~sub.studied).sum()) for sub in subjects)
    review_cap = size if not unseen_left else math.ceil(size * REVIEW_SHARE)
    plan = Plan(reviews=list(due_ids[: min(size, review_cap)]))
    posteriors = model.unseen_posteriors(subjects)
    accs = [a / (a + b) for a, b in posteriors]
    subjects = list(subjects)

    def dist(s: int) -> np.ndarray:
        sub = subjects[s]
        p = model.question_probabilities(
            sub, exam_day=exam_day, unseen_accuracy=accs[s]
        )
        return model.poisson_binomial(
            model.paper_probabilities(p, sub.weights, sub.questions)
        )

    dists = [dist(s) for s in range(len(subjects))]
    plan.pass_before = plan.pass_after = model.pass_probability(dists)
    rng = np.random.default_rng(seed)
    queues: list[list[int]] = []
    for sub in subjects:
        unseen = np.flatnonzero(~sub.studied)
        shuffled = unseen[rng.permutation(unseen.size)]
        order = np.argsort(-sub.weights[shuffled], kind="stable")
        queues.append([int(i) for i in shuffled[order]])
    stability = learned_stability(exam_day - today)
    current = plan.pass_after
    remaining = max(size - len(plan.reviews), 0)
    # Picks go in up to PICK_ROUNDS batches so a 200-question plan stays fast.
    batch = max(1, -(-remaining // PICK_ROUNDS))
    while remaining > 0:
        best = None
        take = min(batch, remaining)
        for s, queue in enumerate(queues):
            if not queue:
                continue
            trial_subject = subjects[s]
            for index in queue[:take]:
                trial_subject = _learn(trial_subject, index, today, stability)
            saved, subjects[s] = subjects[s], trial_subject
            trial = dist(s)
            subjects[s] = saved
            gain = model.pass_probability([*dists[:s], trial, *dists[s + 1 :]])
            gain -= current
            weakest = -_expected(dists[s])
            key = (gain if gain > MIN_GAIN else 0.0, weakest)
            if best is None or key > best[0]:
                best = (key, s, trial_subject, trial)
        if best is None:
            break
        _, s, subjects[s], dists[s] = best
        picked, queues[s] = queues[s][:take], queues[s][take:]
        plan.new += [int(ids[s][i]) for i in picked]
        name = subjects[s].name
        plan.new_by_subject[name] = plan.new_by_subject.get(name, 0) + len(picked)
        remaining -= len(picked)
        current = model.pass_probability(dists)
    plan.pass_after = current
    return plan
