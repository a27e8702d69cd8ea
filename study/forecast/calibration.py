"""Calibration: do the learner's chosen answers deserve their confidence?

For each subject, and for each week: how often an answer the learner chose
(not 모르겠음) was right, how often they chose 모르겠음, and how they did on
questions they had answered 모르겠음 before. A plain Korean line per subject
says what it means.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.utils.translation import gettext, ngettext

from study.subjects import subject_key

CORRECT, WRONG, UNSURE = "correct", "wrong", "unsure"
MIN_ANSWERS = 10  # fewer answers than this: no verdict, only the counts


@dataclass
class Tally:
    correct: int = 0
    wrong: int = 0
    unsure: int = 0
    after_unsure_total: int = 0
    after_unsure_correct: int = 0

    @property
    def total(self) -> int:
        return self.correct + self.wrong + self.unsure

    @property
    def given(self) -> int:
        return self.correct + self.wrong

    @property
    def given_accuracy(self) -> float | None:
        return self.correct / self.given if self.given else None

    @property
    def unsure_rate(self) -> float | None:
        return self.unsure / self.total if self.total else None

    @property
    def after_unsure_accuracy(self) -> float | None:
        if not self.after_unsure_total:
            return None
        return self.after_unsure_correct / self.after_unsure_total

    def add(self, outcome: str, after_unsure: bool) -> None:
        if outcome == CORRECT:
            self.correct += 1
        elif outcome == WRONG:
            self.wrong += 1
        else:
            self.unsure += 1
        if after_unsure:
            self.after_unsure_total += 1
            self.after_unsure_correct += outcome == CORRECT


@dataclass
class SubjectCalibration:
    subject: str
    tally: Tally

    @property
    def line(self) -> str:
        """In the language of the page that shows it (reports are cached)."""
        return subject_line(self.tally)


@dataclass
class CalibrationReport:
    subjects: list[SubjectCalibration] = field(default_factory=list)
    weeks: list[tuple[date, Tally]] = field(default_factory=list)
    overall: Tally = field(default_factory=Tally)


def _pct(x: float | None) -> int:
    return round(100 * (x or 0.0))


def subject_line(t: Tally) -> str:
    if t.total == 0:
        return gettext("아직 푼 문제가 없습니다.")
    if t.given == 0:
        return gettext(
            "모든 문제에 모르겠음을 골랐습니다. 아는 문제부터 답을 골라 보세요."
        )
    line = gettext(
        "이 과목은 자신 있게 고른 답의 %(pct)s%%가 맞았습니다, "
        "모르겠음은 %(unsure)s%%였습니다."
    ) % {"pct": _pct(t.given_accuracy), "unsure": _pct(t.unsure_rate)}
    if t.after_unsure_total:
        line += " " + gettext(
            "모르겠음이었던 문제를 다시 풀어 %(pct)s%%를 맞혔습니다."
        ) % {"pct": _pct(t.after_unsure_accuracy)}
    if t.total < MIN_ANSWERS:
        return (
            line
            + " "
            + ngettext(
                "(답이 %(n)d개뿐이라 아직 판단하기 이릅니다.)",
                "(답이 %(n)d개뿐이라 아직 판단하기 이릅니다.)",
                t.total,
            )
            % {"n": t.total}
        )
    acc, unsure = t.given_accuracy or 0.0, t.unsure_rate or 0.0
    if acc < 0.5 and unsure < 0.1:
        line += " " + gettext(
            "모르는 문제에도 답을 고르고 있습니다: 확신이 없으면 모르겠음을 고르세요."
        )
    elif acc >= 0.85 and unsure >= 0.3:
        line += " " + gettext("고른 답은 거의 맞습니다: 모르겠음을 덜 골라도 됩니다.")
    elif acc >= 0.7:
        line += " " + gettext("고른 답을 믿을 만합니다.")
    return line


def calibration_report(
    answers: Iterable[tuple[str, str, int, datetime]],
) -> CalibrationReport:
    """answers: (subject, outcome, question id, answered at), oldest first."""
    by_subject: dict[str, Tally] = {}
    by_week: dict[date, Tally] = {}
    overall = Tally()
    unsure_before: set[int] = set()
    for subject, outcome, qid, at in answers:
        after = qid in unsure_before
        week = at.date() - timedelta(days=at.weekday())
        for tally in (
            by_subject.setdefault(subject_key(subject), Tally()),
            by_week.setdefault(week, Tally()),
            overall,
        ):
            tally.add(outcome, after)
        if outcome == UNSURE:
            unsure_before.add(qid)
    return CalibrationReport(
        subjects=[
            SubjectCalibration(subject=name, tally=t) for name, t in by_subject.items()
        ],
        weeks=sorted(by_week.items()),
        overall=overall,
    )
