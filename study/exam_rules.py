"""The rules of the exam and of the quiz stages, pure: no database, no request.

The pass rule of 기사 written exams lives here and nowhere else: every subject
at least PASS_SUBJECT_MIN points and the mean at least PASS_AVERAGE_MIN. The
stage ratios (the seeds' "intro: unattempted 55, wrong_or_unsure 30, frequent
15") and the largest-remainder split of a quiz's size among them are read by
quiz selection and by the forecast's simulated learners alike.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

PASS_SUBJECT_MIN = 40
PASS_AVERAGE_MIN = 60
PASS_RULE_TEXT = format_lazy(
    gettext_lazy(
        "합격 기준: 모든 과목 {subject_min}점 이상, 평균 {average_min}점 이상"
    ),
    subject_min=PASS_SUBJECT_MIN,
    average_min=PASS_AVERAGE_MIN,
)


def passes(*, subject_scores: Sequence[float], average: float) -> bool:
    """The pass rule on 100-point scores: every subject and the mean."""
    return (
        bool(subject_scores)
        and min(subject_scores) >= PASS_SUBJECT_MIN
        and average >= PASS_AVERAGE_MIN
    )


STAGE_RATIOS: dict[str, dict[str, int]] = {
    "intro": {"unattempted": 55, "wrong_or_unsure": 30, "frequent": 15},
    "learning": {
        "due_review": 20,
        "wrong_or_unsure": 40,
        "unattempted": 30,
        "frequent": 10,
    },
    "pre_exam": {
        "due_review": 20,
        "wrong_or_unsure": 30,
        "regressed": 10,
        "frequent": 20,
        "random": 20,
    },
}


def quotas(ratios: dict[str, int], size: int) -> dict[str, int]:
    """Split size by the ratios (largest remainder), summing exactly to size."""
    total = sum(ratios.values())
    exact = {name: size * share / total for name, share in ratios.items()}
    result = {name: int(value) for name, value in exact.items()}
    leftover = size - sum(result.values())
    by_remainder = sorted(exact, key=lambda n: exact[n] - result[n], reverse=True)
    for name in by_remainder[:leftover]:
        result[name] += 1
    return result
