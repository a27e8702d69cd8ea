"""A topic's exam paper (subjects in order, questions per subject, time) and
how much of it the question bank can fill. Shared by the mock exam, the start
form and anything that plans against the real exam."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.db.models import Count

from study.models import ExamSpec, Question, Topic
from study.models.exam_spec import DEFAULT_MINUTES_PER_SUBJECT, DEFAULT_PER_SUBJECT
from study.selectors.quiz_selection import topic_subject_names


@dataclass(frozen=True)
class ExamPaper:
    subjects: tuple[str, ...]
    per_subject: int
    minutes: int
    # False when the owner has not set a spec and it was derived from the bank.
    is_set: bool

    @property
    def total(self) -> int:
        return len(self.subjects) * self.per_subject

    def minutes_for(self, per_subject: int) -> int:
        """Time for a paper of per_subject questions a subject (pro rata, ≥ 1)."""
        return max(1, math.ceil(self.minutes * per_subject / self.per_subject))


@dataclass(frozen=True)
class PaperFill:
    """How many quizzable questions each subject of the paper has."""

    paper: ExamPaper
    available: dict[str, int]

    @property
    def largest(self) -> int:
        """The largest per-subject size every subject can fill."""
        return min(self.available.values(), default=0)

    @property
    def short_subjects(self) -> list[tuple[str, int]]:
        return [
            (name, n)
            for name, n in self.available.items()
            if n < self.paper.per_subject
        ]

    @property
    def fills_spec(self) -> bool:
        return bool(self.available) and self.largest >= self.paper.per_subject

    @property
    def default_size(self) -> int:
        """What the form offers: the spec when it fits, else the largest fill."""
        return min(self.paper.per_subject, self.largest)


def exam_paper_for_topic(*, topic: Topic) -> ExamPaper:
    spec = ExamSpec.objects.filter(topic=topic).first()
    if spec is not None and spec.subjects:
        return ExamPaper(
            subjects=tuple(spec.subjects),
            per_subject=spec.questions_per_subject,
            minutes=spec.minutes,
            is_set=True,
        )
    subjects = tuple(topic_subject_names(topic=topic))
    return ExamPaper(
        subjects=subjects,
        per_subject=DEFAULT_PER_SUBJECT,
        minutes=DEFAULT_MINUTES_PER_SUBJECT * max(1, len(subjects)),
        is_set=False,
    )


def paper_fill(*, topic: Topic, paper: ExamPaper) -> PaperFill:
    rows = (
        Question.objects.quizzable()
        .filter(topic=topic, subject__in=paper.subjects)
        .values("subject")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = {r["subject"]: r["n"] for r in rows}
    return PaperFill(paper, {name: counts.get(name, 0) for name in paper.subjects})
