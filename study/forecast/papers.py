"""How much of a real paper is new: per subject, the share of a round's
questions that no earlier round of the bank had asked.

A real exam is not drawn from the bank: part of every round is questions never
asked before. From the bank's own rounds (in the order they were held) each
question is *new* when no earlier round asked it (the repeat analysis: a
REPEAT of it in an earlier round, or in files the same stem). The share of new
questions in the most recent rounds — the rounds that had the whole history
before them, as the next real paper will — is the estimate, per subject, as a
Beta posterior: each subject is pulled towards the topic's share (over all
subjects), and that towards PRIOR_SHARE when the bank has no round with an
earlier one (a single round, or relations not computed yet).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

RECENT_ROUNDS = 5  # the last rounds the share is measured on
PRIOR_SHARE = 0.5  # nothing measured yet: half the paper new, very uncertain
PRIOR_STRENGTH = 2.0
SUBJECT_STRENGTH = 10.0  # pseudo-questions pulling a subject to the topic share


@dataclass(frozen=True)
class NewShare:
    """Beta(alpha, beta) of the share of new questions on a subject's paper,
    with what it was measured on (new of asked questions, over rounds)."""

    alpha: float
    beta: float
    new: int = 0
    asked: int = 0
    rounds: int = 0

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)

    @property
    def measured(self) -> bool:
        return self.asked > 0


NO_NEW_QUESTIONS = NewShare(alpha=0.0, beta=1.0)  # a paper drawn from the bank


def new_shares(
    questions: Iterable[tuple[str, Any, bool]],
    subjects: Sequence[str],
    *,
    recent: int = RECENT_ROUNDS,
) -> dict[str, NewShare]:
    """questions: (subject, round order key, is new) for every question with a
    round. The first round has nothing before it and is not counted; of the
    others, the last `recent` are."""
    rows = list(questions)
    order = sorted({key for _, key, _ in rows})
    counted = set(order[1:][-recent:]) if recent > 0 else set()
    tally = {name: [0, 0] for name in subjects}
    for subject, key, is_new in rows:
        if key in counted and subject in tally:
            tally[subject][0] += bool(is_new)
            tally[subject][1] += 1
    total_new = sum(n for n, _ in tally.values())
    total = sum(a for _, a in tally.values())
    topic_share = (total_new + PRIOR_SHARE * PRIOR_STRENGTH) / (total + PRIOR_STRENGTH)
    return {
        name: NewShare(
            alpha=topic_share * SUBJECT_STRENGTH + new,
            beta=(1 - topic_share) * SUBJECT_STRENGTH + (asked - new),
            new=new,
            asked=asked,
            rounds=len(counted),
        )
        for name, (new, asked) in tally.items()
    }
