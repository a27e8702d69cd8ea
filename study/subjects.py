"""Subjects: a question's subject as people read it (the one home of the
stand-in for questions whose source named no subject), the exam's current
subject list read from the bank's rounds, and which names are likely one
subject. Pure: the rows are passed in (study.selectors.exam_spec)."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.utils.translation import gettext, gettext_noop

from study import rounds

# Marked for translation (makemessages finds it) but kept a plain string.
NO_SUBJECT = gettext_noop("과목 없음")


def subject_label(subject: str) -> str:
    """As shown on a page, in the active language."""
    return subject or gettext(NO_SUBJECT)


def subject_key(subject: str) -> str:
    """As a tally key that is stored or sent on (mock exam scores kept with the
    session, the session analysis prompt, calibration reports): the same in
    every language."""
    return subject or NO_SUBJECT


# --- The exam's current subject list, read from the rounds of the bank -------
#
# A bank that grew over twenty years holds every name its files ever used:
# renames, spelling variants, typos, subjects of another era or of a round
# filed under the wrong exam. The union of those names is no exam's paper. The
# current paper is the subject list of the most recent round that looks
# complete (every subject with the same, full number of questions), preferring
# a list that at least two sittings share, so that one odd or mislabelled
# round does not become the paper.

MIN_PER_SUBJECT = 10  # fewer a subject: a sample of a round, not its paper
CONFIRMING_SITTINGS = 2
RECENT_SITTINGS = 4


@dataclass(frozen=True)
class SubjectCell:
    """One subject of one round as the bank holds it (year None: no round)."""

    year: int | None
    session: str
    subject: str
    questions: int
    first_number: int | None
    first_id: int
    by_subject: bool = False  # the round numbers each subject from 1
    quizzable: int | None = None  # questions a quiz may show (None: not counted)


@dataclass(frozen=True)
class RoundSubjects:
    """A round's subjects in paper order with their question counts."""

    year: int
    session: str
    subjects: tuple[str, ...]
    counts: tuple[int, ...]

    @property
    def key(self) -> str:
        return rounds.round_key(self.year, self.session)

    @property
    def label(self) -> str:
        return rounds.round_label(self.year, self.session)

    @property
    def sitting(self) -> tuple[int, str]:
        return (self.year, rounds.session_sitting(self.session))

    @property
    def looks_complete(self) -> bool:
        """Every question filed under a subject, every subject as long."""
        return (
            bool(self.subjects)
            and "" not in self.subjects
            and len(set(self.counts)) == 1
            and self.counts[0] >= MIN_PER_SUBJECT
        )

    @property
    def per_subject(self) -> int:
        return max(self.counts, default=0)


def round_order_key(year: int, session: str) -> tuple:
    """Sorts rounds oldest first (sitting, then form), as the round list does."""
    return (year, rounds.session_sort_key(session))


def rounds_of(cells: Iterable[SubjectCell]) -> list[RoundSubjects]:
    """The bank's rounds, newest first, each with its subjects in paper order:
    by first number, or where each subject is numbered from 1 by first id."""
    grouped: dict[tuple[int, str], list[SubjectCell]] = defaultdict(list)
    for cell in cells:
        if cell.year is not None and cell.session:
            grouped[(cell.year, cell.session)].append(cell)
    found = []
    for (year, session), members in grouped.items():
        members.sort(
            key=lambda c: (
                0 if c.by_subject else (c.first_number or 0),
                c.first_id,
            )
        )
        found.append(
            RoundSubjects(
                year,
                session,
                tuple(c.subject for c in members),
                tuple(c.questions for c in members),
            )
        )
    found.sort(key=lambda r: round_order_key(r.year, r.session), reverse=True)
    return found


@dataclass(frozen=True)
class CurrentSubjects:
    """The paper the bank's rounds point to, and what is left off it."""

    subjects: tuple[str, ...]
    per_subject: int | None  # None when no round looks complete
    rounds: tuple[RoundSubjects, ...] = ()  # the rounds it comes from, newest first
    old: tuple[str, ...] = ()  # named subjects of the bank not on it


def current_subjects(cells: Sequence[SubjectCell]) -> CurrentSubjects:
    """The subjects of the most recent complete rounds (see above); without a
    complete round, every named subject in order of first number."""
    complete = [r for r in rounds_of(cells) if r.looks_complete]
    if not complete:
        return CurrentSubjects(_names_by_first_number(cells), None)
    newest = _newest_confirmed(complete) or complete[0]
    subjects = set(newest.subjects)
    return CurrentSubjects(
        subjects=newest.subjects,
        per_subject=newest.per_subject,
        rounds=tuple(r for r in complete if set(r.subjects) == subjects),
        old=tuple(n for n in _names_by_last_use(cells) if n not in subjects),
    )


def _newest_confirmed(complete: list[RoundSubjects]) -> RoundSubjects | None:
    """The newest round whose subject list another of the last few sittings
    shares (forms of one sitting count once). Only recent sittings vote, so
    the rounds of an older era never outvote the current one."""
    recent = list(dict.fromkeys(r.sitting for r in complete))[:RECENT_SITTINGS]
    window = [r for r in complete if r.sitting in recent]
    sittings: dict[frozenset[str], set[tuple[int, str]]] = defaultdict(set)
    for r in window:
        sittings[frozenset(r.subjects)].add(r.sitting)
    for r in window:
        if len(sittings[frozenset(r.subjects)]) >= CONFIRMING_SITTINGS:
            return r
    return None


def _names_by_first_number(cells: Iterable[SubjectCell]) -> tuple[str, ...]:
    first: dict[str, tuple[int, int]] = {}
    for c in cells:
        if c.subject:
            mark = (c.first_number or 0, c.first_id)
            first[c.subject] = min(first.get(c.subject, mark), mark)
    return tuple(sorted(first, key=lambda name: (first[name], name)))


def _names_by_last_use(cells: Iterable[SubjectCell]) -> list[str]:
    """Named subjects, the most recently used first, then the larger first."""
    last: dict[str, tuple] = {}
    size: Counter[str] = Counter()
    for c in cells:
        if not c.subject:
            continue
        size[c.subject] += c.questions
        used = round_order_key(c.year, c.session) if c.year is not None else (0,)
        last[c.subject] = max(last.get(c.subject, used), used)
    return sorted(last, key=lambda name: (last[name], size[name], name), reverse=True)


def subject_order(*, paper: Sequence[str], names: Iterable[str]) -> list[str]:
    """Names in paper order, the others after (as given)."""
    rank = {name: i for i, name in enumerate(paper)}
    return sorted(names, key=lambda name: rank.get(name, len(rank)))


# --- Which names are one subject: suggestions for the owner -----------------
#
# Two names are likely one subject when they never appear in the same round
# (a rename, or a typo of a whole subject's rows) or, when they do, when
# together they fill no more than one subject of that round (a typo in a few
# rows). Similar names, the same place on the paper (the same block of
# numbers) and one name taking over where the other stopped make it likelier.

SIMILAR_NAMES = 0.5
WEAKLY_SIMILAR_NAMES = 0.2
_NOT_IN_NAME = re.compile(r"[\s·ㆍ.,:;/\\\-_()\[\]{}<>'\"]+")


def _name_letters(name: str) -> str:
    return _NOT_IN_NAME.sub("", unicodedata.normalize("NFKC", name).casefold())


def name_similarity(a: str, b: str) -> float:
    """0–1: how alike two names read, ignoring spaces and punctuation."""
    x, y = (
        _NOT_IN_NAME.sub("", unicodedata.normalize("NFKC", n).casefold())
        for n in (a, b)
    )
    if not x or not y:
        return 0.0
    return difflib.SequenceMatcher(None, x, y, autojunk=False).ratio()


@dataclass
class _Use:
    questions: int = 0
    rounds: dict[str, int] = field(default_factory=dict)  # round key → questions
    slots: Counter[int] = field(default_factory=Counter)
    first: tuple = ()
    last: tuple = ()

    def add(self, cell: SubjectCell, slot: int | None) -> None:
        self.questions += cell.questions
        if cell.year is None or not cell.session:
            return
        key = rounds.round_key(cell.year, cell.session)
        self.rounds[key] = self.rounds.get(key, 0) + cell.questions
        if slot is not None:
            self.slots[slot] += cell.questions
        when = round_order_key(cell.year, cell.session)
        self.first = min(self.first, when) if self.first else when
        self.last = max(self.last, when) if self.last else when

    @property
    def slot(self) -> int | None:
        return self.slots.most_common(1)[0][0] if self.slots else None


@dataclass(frozen=True)
class MergeSuggestion:
    name: str  # the name to file under `into`
    into: str
    questions: int  # of `name`
    similarity: float
    shares_rounds: bool  # they meet in a round (and fill one subject together)
    same_place: bool  # the same block of the paper
    takes_over: bool  # `into` is used from where `name` stopped

    @property
    def percent(self) -> int:
        return round(100 * self.similarity)

    @property
    def score(self) -> float:
        return (
            self.similarity
            + 0.25 * self.same_place
            + 0.15 * self.takes_over
            - 0.1 * self.shares_rounds
        )


def merge_suggestions(
    cells: Sequence[SubjectCell], *, paper: Sequence[str], per_subject: int
) -> list[MergeSuggestion]:
    """For each name off the paper, the one subject it most likely is (if any),
    best first. Names on the paper are never suggested away."""
    uses = _uses(cells, per_subject)
    on_paper = set(paper)
    found = []
    for name, use in uses.items():
        if name in on_paper:
            continue
        best = None
        for into, other in uses.items():
            if into == name or not _may_join(use, other, into in on_paper):
                continue
            suggestion = _suggest(name, use, into, other, per_subject)
            if suggestion is not None and (
                best is None or suggestion.score > best.score
            ):
                best = suggestion
        if best is not None:
            found.append(best)
    return sorted(found, key=lambda s: (-s.score, s.name))


def _may_join(use: _Use, other: _Use, other_on_paper: bool) -> bool:
    """Off-paper names join a paper subject, or a larger off-paper name."""
    return other_on_paper or other.questions > use.questions


def _suggest(
    name: str, use: _Use, into: str, other: _Use, per_subject: int
) -> MergeSuggestion | None:
    shared = set(use.rounds) & set(other.rounds)
    if any(use.rounds[k] + other.rounds[k] > per_subject for k in shared):
        return None  # both full subjects of one round: two subjects
    similarity = name_similarity(name, into)
    same_place = use.slot is not None and use.slot == other.slot
    takes_over = bool(use.last and other.first) and use.last < other.first
    likely = similarity >= SIMILAR_NAMES or (
        same_place and takes_over and similarity >= WEAKLY_SIMILAR_NAMES
    )
    if not likely:
        return None
    return MergeSuggestion(
        name=name,
        into=into,
        questions=use.questions,
        similarity=similarity,
        shares_rounds=bool(shared),
        same_place=same_place,
        takes_over=takes_over,
    )


def _uses(cells: Sequence[SubjectCell], per_subject: int) -> dict[str, _Use]:
    """Each named subject's rounds, place on the paper and first and last use.
    The place is the block of numbers it fills, or where each subject is
    numbered from 1, its position among the round's subjects."""
    positions: dict[tuple[int | None, str, str], int] = {
        (r.year, r.session, name): i
        for r in rounds_of(cells)
        for i, name in enumerate(r.subjects)
    }
    uses: dict[str, _Use] = defaultdict(_Use)
    for cell in cells:
        if not cell.subject:
            continue
        if cell.by_subject:
            slot = positions.get((cell.year, cell.session, cell.subject))
        elif cell.first_number:
            slot = (cell.first_number - 1) // max(1, per_subject)
        else:
            slot = None
        uses[cell.subject].add(cell, slot)
    return dict(uses)
