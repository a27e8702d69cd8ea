"""Import of past-exam files into a topic's question bank (idempotent)."""

from __future__ import annotations

import pickle
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from django.contrib.auth import get_user_model
from django.db import transaction

from study.imports.parsing import ParsedRow, Rejection, parse_stream
from study.imports.reasons import Reason
from study.models import Question, Topic
from study.models.question import CONTENT_FIELDS
from study.selectors.topics import TopicAmbiguous, TopicNotFound, topic_get_by_name
from study.services.questions import questions_bulk_create, questions_bulk_update
from study.services.topics import topic_create

_COMPARED_FIELDS = CONTENT_FIELDS


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
    reasons: Counter = field(default_factory=Counter)
    rejected: list[Rejection] = field(default_factory=list)  # the first ones

    def reject(self, rejection: Rejection) -> None:
        self.rejected_count += 1
        self.reasons[rejection.code] += 1
        if len(self.rejected) < REPORT_MAX_REJECTIONS:
            self.rejected.append(rejection)

    def as_dict(self) -> dict:
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


class _DryRunRollback(Exception):
    pass


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
    each is imported, updated, unchanged or rejected with its reason. Files
    are read as streams, their good rows spooled to a temporary file, then
    written in batches in one transaction: memory holds a batch and the keys
    seen, never a file. More than `max_rows` rows raise TooManyRows and
    write nothing.
    """
    report = ImportReport()
    with tempfile.TemporaryFile(prefix="gichul-import-") as spool:
        seen: dict[tuple, tuple[str, int]] = {}
        for source in [*map(ImportSource.from_path, paths), *sources]:
            report.files += 1
            with source.open() as stream:
                for item in parse_stream(source.name, stream):
                    report.rows += 1
                    if max_rows is not None and report.rows > max_rows:
                        raise TooManyRows(max_rows)
                    if on_row:
                        on_row()
                    _take(item, seen=seen, spool=spool, report=report)
        del seen
        if on_write:
            on_write()
        spool.seek(0)
        try:
            with transaction.atomic():
                batch = _Batch(topic=topic, report=report)
                for row in _spooled(spool):
                    batch.add(row)
                batch.write()
                if dry_run:
                    raise _DryRunRollback
        except _DryRunRollback:
            pass
    return report


def _take(
    item: ParsedRow | Rejection,
    *,
    seen: dict[tuple, tuple[str, int]],
    spool: BinaryIO,
    report: ImportReport,
) -> None:
    """A parsed item: rejected, a duplicate of an earlier row, or to write."""
    if isinstance(item, Rejection):
        report.reject(item)
    elif item.key in seen:
        first_file, first_line = seen[item.key]
        report.reject(
            Rejection(
                item.file,
                item.line,
                Reason.DUPLICATE,
                {"file": first_file, "line": first_line},
            )
        )
    else:
        seen[item.key] = (item.file, item.line)
        pickle.dump(item, spool, protocol=pickle.HIGHEST_PROTOCOL)


def _spooled(spool: BinaryIO) -> Iterator[ParsedRow]:
    """The rows _take spooled (this process wrote them: pickle is safe here)."""
    while True:
        try:
            yield pickle.load(spool)  # noqa: S301
        except EOFError:
            return


class _Batch:
    """Rows waiting to be written; written when the batch is full."""

    def __init__(self, *, topic: Topic, report: ImportReport) -> None:
        self.topic, self.report = topic, report
        self.rows: list[ParsedRow] = []
        self.chars = 0

    def add(self, row: ParsedRow) -> None:
        self.rows.append(row)
        self.chars += len(row.stem) + sum(map(len, row.choices))
        self.chars += len(row.explanation)
        if len(self.rows) >= WRITE_BATCH_ROWS or self.chars >= WRITE_BATCH_CHARS:
            self.write()

    def write(self) -> None:
        if self.rows:
            _write_rows(topic=self.topic, rows=self.rows, report=self.report)
        self.rows, self.chars = [], 0


def _row_values(row: ParsedRow) -> dict:
    return {
        "exam_name": row.exam_name,
        "subject": row.subject,
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


def _existing_questions(*, topic: Topic, rows: list[ParsedRow]) -> dict:
    """The topic's questions with the rows' keys (a batch's worth)."""
    keys = {row.key for row in rows}
    candidates = Question.objects.filter(
        topic=topic,
        exam_year__in={year for year, _, _ in keys},
        number__in={number for _, _, number in keys},
    ).only(
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
    found = {(q.exam_year, q.exam_session, q.number): q for q in candidates}
    return {key: q for key, q in found.items() if key in keys}


def _write_rows(*, topic: Topic, rows: list[ParsedRow], report: ImportReport) -> None:
    existing = _existing_questions(topic=topic, rows=rows)
    to_create: list[Question] = []
    edits: list[tuple[Question, dict]] = []
    for row in rows:
        values = _row_values(row)
        question = existing.get(row.key)
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
        if all(getattr(question, k) == v for k, v in values.items()):
            report.unchanged += 1
        elif question.deleted_at is not None:
            report.reject(Rejection(row.file, row.line, Reason.QUESTION_DELETED))
            continue
        else:
            edits.append((question, values))
        if row.needs_figure and not question.figure:
            report.needs_figure += 1
    # The question services' bulk forms: the same stale rule, events (in this
    # transaction, so a dry run's rollback takes them too), re-embedding and
    # relation invalidation as an edit in the form, in a few statements.
    questions_bulk_create(topic=topic, questions=to_create)
    updated = questions_bulk_update(edits=edits)
    report.imported += len(to_create)
    report.updated += len(updated)
