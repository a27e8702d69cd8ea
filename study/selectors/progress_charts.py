"""Figures for the topic overview page."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import Count, Q

from study.models import Attempt, Outcome, Topic
from study.selectors.exam_spec import topic_subject_names
from study.subjects import subject_label


@dataclass(frozen=True)
class SubjectAccuracy:
    subject: str
    correct: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.correct / self.total) if self.total else 0


def subject_accuracy(*, user: User, topic: Topic) -> list[SubjectAccuracy]:
    rows = (
        Attempt.objects.filter(user=user, question__topic=topic)
        .values("question__subject")
        .annotate(
            total=Count("id"), correct=Count("id", filter=Q(outcome=Outcome.CORRECT))
        )
        .order_by("question__subject")
    )
    order = {name: i for i, name in enumerate(topic_subject_names(topic=topic))}
    found = [
        SubjectAccuracy(subject_label(r["question__subject"]), r["correct"], r["total"])
        for r in rows
    ]
    return sorted(found, key=lambda a: (order.get(a.subject, len(order)), a.subject))
