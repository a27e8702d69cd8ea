"""The exam-date rule for spaced repetition (py-fsrs stays the scheduler).

With an exam date set for a topic, each review of that topic's questions is
scheduled by py-fsrs with a desired retention that rises as the date nears:

    days to the exam  ≥ 60 : the learner's own setting (default 0.90)
    days to the exam  ≤ 7  : 0.95 (or the learner's setting when higher)
    in between             : linear between the two

and no review is planned after the exam: when py-fsrs puts the next review
after the exam day, it is moved to the day before the exam (a last look),
unless that day has already passed. Without an exam date, or once it has
passed, scheduling is plain py-fsrs at the learner's setting.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

FAR_DAYS = 60
NEAR_DAYS = 7
EXAM_RETENTION = 0.95
EXAM_HOUR = 9  # the written exam starts in the morning, local time


def days_to_exam(exam_date: date, at: datetime, tz: ZoneInfo) -> float:
    return (exam_start(exam_date, tz) - at).total_seconds() / 86400.0


def exam_start(exam_date: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(exam_date, time(EXAM_HOUR), tzinfo=tz)


def exam_retention(base: float, days_left: float | None) -> float:
    """Desired retention for a review made days_left before the exam."""
    if days_left is None or days_left < 0:
        return base
    top = max(base, EXAM_RETENTION)
    if days_left >= FAR_DAYS:
        return base
    if days_left <= NEAR_DAYS:
        return top
    share = (FAR_DAYS - days_left) / (FAR_DAYS - NEAR_DAYS)
    return round(base + (top - base) * share, 4)


def cap_due(
    due: datetime, *, reviewed_at: datetime, exam_date: date | None, tz: ZoneInfo
) -> datetime:
    """Move a review planned after the exam to the eve of the exam."""
    if exam_date is None:
        return due
    start = exam_start(exam_date, tz)
    if reviewed_at >= start or due < start:
        return due
    eve = datetime.combine(exam_date - timedelta(days=1), time(0), tzinfo=tz)
    return eve if eve > reviewed_at else due
