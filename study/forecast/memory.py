"""A learner's memory of each question: their answers replayed through FSRS.

Only wrong and 모르겠음 answers that were reviewed get a stored FSRS card (the
review queue); for the forecast every answered question needs a memory state,
so the learner's answers to it are replayed through py-fsrs with the default
parameters: correct → Good, wrong or 모르겠음 → Again (as in scheduling).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from fsrs import Card, Rating, Scheduler

SECONDS_PER_DAY = 86400.0
_SCHEDULER = Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)


def day_number(at: datetime) -> float:
    """Days since the epoch: the one clock the forecast model uses."""
    return at.timestamp() / SECONDS_PER_DAY


@dataclass(frozen=True)
class MemoryState:
    stability: float
    last_review_day: float
    answers: int


def replay(
    answers: Iterable[tuple[datetime, bool]], evidence: list | None = None
) -> MemoryState | None:
    """(answered at, correct) in time order → the FSRS memory state after them.

    evidence, when given, receives (stability before, days since the previous
    answer, correct) for every answer after the first.
    """
    card = Card(card_id=1)  # an explicit id: Card() sleeps to make one
    count = 0
    last = None
    for at, correct in answers:
        if last is not None and at < last:
            at = last
        if evidence is not None and last is not None:
            elapsed = (at - last).total_seconds() / SECONDS_PER_DAY
            evidence.append((_stability(card), elapsed, bool(correct)))
        card, _ = _SCHEDULER.review_card(
            card, Rating.Good if correct else Rating.Again, review_datetime=at
        )
        last = at
        count += 1
    if not count or last is None:
        return None
    return MemoryState(
        stability=_stability(card),
        last_review_day=day_number(last),
        answers=count,
    )


def _stability(card: Card) -> float:
    """A reviewed card's stability (FSRS sets it at the first review)."""
    if card.stability is None:
        raise ValueError("the card has not been reviewed")
    return float(card.stability)


def replay_many(
    rows: Iterable[tuple[int, datetime, bool]], evidence: list | None = None
) -> dict[int, MemoryState]:
    """(question id, at, correct) sorted by question then time → states by id."""
    states: dict[int, MemoryState] = {}
    current: int | None = None
    batch: list[tuple[datetime, bool]] = []
    for qid, at, correct in rows:
        if current is not None and qid != current and batch:
            _put(states, current, replay(batch, evidence))
            batch = []
        current = qid
        batch.append((at, correct))
    if current is not None and batch:
        _put(states, current, replay(batch, evidence))
    return states


def _put(states: dict[int, MemoryState], qid: int, state: MemoryState | None) -> None:
    if state is not None:
        states[qid] = state


def utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def replay_steps(
    answers: Iterable[tuple[datetime, bool]], evidence: list | None = None
) -> list[MemoryState]:
    """The memory state after each answer, in time order. evidence, when
    given, receives (stability before, days since the previous answer,
    correct, day of the answer) for every answer after the first."""
    card = Card(card_id=1)
    steps: list[MemoryState] = []
    last = None
    for at, correct in answers:
        if last is not None and at < last:
            at = last
        if evidence is not None and last is not None:
            elapsed = (at - last).total_seconds() / SECONDS_PER_DAY
            evidence.append((_stability(card), elapsed, bool(correct), day_number(at)))
        card, _ = _SCHEDULER.review_card(
            card, Rating.Good if correct else Rating.Again, review_datetime=at
        )
        last = at
        steps.append(
            MemoryState(
                stability=_stability(card),
                last_review_day=day_number(at),
                answers=len(steps) + 1,
            )
        )
    return steps


def replay_history(
    rows: Iterable[tuple[int, datetime, bool]], evidence: list | None = None
) -> dict[int, list[MemoryState]]:
    """(question id, at, correct) sorted by question then time → every
    question's states after each answer (for the state at any past moment)."""
    history: dict[int, list[MemoryState]] = {}
    current = 0
    batch: list[tuple[datetime, bool]] = []
    for qid, at, correct in rows:
        if qid != current and batch:
            history[current] = replay_steps(batch, evidence)
            batch = []
        current = qid
        batch.append((at, correct))
    if batch:
        history[current] = replay_steps(batch, evidence)
    return history


def state_before(steps: Sequence[MemoryState], day: float) -> MemoryState | None:
    """The memory state after the last answer before `day` (None: not yet)."""
    index = bisect.bisect_left([s.last_review_day for s in steps], day)
    return steps[index - 1] if index else None
