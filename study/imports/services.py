"""Import of past-exam files into a topic's question bank (idempotent)."""

from __future__ import annotations

import pickle
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q

from study import rounds
from study.evidence.services import topic_cards_compute_enqueue
from study.imports import identity
from study.imports.parsing import ParsedRow, Rejection, parse_stream
from study.imports.reasons import Reason
from study.models import Question, Topic
from study.models.question import CONTENT_FIELDS
from study.selectors.subjects import subject_aliases
from study.selectors.topics import TopicAmbiguous, TopicNotFound, topic_get_by_name
from study.services.questions import questions_bulk_create, questions_bulk_update
from study.services.topics import topic_create

_COMPARED_FIELDS = CONTENT_FIELDS
# What an import reads of a question it may match or renumber.
_READ_FIELDS = (
    "id",
    "topic_id",
    "exam_year",
    "exam_session",
    "number",
    *_COMPARED_FIELDS,
    "figure",
    "ai_explanation_status",
    "deleted_at",
)


# The first rejected rows a report lists with their reasons; the rest are
# counted (per reason). A report's size is bounded by this, whatever the file.
REPORT_MAX_REJECTIONS = 1000
# Rows are written a batch at a time, inside the one transaction of the
# import, so that memory holds a batch and the keys seen, never the file.
WRITE_BATCH_ROWS = 2000
WRITE_BATCH_CHARS = 4_000_000


class TooManyRows(Exception):
    """More rows than an upload may have; the import stops, nothing written."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} rows")
        self.limit = limit


@dataclass
class ImportReport:
    files: int = 0
    rows: int = 0
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    # Rows kept (added, changed or unchanged) that need a figure and have
    # none yet: they stay out of quizzes until one is attached.
    needs_figure: int = 0
    rejected_count: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    rejected: list[Rejection] = field(default_factory=list)  # the first ones
    # Names the topic's aliases filed under another subject ({from, to, rows}),
    # names the bank did not have ({name, rows}), and the rounds whose numbers
    # start again in each subject (round keys).
    subjects_renamed: list[dict[str, Any]] = field(default_factory=list)
    subjects_new: list[dict[str, Any]] = field(default_factory=list)
    rounds_by_subject: list[str] = field(default_factory=list)

    def reject(self, rejection: Rejection) -> None:
        self.rejected_count += 1
        self.reasons[rejection.code] += 1
        if len(self.rejected) < REPORT_MAX_REJECTIONS:
            self.rejected.append(rejection)

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "rows": self.rows,
            "imported": self.imported,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "needs_figure": self.needs_figure,
            "rejected_count": self.rejected_count,
            "reasons": dict(self.reasons),
            "rejected": [r.as_dict() for r in self.rejected],
            "subjects_renamed": self.subjects_renamed,
            "subjects_new": self.subjects_new,
            "rounds_by_subject": self.rounds_by_subject,
        }


@dataclass(frozen=True)
class ImportSource:
    """A file to import: its name (as reports show it) and how to open it
    (a seekable binary file, read as a stream and closed after)."""

    name: str
    open: Callable[[], BinaryIO]

    @classmethod
    def from_path(cls, path: Path) -> ImportSource:
        return cls(str(path), _opener(Path(path)))


def _opener(path: Path) -> Callable[[], BinaryIO]:
    return lambda: path.open("rb")


def topic_get_or_create_for_import(*, name: str, owner_username: str | None) -> Topic:
    """Find the topic by name (of that owner when given); create it when absent.

    ValueError (TopicAmbiguous is one) says why neither can be done."""
    User = get_user_model()
    owner = None
    if owner_username:
        owner = User.objects.filter(username=owner_username).first()
        if owner is None:
            raise ValueError(f"사용자 '{owner_username}'가 없습니다.")
    try:
        return topic_get_by_name(name=name, owner_username=owner_username)
    except TopicNotFound:
        pass
    except TopicAmbiguous as exc:
        raise ValueError(str(exc)) from exc
    if owner is None:
        owner = User.objects.filter(is_superuser=True).order_by("id").first()
        if owner is None:
            raise ValueError("새 토픽을 만들려면 --owner 를 지정하세요.")
    return topic_create(owner=owner, name=name)


def questions_import(
    *,
    topic: Topic,
    paths: Iterable[Path] = (),
    sources: Iterable[ImportSource] = (),
    dry_run: bool = False,
    max_rows: int | None = None,
    on_row: Callable[[], object] | None = None,
    on_write: Callable[[], None] | None = None,
) -> ImportReport:
    """Import every row of the files; with dry_run nothing is written.

    The command and the web import both come here. No row aborts the import:
    each is imported, updated, unchanged or rejected with its reason. The
    topic's subject aliases apply to every row before it is matched.

    Files are read as streams and their good rows spooled to a temporary
    file; memory holds what deciding each round's numbering needs (subjects
    and counts per number), the identities seen and a batch, never a file.
    The spool is read again to count clashes with the bank's numbers, then
    once more to drop duplicates and write in batches in one transaction.
    More than `max_rows` rows raise TooManyRows and write nothing.
    """
    report = ImportReport()
    subjects = _SubjectNames(topic)
    counter = identity.RoundCounter()
    files: list[str] = []
    with tempfile.TemporaryFile(prefix="gichul-import-") as spool:
        for source in [*map(ImportSource.from_path, paths), *sources]:
            report.files += 1
            files.append(source.name)
            with source.open() as stream:
                for item in parse_stream(source.name, stream):
                    report.rows += 1
                    if max_rows is not None and report.rows > max_rows:
                        raise TooManyRows(max_rows)
                    if on_row:
                        on_row()
                    if isinstance(item, Rejection):
                        report.reject(item)
                        continue
                    subjects.apply(item)
                    counter.add(item)
                    pickle.dump(item, spool, protocol=pickle.HIGHEST_PROTOCOL)
        if on_write:
            on_write()
        held = _held_by_number(topic=topic, in_upload=set(counter.rows))
        spool.seek(0)
        for row in _spooled(spool):
            counter.clash(row, held)
        del held
        numbering = counter.numbering(known=subjects.rounds_by_subject)
        report.rounds_by_subject = sorted(
            rounds.round_key(*key)
            for key, by_subject in numbering.items()
            if by_subject
        )
        spool.seek(0)
        # A dry run writes nothing (it used to write and roll back: 15 s for
        # a 1 MB file of updates); it counts what each batch would write.
        with transaction.atomic():
            _write_spooled(topic, spool, numbering, subjects, report, dry_run=dry_run)
            if not dry_run and (report.imported or report.updated):
                topic_cards_compute_enqueue(topic=topic)  # new and changed keys
    subjects.report(report)
    report.rejected.sort(key=_file_order(files))
    return report


def _write_spooled(
    topic: Topic,
    spool: BinaryIO,
    numbering: dict[identity.Round, bool],
    subjects: _SubjectNames,
    report: ImportReport,
    *,
    dry_run: bool = False,
) -> None:
    """The spooled rows, less the duplicates, written a batch at a time; then
    a round that turned out to number each subject from 1 does so for all of
    its questions, also those this import did not touch. A dry run counts
    what would be written and writes nothing."""
    seen: identity.FirstSeen[tuple[str, int]] = identity.FirstSeen(numbering)
    batch = _Batch(topic=topic, numbering=numbering, report=report, dry_run=dry_run)
    for row in _spooled(spool):
        first = seen.check(row, (row.file, row.line))
        if first is not None:
            report.reject(
                Rejection(
                    row.file,
                    row.line,
                    Reason.DUPLICATE,
                    {"file": first[0], "line": first[1]},
                )
            )
            continue
        subjects.count(row)
        batch.add(row)
    batch.write()
    del seen
    if not dry_run:
        _renumber_untouched(topic, numbering, matched=batch.matched)


def _file_order(names: list[str]) -> Callable[[Rejection], tuple[int, int]]:
    """Rejections in the order of the files, then of their lines."""
    order = {name: i for i, name in enumerate(dict.fromkeys(names))}
    return lambda r: (order.get(r.file, len(order)), r.line)


def _spooled(spool: BinaryIO) -> Iterator[ParsedRow]:
    """The rows questions_import spooled (this process wrote them: pickle is
    safe here)."""
    while True:
        try:
            yield pickle.load(spool)  # noqa: S301
        except EOFError:
            return


class _SubjectNames:
    """The topic's subject aliases applied to rows, and what the report says
    about names: which were filed under another, which the bank lacks."""

    def __init__(self, topic: Topic) -> None:
        self.aliases = subject_aliases(topic=topic)
        # One read: the bank's names, and its rounds numbered by subject.
        held = (
            Question.objects.filter(topic=topic)
            .order_by()
            .values_list("subject", "exam_year", "exam_session", "numbered_by_subject")
            .distinct()
        )
        self.known: set[str] = set()
        self.rounds_by_subject: set[identity.Round] = set()
        for subject, year, session, by_subject in held:
            self.known.add(subject)
            if by_subject:
                self.rounds_by_subject.add((year, session))
        self.renamed: Counter[tuple[str, str]] = Counter()
        self.new: Counter[str] = Counter()

    def apply(self, row: ParsedRow) -> None:
        canonical = self.aliases.get(row.subject)
        if canonical is not None:
            self.renamed[(row.subject, canonical)] += 1
            row.subject_original, row.subject = row.subject, canonical

    def count(self, row: ParsedRow) -> None:
        """A row to import: a name the bank lacks is counted."""
        if row.subject not in self.known:
            self.new[row.subject] += 1

    def report(self, report: ImportReport) -> None:
        report.subjects_renamed = [
            {"from": name, "to": into, "rows": n}
            for (name, into), n in sorted(self.renamed.items())
        ]
        report.subjects_new = [
            {"name": name, "rows": n} for name, n in sorted(self.new.items()) if name
        ]


class _Batch:
    """Rows waiting to be written; written when the batch is full."""

    def __init__(
        self,
        *,
        topic: Topic,
        numbering: dict[identity.Round, bool],
        report: ImportReport,
        dry_run: bool = False,
    ) -> None:
        self.topic, self.numbering, self.report = topic, numbering, report
        self.dry_run = dry_run
        self.rows: list[ParsedRow] = []
        self.chars = 0
        self.matched: set[int] = set()  # the questions rows matched

    def add(self, row: ParsedRow) -> None:
        self.rows.append(row)
        self.chars += len(row.stem) + sum(map(len, row.choices))
        self.chars += len(row.explanation)
        if len(self.rows) >= WRITE_BATCH_ROWS or self.chars >= WRITE_BATCH_CHARS:
            self.write()

    def write(self) -> None:
        if self.rows:
            self.matched |= _write_rows(
                topic=self.topic,
                rows=self.rows,
                numbering=self.numbering,
                report=self.report,
                dry_run=self.dry_run,
            )
        self.rows, self.chars = [], 0


def _row_values(row: ParsedRow, *, by_subject: bool) -> dict[str, Any]:
    return {
        "exam_name": row.exam_name,
        "subject": row.subject,
        "subject_original": row.subject_original,
        "numbered_by_subject": by_subject,
        "scope": row.scope,
        "stem": row.stem,
        "choice_1": row.choices[0],
        "choice_2": row.choices[1],
        "choice_3": row.choices[2],
        "choice_4": row.choices[3],
        "correct_choice": row.correct_choice,
        "accepted_choices": row.accepted_choices,
        "needs_figure": row.needs_figure,
        "explanation": row.explanation,
    }


def _existing_questions(
    *, topic: Topic, rows: list[ParsedRow], numbering: dict[identity.Round, bool]
) -> dict[identity.Identity, Question]:
    """The topic's questions a batch's rows may be, by their identity in this
    import's numbering (a round now numbered by subject is matched by
    subject too): the years and numbers narrow the read, the keys decide."""
    candidates = Question.objects.filter(
        topic=topic,
        exam_year__in={row.year for row in rows},
        number__in={row.number for row in rows},
    ).only(*_READ_FIELDS)
    found: dict[identity.Identity, Question] = {}
    for q in candidates:
        by_subject = q.numbered_by_subject or numbering.get(
            (q.exam_year, q.exam_session), False
        )
        key = identity.identity(
            q.exam_year, q.exam_session, q.subject, q.number, by_subject
        )
        found.setdefault(key, q)
    return found


def _write_rows(
    *,
    topic: Topic,
    rows: list[ParsedRow],
    numbering: dict[identity.Round, bool],
    report: ImportReport,
    dry_run: bool = False,
) -> set[int]:
    """Write one batch (a dry run counts it only); the ids of the questions
    its rows matched."""
    existing = _existing_questions(topic=topic, rows=rows, numbering=numbering)
    to_create: list[Question] = []
    edits: list[tuple[Question, dict[str, Any]]] = []
    matched: set[int] = set()
    for row in rows:
        by_subject = numbering[(row.year, row.session)]
        values = _row_values(row, by_subject=by_subject)
        question = existing.get(identity.row_identity(row, numbering))
        if question is None:
            to_create.append(
                Question(
                    topic=topic,
                    exam_year=row.year,
                    exam_session=row.session,
                    number=row.number,
                    **values,
                )
            )
            if row.needs_figure:
                report.needs_figure += 1
            continue
        matched.add(question.pk)
        if all(getattr(question, k) == v for k, v in values.items()):
            report.unchanged += 1
        elif question.deleted_at is not None:
            report.reject(Rejection(row.file, row.line, Reason.QUESTION_DELETED))
            continue
        else:
            edits.append((question, values))
        if row.needs_figure and not question.figure:
            report.needs_figure += 1
    if dry_run:  # every edit changes a content field: each would be updated
        report.imported += len(to_create)
        report.updated += len(edits)
        return matched
    # The question services' bulk forms: the same stale rule, events (in this
    # transaction), re-embedding and relation invalidation as an edit in the
    # form, in a few statements.
    questions_bulk_create(topic=topic, questions=to_create)
    updated = questions_bulk_update(edits=edits)
    report.imported += len(to_create)
    report.updated += len(updated)
    return matched


def _renumber_untouched(
    topic: Topic, numbering: dict[identity.Round, bool], *, matched: set[int]
) -> None:
    """The bank's questions of a round now numbered by subject that no row
    matched are numbered by subject too."""
    by_subject = [key for key, flag in numbering.items() if flag]
    if not by_subject:
        return
    in_rounds = Q()
    for year, session in by_subject:
        in_rounds |= Q(exam_year=year, exam_session=session)
    untouched = (
        Question.objects.filter(topic=topic, numbered_by_subject=False)
        .filter(in_rounds)
        .only(*_READ_FIELDS)
    )
    questions_bulk_update(
        edits=[
            (q, {"numbered_by_subject": True})
            for q in untouched
            if q.pk not in matched and q.number is not None
        ]
    )


def _held_by_number(
    *, topic: Topic, in_upload: set[identity.Round]
) -> dict[identity.Held, tuple[str, str]]:
    """(round, number) → (subject, stem) of the bank's questions numbered
    through, in the rounds of this import."""
    if not in_upload:
        return {}
    in_rounds = Q()
    for year, session in in_upload:
        in_rounds |= Q(exam_year=year, exam_session=session)
    held = (
        Question.objects.filter(topic=topic, numbered_by_subject=False)
        .filter(in_rounds)
        .values_list("exam_year", "exam_session", "number", "subject", "stem")
    )
    return {
        ((year, session), number): (subject, stem)
        for year, session, number, subject, stem in held.iterator()
        if number is not None
    }
