"""오늘 할 일: due reviews first, then the new questions that raise P(합격) most.

Which due reviews make the plan, and how many places are left for new
questions, is decided on one scale: how much each would raise P(합격) on the
exam day. Studying a question — a review or a new one — is assumed to bring
it to LEARNED_RETENTION on the exam day (the exam-date rule keeps reviewing
it), so a review is worth the gap between that and what the learner will
still remember of it by then, and a new question the gap from their accuracy
on unseen questions of its subject; each gap counts with the question's
recurrence weight and how much its subject's mean moves P(합격) (a subject
near 과락 moves it most). The best `size` of the due reviews and the subjects'
next new questions are taken; a review the learner will still know on the
exam day waits while there are questions they have never seen.

New questions are picked a batch at a time. For each subject the candidate is its
unseen question with the highest recurrence weight; learning it is assumed to
bring it to LEARNED_RETENTION on the exam day (the exam-date rule keeps
reviewing it). The pick goes to the subject where that raises P(합격) most;
when no pick moves P(합격) (it is ~0 or ~1), the weakest subject by expected
score goes first — which is also where a subject near 40 points sits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from study.forecast import model

LEARNED_RETENTION = 0.9
PICK_ROUNDS = 10
MIN_GAIN = 1e-9
# A subject's mean P(right) is nudged by this much to see how it moves
# P(합격); EXPECTED_SCORE_WEIGHT keeps the expected score counting where
# P(합격) hardly moves (it is ~0 or ~1).
NUDGE = 0.01
EXPECTED_SCORE_WEIGHT = 0.01


@dataclass
class Plan:
    reviews: list[int] = field(default_factory=list)
    misses: list[int] = field(default_factory=list)  # unreviewed misses taken
    new: list[int] = field(default_factory=list)
    new_by_subject: dict[str, int] = field(default_factory=dict)
    pass_before: float = 0.0
    pass_after: float = 0.0
    deferred: int = 0  # due reviews left for later (known on the exam day)
    misses_left: int = 0  # unreviewed misses new questions were worth more than
    unseen_left: int = 0  # questions never seen, after today's

    @property
    def question_ids(self) -> list[int]:
        return self.reviews + self.misses + self.new

    @property
    def size(self) -> int:
        return len(self.reviews) + len(self.misses) + len(self.new)


def learned_stability(days_to_exam: float) -> float:
    """Stability that leaves LEARNED_RETENTION after days_to_exam days."""
    t = max(days_to_exam, 1.0)
    return model.FSRS_FACTOR * t / (LEARNED_RETENTION ** (-1 / model.FSRS_DECAY) - 1)


def _learn(
    subject: model.SubjectInput, index: int, today: float, stability: float
) -> model.SubjectInput:
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
    miss_ids: Sequence[int] = (),
) -> Plan:
    """ids[s][i] is the question id of subjects[s]'s i-th bank question.

    due_ids are the reviews due today, most urgent first; miss_ids the wrong
    and 모르겠음 answers not yet reviewed (not in the review queue yet), most
    recent first, weighed like due reviews; seed fixes the order among
    equally weighted new questions (a day's plan is the same on reload).
    """
    subjects = list(subjects)
    posteriors = model.unseen_posteriors(subjects)
    accs = [a / (a + b) for a, b in posteriors]
    shifts = [
        model.shift_mean(sub.sittings, acc)
        for sub, acc in zip(subjects, accs, strict=True)
    ]

    def dist(s: int) -> np.ndarray:
        sub = subjects[s]
        p = model.question_probabilities(
            sub, exam_day=exam_day, unseen_accuracy=accs[s]
        )
        return model.poisson_binomial(
            model.paper_probabilities(
                p,
                sub.weights,
                sub.questions,
                new_share=sub.new_share.mean,
                new_p=accs[s],
                shift=shifts[s],
            )
        )

    dists = [dist(s) for s in range(len(subjects))]
    plan = Plan()
    plan.pass_before = plan.pass_after = model.pass_probability(dists)
    due = set(due_ids)
    misses = [qid for qid in dict.fromkeys(miss_ids) if qid not in due]
    reviews = _reviews_worth_it(
        subjects, ids, [*due_ids, *misses], dists, accs, size=size, exam_day=exam_day
    )
    plan.reviews = [qid for qid in due_ids if qid in reviews]
    plan.misses = [qid for qid in misses if qid in reviews]
    plan.deferred = len(due_ids) - len(plan.reviews)
    plan.misses_left = len(misses) - len(plan.misses)
    rng = np.random.default_rng(seed)
    queues: list[list[int]] = []
    for sub in subjects:
        unseen = np.flatnonzero(~sub.studied)
        shuffled = unseen[rng.permutation(unseen.size)]
        order = np.argsort(-sub.weights[shuffled], kind="stable")
        queues.append([int(i) for i in shuffled[order]])
    stability = learned_stability(exam_day - today)
    current = plan.pass_after
    remaining = max(size - len(plan.reviews) - len(plan.misses), 0)
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
    plan.unseen_left = sum(len(queue) for queue in queues)
    return plan


def _subject_values(dists: list[np.ndarray]) -> list[float]:
    """How much P(합격) rises per unit of each subject's mean P(right) (plus a
    little for the expected score, so that gains still rank when P(합격) is
    ~0 or ~1)."""
    base = model.pass_probability(dists)
    values = []
    for s, d in enumerate(dists):
        n = len(d) - 1
        mean = _expected(d)
        nudged = model.poisson_binomial(np.full(n, min(mean + NUDGE, 1.0)))
        moved = model.pass_probability([*dists[:s], nudged, *dists[s + 1 :]])
        values.append(max(moved - base, 0.0) / NUDGE + EXPECTED_SCORE_WEIGHT)
    return values


def _reviews_worth_it(
    subjects: Sequence[model.SubjectInput],
    ids: Sequence[Sequence[int]],
    due_ids: Sequence[int],
    dists: list[np.ndarray],
    accs: Sequence[float],
    *,
    size: int,
    exam_day: float,
) -> set[int]:
    """The due reviews among the `size` best uses of the plan's places."""
    if not due_ids or size <= 0:
        return set()
    values = _subject_values(dists)
    learned = float(model.p_from_retrievability(LEARNED_RETENTION))
    where = {
        int(qid): (s, i) for s, bank in enumerate(ids) for i, qid in enumerate(bank)
    }
    gains: list[tuple[float, int, int]] = []  # (gain, kind: 0 review 1 new, id)
    for qid in due_ids:
        if int(qid) not in where:  # not on the paper's subjects: plain review
            gains.append((learned - model.GUESS, 0, int(qid)))
            continue
        s, i = where[int(qid)]
        sub = subjects[s]
        remembered = float(
            model.p_from_retrievability(
                model.retrievability(
                    sub.stability[i], exam_day - sub.last_review_day[i]
                )
            )
        )
        if np.isnan(remembered):  # due but never answered: a new question
            remembered = max(accs[s], model.GUESS)
        share = (1 - sub.new_share.mean) * sub.weights[i] / max(sub.weights.sum(), 1e-9)
        gains.append((values[s] * share * max(learned - remembered, 0.0), 0, int(qid)))
    for s, sub in enumerate(subjects):
        unseen = np.flatnonzero(~sub.studied)
        if not unseen.size:
            continue
        top = unseen[np.argsort(-sub.weights[unseen], kind="stable")[:size]]
        gap = max(learned - max(accs[s], model.GUESS), 0.0)
        # A bank question fills only the slots that are not new questions.
        total = max(sub.weights.sum(), 1e-9) / max(1 - sub.new_share.mean, 1e-9)
        gains += [(values[s] * sub.weights[i] / total * gap, 1, -1) for i in top]
    gains.sort(key=lambda g: (-g[0], g[1]))
    return {qid for _, kind, qid in gains[:size] if kind == 0}
