"""Import of past-exam files into a topic's question bank (idempotent)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction

from study import rounds
from study.imports import identity
from study.imports.parsing import ParsedRow, Rejection, parse_bytes
from study.models import Question, Topic
from study.models.question import CONTENT_FIELDS
from study.selectors.subjects import subject_aliases
from study.selectors.topics import TopicAmbiguous, TopicNotFound, topic_get_by_name
from study.services.questions import questions_bulk_create, questions_bulk_update
from study.services.topics import topic_create

_COMPARED_FIELDS = CONTENT_FIELDS


@dataclass
class ImportReport:
    files: int = 0
    rows: int = 0
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    # Names the topic's aliases filed under another subject ({from, to, rows}),
    # names the bank did not have ({name, rows}), and the rounds whose numbers
    # start again in each subject (round keys).
    subjects_renamed: list[dict] = field(default_factory=list)
    subjects_new: list[dict] = field(default_factory=list)
    rounds_by_subject: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "files": self.files,
            "rows": self.rows,
            "imported": self.imported,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": [r.as_dict() for r in self.rejected],
            "subjects_renamed": self.subjects_renamed,
            "subjects_new": self.subjects_new,
            "rounds_by_subject": self.rounds_by_subject,
        }


_REPORT_KEYS = (
    "files",
    "rows",
    "imported",
    "updated",
    "unchanged",
    "rejected",
    "subjects_renamed",
    "subjects_new",
    "rounds_by_subject",
)
_REJECTION_KEYS = ("file", "line", "reason")


def report_json(report: dict) -> str:
    """The report file, as `--report` writes it and the web offers it (in one key
    order: a report read back from a jsonb column comes with its keys sorted)."""
    ordered = {key: report[key] for key in _REPORT_KEYS if key in report}
    ordered["rejected"] = [
        {key: r[key] for key in _REJECTION_KEYS} for r in report["rejected"]
    ]
    return json.dumps(ordered, ensure_ascii=False, indent=2)


@dataclass(frozen=True)
class ImportSource:
    """A file to import: its name (as reports show it) and how to read it."""

    name: str
    read: Callable[[], bytes]

    @classmethod
    def from_path(cls, path: Path) -> ImportSource:
        return cls(str(path), Path(path).read_bytes)


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
    on_row: Callable[[], object] | None = None,
    on_write: Callable[[], None] | None = None,
) -> ImportReport:
    """Import every row of the files; with dry_run nothing is written.

    The command and the web import both come here. No row aborts the import:
    each is imported, updated, unchanged or rejected with its reason. The
    topic's subject aliases apply to every row before it is matched.
    """
    report = ImportReport()
    rows: list[ParsedRow] = []
    subjects = _SubjectNames(topic)
    for source in [*map(ImportSource.from_path, paths), *sources]:
        report.files += 1
        for item in parse_bytes(source.name, source.read()):
            report.rows += 1
            if on_row:
                on_row()
            if isinstance(item, Rejection):
                report.rejected.append(item)
            else:
                subjects.apply(item)
                rows.append(item)
    if on_write:
        on_write()
    existing = _existing_questions(topic)
    numbering = identity.round_numbering(
        rows, known=subjects.rounds_by_subject, held=_held_by_number(existing)
    )
    rows, duplicates = identity.split_duplicates(rows, numbering)
    report.rejected += [
        Rejection(row.file, row.line, f"duplicate of {first.file} line {first.line}")
        for row, first in duplicates
    ]
    report.rejected.sort(key=_file_order([r.file for r in report.rejected]))
    subjects.report(report, rows)
    report.rounds_by_subject = sorted(
        rounds.round_key(*key) for key, by_subject in numbering.items() if by_subject
    )
    try:
        with transaction.atomic():
            _write_rows(
                topic=topic,
                rows=rows,
                existing=_by_identity(existing, numbering),
                numbering=numbering,
                report=report,
            )
            if dry_run:
                raise _DryRunRollback
    except _DryRunRollback:
        pass
    return report


def _file_order(names: list[str]) -> Callable[[Rejection], tuple[int, int]]:
    """Rejections in the order of the files, then of their lines."""
    order = {name: i for i, name in enumerate(dict.fromkeys(names))}
    return lambda r: (order[r.file], r.line)


class _SubjectNames:
    """The topic's subject aliases applied to rows, and what the report says
    about names: which were filed under another, which the bank lacks."""

    def __init__(self, topic: Topic):
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

    def apply(self, row: ParsedRow) -> None:
        canonical = self.aliases.get(row.subject)
        if canonical is not None:
            self.renamed[(row.subject, canonical)] += 1
            row.subject_original, row.subject = row.subject, canonical

    def report(self, report: ImportReport, rows: list[ParsedRow]) -> None:
        report.subjects_renamed = [
            {"from": name, "to": into, "rows": n}
            for (name, into), n in sorted(self.renamed.items())
        ]
        new = Counter(r.subject for r in rows if r.subject not in self.known)
        report.subjects_new = [
            {"name": name, "rows": n} for name, n in sorted(new.items()) if name
        ]


def _row_values(row: ParsedRow, *, by_subject: bool) -> dict:
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


def _write_rows(
    *,
    topic: Topic,
    rows: list[ParsedRow],
    existing: dict[identity.Identity, Question],
    numbering: dict[identity.Round, bool],
    report: ImportReport,
) -> None:
    to_create: list[Question] = []
    edits: list[tuple[Question, dict]] = []
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
            continue
        matched.add(question.pk)
        if all(getattr(question, k) == v for k, v in values.items()):
            report.unchanged += 1
        elif question.deleted_at is not None:
            report.rejected.append(
                Rejection(row.file, row.line, "question is deleted; restore it first")
            )
        else:
            edits.append((question, values))
    # The question services' bulk forms: the same stale rule, events (in this
    # transaction, so a dry run's rollback takes them too), re-embedding and
    # relation invalidation as an edit in the form, in a few statements.
    questions_bulk_create(topic=topic, questions=to_create)
    updated = questions_bulk_update(edits=edits)
    # A round that turned out to number each subject from 1 does so for all of
    # its questions, also those this import did not touch.
    questions_bulk_update(
        edits=[
            (q, {"numbered_by_subject": True})
            for q in existing.values()
            if q.pk not in matched and numbering.get((q.exam_year, q.exam_session))
        ]
    )
    report.imported += len(to_create)
    report.updated += len(updated)


def _existing_questions(topic: Topic) -> list[Question]:
    """The topic's questions with a round, with what an import compares."""
    return list(
        Question.objects.filter(
            topic=topic, exam_year__isnull=False, number__isnull=False
        ).only(
            "id",
            "topic_id",
            "exam_year",
            "exam_session",
            "number",
            *_COMPARED_FIELDS,
            "ai_explanation_status",
            "deleted_at",
        )
    )


def _held_by_number(existing: list[Question]) -> dict[identity.Held, tuple[str, str]]:
    """(round, number) → (subject, stem) of the questions numbered through."""
    return {
        ((q.exam_year, q.exam_session), q.number): (q.subject, q.stem)
        for q in existing
        if not q.numbered_by_subject and q.number is not None
    }


def _by_identity(
    existing: list[Question], numbering: dict[identity.Round, bool]
) -> dict[identity.Identity, Question]:
    """The questions by their identity in this import's numbering: a round now
    numbered by subject is matched by subject too."""
    found: dict[identity.Identity, Question] = {}
    for q in existing:
        by_subject = q.numbered_by_subject or numbering.get(
            (q.exam_year, q.exam_session), False
        )
        key = identity.identity(
            q.exam_year, q.exam_session, q.subject, q.number, by_subject
        )
        found.setdefault(key, q)
    return found
