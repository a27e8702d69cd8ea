"""When a round was held (pure): a question is read against the statutes in
force on its exam date.

A round's own date wins (the owner sets it, or the 2020 rounds moved by the
pandemic); otherwise the usual date of its sitting in the topic's exam spec,
else the default for 기사 필기: 1회 early March, 2회 mid May, 3회 mid August
(4회 late September, as in 2020). A merged round (1·2회) was held at the
later sitting's time; an extra sitting (1회 추가시험) at its sitting's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

from study.rounds import session_from_canonical

# 회차 → (month, day): the usual dates of a 기사 필기 round.
DEFAULT_SESSION_DATES: dict[int, tuple[int, int]] = {
    1: (3, 5),
    2: (5, 15),
    3: (8, 15),
    4: (9, 25),
}
MAX_SESSION = 20
_LINE = re.compile(
    r"^\s*(?:제\s*)?(\d{1,2})\s*(?:회차?)?\s*[:：=]?\s*(\d{1,2})\s*(?:월|[-/.])\s*"
    r"(\d{1,2})\s*일?\s*$"
)


class ExamDateError(ValueError):
    """A line of dates that names no session and day; the message says which."""


def session_dates_parse(text: str) -> dict[int, tuple[int, int]]:
    """`1회 3월 5일`, `2: 05-15`, `3 8/15` one per line (blank lines skipped)."""
    dates: dict[int, tuple[int, int]] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        found = _LINE.match(raw)
        if not found:
            raise ExamDateError(f"{number}: {raw.strip()}")
        session, month, day = (int(part) for part in found.groups())
        if not 1 <= session <= MAX_SESSION or not _valid(month, day):
            raise ExamDateError(f"{number}: {raw.strip()}")
        dates[session] = (month, day)
    return dates


def _valid(month: int, day: int) -> bool:
    try:
        date(2000, month, day)  # a leap year: 2월 29일 is a usual date too
    except ValueError:
        return False
    return True


def session_dates_format(dates: Mapping[int, tuple[int, int]]) -> str:
    return "\n".join(f"{s}회 {m:02d}-{d:02d}" for s, (m, d) in sorted(dates.items()))


def usual_dates(stored: Mapping[str, object] | None) -> dict[int, tuple[int, int]]:
    """The defaults overlaid with what the topic's spec stores ({"1": "03-05"})."""
    dates = dict(DEFAULT_SESSION_DATES)
    for key, value in (stored or {}).items():
        found = re.fullmatch(r"(\d{1,2})-(\d{1,2})", str(value))
        if str(key).isdigit() and found and _valid(*map(int, found.groups())):
            dates[int(key)] = (int(found.group(1)), int(found.group(2)))
    return dates


def session_dates_store(dates: Mapping[int, tuple[int, int]]) -> dict[str, str]:
    return {str(s): f"{m:02d}-{d:02d}" for s, (m, d) in sorted(dates.items())}


def exam_date(
    year: int | None,
    session: str,
    *,
    usual: Mapping[int, tuple[int, int]],
    held: Mapping[tuple[int, str], date] | None = None,
) -> date | None:
    """The date a question's round was held, or None (no round, no sitting
    number, or a usual date that does not exist that year)."""
    if year is None or not session:
        return None
    parsed = session_from_canonical(session)
    if parsed is None or not parsed.numbers:
        return None
    own = (held or {}).get((year, parsed.sitting))
    if own is not None:
        return own
    month_day = usual.get(parsed.numbers[-1])
    if month_day is None:
        return None
    try:
        return date(year, *month_day)
    except ValueError:  # 2월 29일 in a common year
        return date(year, month_day[0], 28)
