"""FSRS scheduling (py-fsrs) with day-level intervals for exam preparation."""

from __future__ import annotations

from datetime import datetime

from fsrs import Card, Rating, Scheduler

from study.models import LearnerSettings, Outcome

DEFAULT_RETENTION = 0.9


def scheduler_for(desired_retention: float) -> Scheduler:
    # No minute-level learning steps: every review lands on a day.
    return Scheduler(
        desired_retention=desired_retention,
        learning_steps=(),
        relearning_steps=(),
        enable_fuzzing=False,
    )


def desired_retention_for(user_id: int) -> float:
    value = (
        LearnerSettings.objects.filter(user_id=user_id)
        .values_list("desired_retention", flat=True)
        .first()
    )
    return value or DEFAULT_RETENTION


def rating_for(outcome: str) -> Rating:
    return Rating.Good if outcome == Outcome.CORRECT else Rating.Again


def card_start(*, scheduler: Scheduler, at: datetime) -> Card:
    """A wrong/unsure question enters scheduling: its first review is a failure."""
    card, _ = scheduler.review_card(Card(), Rating.Again, review_datetime=at)
    return card


def card_review(
    *, scheduler: Scheduler, card_data: dict, outcome: str, at: datetime
) -> Card:
    card = Card.from_dict(card_data)
    if card.last_review and at < card.last_review:
        at = card.last_review
    card, _ = scheduler.review_card(card, rating_for(outcome), review_datetime=at)
    return card
