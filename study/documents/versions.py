"""Versions of one act (pure).

A statute exported with its front matter names the act (법령ID, else its
title) and the version (시행일자, 공포번호). Documents of one owner with the
same act are versions of it; the same act and version is the same document.
The version in force on a date is the one with the latest 시행일자 on or
before it; two versions in force the same day are ordered by 공포번호 (the
higher was promulgated later).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

ACT_KEY_MAX = 120
_DATE = re.compile(r"(\d{4})\s*[-./년]?\s*(\d{1,2})\s*[-./월]?\s*(\d{1,2})")
_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class ActVersion:
    """Which act a document is (act) and which version of it (effective,
    number)."""

    act: str  # "법령ID:001766" or "제목:산업안전보건법시행령"
    effective: date
    number: int | None = None  # 공포번호

    @property
    def order(self) -> tuple[date, int]:
        return (self.effective, self.number or 0)


def parse_date(value: object) -> date | None:
    """2020-01-16, 20200116, 2020.1.16 or 2020년 1월 16일; None otherwise."""
    if isinstance(value, date):
        return value
    match = _DATE.search(str(value or ""))
    if not match:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def act_version(fields: Mapping[str, object], *, title: str = "") -> ActVersion | None:
    """The act and version a document's front matter names, or None when it
    names no 시행일자 or no act (a textbook, notes)."""
    effective = parse_date(fields.get("시행일자") or fields.get("effective"))
    if effective is None:
        return None
    act = act_key(fields, title=title)
    if not act:
        return None
    digits = _DIGITS.search(str(fields.get("공포번호") or ""))
    return ActVersion(
        act=act, effective=effective, number=int(digits.group(0)) if digits else None
    )


def act_key(fields: Mapping[str, object], *, title: str = "") -> str:
    """법령ID when the front matter has one, else the title without spaces."""
    law_id = str(fields.get("법령ID") or "").strip()
    if law_id:
        return f"법령ID:{law_id}"[:ACT_KEY_MAX]
    name = _SPACE.sub("", str(fields.get("제목") or fields.get("title") or title))
    return f"제목:{name}"[:ACT_KEY_MAX] if name else ""


def in_force_on(
    versions: Iterable[tuple[int, date | None, int | None]], on: date
) -> int | None:
    """The id of the version in force on `on` among (id, 시행일자, 공포번호):
    the latest 시행일자 on or before it, the higher 공포번호 on a tie."""
    best: tuple[date, int, int] | None = None
    for pk, effective, number in versions:
        if effective is None or effective > on:
            continue
        key = (effective, number or 0, pk)
        if best is None or key > best:
            best = key
    return best[2] if best else None


def searchable_version(
    versions: Iterable[tuple[int, date | None, int | None]], today: date
) -> int | None:
    """The version search uses today: the one in force, or, when every
    version is still to come, the first of them (better than no text)."""
    rows = list(versions)
    current = in_force_on(rows, today)
    if current is not None:
        return current
    upcoming = [(e, n or 0, pk) for pk, e, n in rows if e is not None]
    return min(upcoming)[2] if upcoming else None


def content_digest(text: str) -> str:
    """The same text (whitespace aside) is the same content."""
    return hashlib.sha256(_SPACE.sub(" ", text).strip().encode()).hexdigest()
