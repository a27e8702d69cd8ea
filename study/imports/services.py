"""Import of past-exam files into a topic's question bank (idempotent)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction

from study.imports.parsing import ParsedRow, Rejection, parse_bytes
from study.models import Question, Topic
from study.models.question import CONTENT_FIELDS
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

    def as_dict(self) -> dict:
        return {
            "files": self.files,
            "rows": self.rows,
            "imported": self.imported,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": [r.as_dict() for r in self.rejected],
        }


_REPORT_KEYS = ("files", "rows", "imported", "updated", "unchanged", "rejected")
_REJECTION_KEYS = ("file", "line", "reason")


def report_json(report: dict) -> str:
    """The report file, as `--report` writes it and the web offers it (in one key
    order: a report read back from a jsonb column comes with its keys sorted)."""
    ordered = {key: report[key] for key in _REPORT_KEYS}
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
    each is imported, updated, unchanged or rejected with its reason.
    """
    report = ImportReport()
    rows: list[ParsedRow] = []
    seen: dict[tuple, ParsedRow] = {}
    for source in [*map(ImportSource.from_path, paths), *sources]:
        report.files += 1
        for item in parse_bytes(source.name, source.read()):
            report.rows += 1
            if on_row:
                on_row()
            if isinstance(item, Rejection):
                report.rejected.append(item)
            elif item.key in seen:
                first = seen[item.key]
                report.rejected.append(
                    Rejection(
                        item.file,
                        item.line,
                        f"duplicate of {first.file} line {first.line}",
                    )
                )
            else:
                seen[item.key] = item
                rows.append(item)
    if on_write:
        on_write()
    with transaction.atomic():
        _write_rows(topic=topic, rows=rows, report=report, dry_run=dry_run)
    return report


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


def _write_rows(
    *, topic: Topic, rows: list[ParsedRow], report: ImportReport, dry_run: bool
) -> None:
    existing = {
        (q.exam_year, q.exam_session, q.number): q
        for q in Question.objects.filter(
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
    }
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
        elif all(getattr(question, k) == v for k, v in values.items()):
            report.unchanged += 1
        elif question.deleted_at is not None:
            report.rejected.append(
                Rejection(row.file, row.line, "question is deleted; restore it first")
            )
        else:
            edits.append((question, values))
    if dry_run:  # every edit changes a content field: each would be updated
        report.imported += len(to_create)
        report.updated += len(edits)
        return
    # The question services' bulk forms: the same stale rule, events (in this
    # transaction), re-embedding and relation invalidation as an edit in the
    # form, in a few statements.
    questions_bulk_create(topic=topic, questions=to_create)
    updated = questions_bulk_update(edits=edits)
    report.imported += len(to_create)
    report.updated += len(updated)
