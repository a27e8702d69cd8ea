"""Imports started from the web: upload, dry run, then import, each step either
in the request (small uploads) or by a django-q2 worker with progress saved on
the QuestionImport row. The rows go through questions_import, like the command.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django_q.tasks import async_task

from study.imports.services import ImportSource, questions_import
from study.models import ImportStatus, QuestionImport, QuestionImportFile, Topic
from study.models.question_import import CLAIMED_STATUSES, stale_before

logger = logging.getLogger(__name__)

ACCEPTED_SUFFIXES = {".csv", ".jsonl", ".ndjson", ".txt"}
_PROGRESS_EVERY_S = 0.5


class ImportRejected(ValueError):
    """An upload that cannot be imported at all; the message says why."""


@transaction.atomic
def question_import_create(
    *, topic: Topic, user, uploads: Sequence[UploadedFile]
) -> QuestionImport:
    """Store the uploaded files and start the dry run (here, or in the background
    when the upload is larger than QUESTION_IMPORT_INLINE_MAX_BYTES)."""
    _check_uploads(uploads)
    total = sum(u.size or 0 for u in uploads)
    run = QuestionImport.objects.create(
        topic=topic,
        created_by=user,
        background=total > settings.QUESTION_IMPORT_INLINE_MAX_BYTES,
    )
    estimate = 0
    for position, upload in enumerate(uploads):
        data = b"".join(upload.chunks())
        estimate += data.count(b"\n") + 1
        QuestionImportFile.objects.create(
            question_import=run,
            position=position,
            name=Path(upload.name or "").name,
            size=len(data),
            data=data,
        )
    run.rows_estimate = estimate
    run.save(update_fields=["rows_estimate"])
    _dispatch(run, "study.tasks.question_import_check_task", question_import_check)
    return run


def _check_uploads(uploads: Sequence[UploadedFile]) -> None:
    if not uploads:
        raise ImportRejected(gettext("가져올 파일을 고르세요."))
    for upload in uploads:
        if Path(upload.name or "").suffix.lower() not in ACCEPTED_SUFFIXES:
            raise ImportRejected(
                gettext("%(name)s: CSV(.csv) 또는 JSON Lines(.jsonl) 파일만 됩니다.")
                % {"name": upload.name}
            )
    if sum(u.size or 0 for u in uploads) > settings.QUESTION_IMPORT_MAX_BYTES:
        limit = settings.QUESTION_IMPORT_MAX_BYTES // (1024 * 1024)
        raise ImportRejected(
            gettext("파일이 너무 큽니다 (모두 합쳐 최대 %(limit)sMB).")
            % {"limit": limit}
        )


def question_import_confirm(*, question_import: QuestionImport) -> bool:
    """After the dry run: import for real. False when it is not waiting for that."""
    moved = QuestionImport.objects.filter(
        pk=question_import.pk, status=ImportStatus.CHECKED
    ).update(
        status=ImportStatus.IMPORT_QUEUED,
        rows_read=0,
        writing=False,
        updated_at=timezone.now(),
    )
    if moved:
        question_import.refresh_from_db()
        _dispatch(
            question_import,
            "study.tasks.question_import_apply_task",
            question_import_apply,
        )
    return bool(moved)


def question_import_retry(*, question_import: QuestionImport) -> bool:
    """Run the step again after it failed or its worker died (no sign of life
    for longer than a task may take). Nothing was written by the broken step:
    the import writes in one transaction."""
    run = question_import
    retryable = Q(status=ImportStatus.FAILED) | Q(
        status__in=CLAIMED_STATUSES, updated_at__lt=stale_before()
    )
    checked = run.dry_run_report is not None
    queued = ImportStatus.IMPORT_QUEUED if checked else ImportStatus.CHECK_QUEUED
    moved = QuestionImport.objects.filter(retryable, pk=run.pk).update(
        status=queued, error="", rows_read=0, writing=False, updated_at=timezone.now()
    )
    if moved:
        run.refresh_from_db()
        if checked:
            _dispatch(
                run, "study.tasks.question_import_apply_task", question_import_apply
            )
        else:
            _dispatch(
                run, "study.tasks.question_import_check_task", question_import_check
            )
    return bool(moved)


def _dispatch(run: QuestionImport, task: str, step: Callable[..., object]) -> None:
    if run.background:
        transaction.on_commit(lambda: _enqueue(task, run.pk))
    else:
        step(import_id=run.pk)


def _enqueue(task: str, import_id: int) -> None:
    try:
        async_task(task, import_id)
    except Exception as exc:
        logger.exception("could not enqueue question import %s", import_id)
        QuestionImport.objects.filter(pk=import_id).update(
            status=ImportStatus.FAILED,
            error=gettext("작업 큐에 넣지 못했습니다: %(name)s")
            % {"name": type(exc).__name__},
            updated_at=timezone.now(),
        )


def question_import_check(*, import_id: int) -> QuestionImport:
    """The dry run: what the import would do, nothing written."""
    return _run(
        import_id,
        claim=(ImportStatus.CHECK_QUEUED, ImportStatus.CHECKING),
        done=ImportStatus.CHECKED,
        dry_run=True,
    )


def question_import_apply(*, import_id: int) -> QuestionImport:
    return _run(
        import_id,
        claim=(ImportStatus.IMPORT_QUEUED, ImportStatus.IMPORTING),
        done=ImportStatus.DONE,
        dry_run=False,
    )


def _run(
    import_id: int,
    *,
    claim: tuple[ImportStatus, ImportStatus],
    done: ImportStatus,
    dry_run: bool,
) -> QuestionImport:
    waiting, running = claim
    claimed = QuestionImport.objects.filter(pk=import_id, status=waiting).update(
        status=running, rows_read=0, writing=False, updated_at=timezone.now()
    )
    run = QuestionImport.objects.select_related("topic").get(pk=import_id)
    if not claimed:
        return run
    progress = _Progress(run)
    try:
        report = questions_import(
            topic=run.topic,
            sources=_sources(run),
            dry_run=dry_run,
            on_row=progress.row,
            on_write=progress.write,
        ).as_dict()
    except Exception as exc:  # anything unforeseen: the run says so, nothing lost
        logger.exception("question import %s failed", import_id)
        run.status = ImportStatus.FAILED
        run.error = (
            gettext("가져오는 중 오류가 났습니다: %(error)s")
            % {"error": f"{type(exc).__name__}: {exc}"}
        )[:2000]
        run.save(update_fields=["status", "error", "updated_at"])
        return run
    run.status = done
    run.rows_read = report["rows"]
    run.writing = False
    if dry_run:
        run.dry_run_report = report
    else:
        run.report = report
        run.finished_at = timezone.now()
    run.save()
    return run


def _sources(run: QuestionImport) -> list[ImportSource]:
    files = list(run.files.order_by("position").values_list("pk", "name"))
    return [ImportSource(name, _reader(pk)) for pk, name in files]


def _reader(file_id: int) -> Callable[[], bytes]:
    """Read one file's bytes only when the importer reaches it."""

    def read() -> bytes:
        data = QuestionImportFile.objects.values_list("data", flat=True).get(pk=file_id)
        return bytes(data)

    return read


class _Progress:
    """Saves the rows read now and then, for the page that polls."""

    def __init__(self, run: QuestionImport):
        self.run = run
        self.rows = 0
        self.saved_at = time.monotonic()

    def row(self) -> None:
        self.rows += 1
        if self.run.background and time.monotonic() - self.saved_at > _PROGRESS_EVERY_S:
            self._save(rows_read=self.rows)

    def write(self) -> None:
        if self.run.background:
            self._save(rows_read=self.rows, writing=True)

    def _save(self, **fields) -> None:
        QuestionImport.objects.filter(pk=self.run.pk).update(
            updated_at=timezone.now(), **fields
        )
        self.saved_at = time.monotonic()
