"""Which question a parsed row is, and which rows are one question twice. Pure:
rows in, decisions out (study.imports.services applies them).

Most papers number their questions through (1–120 over six subjects), so a
question is (year, session, number). 공무원 papers (국가 7급·9급, 지방 9급)
number each subject from 1: there a question is (year, session, subject,
number), and the subject is the one after the topic's aliases, so an alias
and the identity always agree. Whichever the numbering, a row whose stem and
choices repeat another row of the same round is that row again (a real
duplicate), unless it is a figure question, whose text alone says little.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

Round = tuple[int | None, str]
Held = tuple[Round, int]  # (round, number) of a question numbered through
Identity = tuple[int | None, str, str | None, int | None]
_SPACES = re.compile(r"\s+")


class Row(Protocol):
    file: str
    line: int
    year: int
    session: str
    number: int
    subject: str
    stem: str
    choices: list[str]
    needs_figure: bool


def numbered_by_subject(rows: Sequence[Row]) -> bool:
    """Rows of one round: does each subject start its numbers again? Yes when
    at least half the rows share their number with a row of another subject
    (one stray number of a paper numbered through is not enough)."""
    subjects_by_number: dict[int, set[str]] = defaultdict(set)
    for row in rows:
        subjects_by_number[row.number].add(row.subject)
    shared = sum(1 for row in rows if len(subjects_by_number[row.number]) > 1)
    return bool(rows) and 2 * shared >= len(rows)


def round_numbering(
    rows: Iterable[Row],
    *,
    known: set[Round],
    held: Mapping[Held, tuple[str, str]] | None = None,
) -> dict[Round, bool]:
    """Per round of the rows: numbered by subject? A round the bank already
    numbers by subject (`known`) stays so. So does a round whose rows meet
    the bank's questions of the same number (`held`: subject and stem) in
    another subject with other text: a paper imported a subject at a time."""
    by_round: dict[Round, list[Row]] = defaultdict(list)
    for row in rows:
        by_round[(row.year, row.session)].append(row)
    return {
        key: key in known
        or numbered_by_subject(members)
        or _another_subjects_numbers(members, held or {})
        for key, members in by_round.items()
    }


def _another_subjects_numbers(
    rows: Sequence[Row], held: Mapping[Held, tuple[str, str]]
) -> bool:
    """At least half the rows take the number of a question of the bank that
    is another subject's, with another stem (a renamed subject keeps its
    stems, and a few corrected subjects are not half the round)."""
    clashes = 0
    for row in rows:
        found = held.get(((row.year, row.session), row.number))
        if found and found[0] != row.subject and _text(found[1]) != _text(row.stem):
            clashes += 1
    return clashes > 0 and 2 * clashes >= len(rows)


def _text(value: str) -> str:
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", value)).strip()


def identity(
    year: int | None, session: str, subject: str, number: int | None, by_subject: bool
) -> Identity:
    """(year, session, subject or None, number): the subject only where the
    round numbers each subject from 1."""
    return (year, session, subject if by_subject else None, number)


def row_identity(row: Row, numbering: dict[Round, bool]) -> Identity:
    by_subject = numbering.get((row.year, row.session), False)
    return identity(row.year, row.session, row.subject, row.number, by_subject)


def _content_key(row: Row) -> tuple | None:
    if row.needs_figure:
        return None
    return (row.year, row.session, tuple(map(_text, (row.stem, *row.choices))))


def split_duplicates[R: Row](
    rows: Sequence[R], numbering: dict[Round, bool]
) -> tuple[list[R], list[tuple[R, R]]]:
    """The rows to import (first of each question) and the duplicates, each
    with the row it repeats: the same identity, or the same round with the
    same stem and choices."""
    kept: list[R] = []
    duplicates: list[tuple[R, R]] = []
    by_identity: dict[Identity, R] = {}
    by_content: dict[tuple, R] = {}
    for row in rows:
        key = row_identity(row, numbering)
        content = _content_key(row)
        first = by_identity.get(key) or (by_content.get(content) if content else None)
        if first is not None:
            duplicates.append((row, first))
            continue
        by_identity[key] = row
        if content is not None:
            by_content[content] = row
        kept.append(row)
    return kept, duplicates
