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

import hashlib
import re
import unicodedata
from collections import Counter, defaultdict
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
    rows = list(rows)
    rounds = RoundCounter()
    for row in rows:
        rounds.add(row)
    for row in rows:
        rounds.clash(row, held or {})
    return rounds.numbering(known=known)


class RoundCounter:
    """What deciding a round's numbering needs of its rows, gathered a row at
    a time (the importer streams its rows and keeps none): per round the
    subjects of each number and the rows of each number; then, on a second
    look at the rows, how many take a number the bank gives another
    subject's question with another stem."""

    def __init__(self) -> None:
        self.subjects: dict[Round, dict[int, set[str]]] = defaultdict(
            lambda: defaultdict(set)
        )
        self.rows: dict[Round, Counter[int]] = defaultdict(Counter)
        self.clashes: Counter[Round] = Counter()

    def add(self, row: Row) -> None:
        key = (row.year, row.session)
        self.subjects[key][row.number].add(row.subject)
        self.rows[key][row.number] += 1

    def clash(self, row: Row, held: Mapping[Held, tuple[str, str]]) -> None:
        found = held.get(((row.year, row.session), row.number))
        if found and found[0] != row.subject and _text(found[1]) != _text(row.stem):
            self.clashes[(row.year, row.session)] += 1

    def numbering(self, *, known: set[Round]) -> dict[Round, bool]:
        return {
            key: key in known or self._by_subject(key) or self._clashing(key)
            for key in self.rows
        }

    def _by_subject(self, key: Round) -> bool:
        # numbered_by_subject, from the counts: at least half the rows share
        # their number with a row of another subject.
        total = sum(self.rows[key].values())
        shared = sum(
            n
            for number, n in self.rows[key].items()
            if len(self.subjects[key][number]) > 1
        )
        return total > 0 and 2 * shared >= total

    def _clashing(self, key: Round) -> bool:
        clashes = self.clashes[key]
        return clashes > 0 and 2 * clashes >= sum(self.rows[key].values())


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


def _content_key(row: Row) -> tuple[int, str, bytes] | None:
    """The row's round and a digest of its stem and choices (a digest, so
    that remembering every row of a large file costs a few bytes a row)."""
    if row.needs_figure:
        return None
    text = "\x1f".join(map(_text, (row.stem, *row.choices)))
    return (
        row.year,
        row.session,
        hashlib.blake2b(text.encode(), digest_size=16).digest(),
    )


class FirstSeen[T]:
    """The first row of each question, rows seen one at a time: a row with the
    identity of an earlier row, or the same round with the same stem and
    choices, repeats that row (what `check` returns: the earlier row's
    `origin`, whatever the caller keeps of it)."""

    def __init__(self, numbering: dict[Round, bool]) -> None:
        self.numbering = numbering
        self.by_identity: dict[Identity, T] = {}
        self.by_content: dict[tuple[int, str, bytes], T] = {}

    def check(self, row: Row, origin: T) -> T | None:
        key = row_identity(row, self.numbering)
        content = _content_key(row)
        first = self.by_identity.get(key)
        if first is None and content is not None:
            first = self.by_content.get(content)
        if first is not None:
            return first
        self.by_identity[key] = origin
        if content is not None:
            self.by_content[content] = origin
        return None


def split_duplicates[R: Row](
    rows: Sequence[R], numbering: dict[Round, bool]
) -> tuple[list[R], list[tuple[R, R]]]:
    """The rows to import (first of each question) and the duplicates, each
    with the row it repeats: the same identity, or the same round with the
    same stem and choices."""
    kept: list[R] = []
    duplicates: list[tuple[R, R]] = []
    seen: FirstSeen[R] = FirstSeen(numbering)
    for row in rows:
        first = seen.check(row, row)
        if first is not None:
            duplicates.append((row, first))
        else:
            kept.append(row)
    return kept, duplicates
