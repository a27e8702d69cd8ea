"""Imports started from the web: upload, dry run, then import, each step either
in the request (small uploads) or by a django-q2 worker with progress saved on
the QuestionImport row. The rows go through questions_import, like the command.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO, cast

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext
from django_q.tasks import async_task

from study.db.locks import user_quota_lock
from study.imports.services import ImportSource, TooManyRows, questions_import
from study.models import (
    ImportFailure,
    ImportStatus,
    QuestionImport,
    QuestionImportFile,
    Topic,
)
from study.models.question_import import CLAIMED_STATUSES, stale_before

logger = logging.getLogger(__name__)

ACCEPTED_SUFFIXES = {".csv", ".jsonl", ".ndjson", ".txt"}
_PROGRESS_EVERY_S = 0.5
_COUNT_CHUNK = 1 << 20


class ImportRejected(ValueError):
    """An upload that cannot be imported at all; the message says why."""


@transaction.atomic
def question_import_create(
    *, topic: Topic, user: User, uploads: Sequence[UploadedFile]
) -> QuestionImport:
    """Store the uploaded files and start the dry run: here when the upload is
    small in bytes and lines, else in the background. Refused (ImportRejected)
    past the size cap or the user's quota of stored uploads, which is checked
    under the user's lock so that parallel uploads cannot pass it together."""
    _check_uploads(uploads)
    total = sum(u.size or 0 for u in uploads)
    user_quota_lock(user_id=user.pk, quota="imports")
    _check_quota(user, total)
    run = QuestionImport.objects.create(topic=topic, created_by=user)
    lines = 0
    for position, upload in enumerate(uploads):
        lines += _count_lines(upload)
        QuestionImportFile.objects.create(
            question_import=run,
            position=position,
            name=Path(upload.name or "").name[:255],
            size=upload.size or 0,
            file=File(upload, name="upload"),
        )
    run.rows_estimate = lines
    run.background = (
        total > settings.QUESTION_IMPORT_INLINE_MAX_BYTES
        or lines > settings.QUESTION_IMPORT_INLINE_MAX_LINES
    )
    run.save(update_fields=["rows_estimate", "background"])
    _dispatch(run, "study.tasks.question_import_check_task", question_import_check)
    return run


def _count_lines(upload: UploadedFile) -> int:
    lines = 1
    for chunk in upload.chunks(_COUNT_CHUNK):
        lines += chunk.count(b"\n")
    upload.seek(0)
    return lines


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


def import_bytes_stored(*, user: User) -> int:
    """Bytes of this user's uploads still kept (for a dry run, an import or a
    retry); those of finished or expired imports are deleted."""
    stored = QuestionImportFile.objects.filter(
        question_import__created_by=user
    ).exclude(file="")
    return stored.aggregate(total=Sum("size"))["total"] or 0


def _check_quota(user: User, incoming: int) -> None:
    if import_bytes_stored(user=user) + incoming > settings.QUESTION_IMPORT_QUOTA_BYTES:
        raise ImportRejected(
            gettext(
                "보관 중인 가져오기 파일이 한도(%(quota)sMB)를 넘습니다. 끝나지 "
                "않은 가져오기를 마치거나, 파일이 지워질 때(올린 뒤 %(hours)s시간)"
                "까지 기다리세요."
            )
            % {
                "quota": settings.QUESTION_IMPORT_QUOTA_BYTES // (1024 * 1024),
                "hours": settings.QUESTION_IMPORT_KEEP_HOURS,
            }
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
    if run.files.filter(file="").exists():
        return False  # deleted after their time: only a new upload helps
    retryable = Q(status=ImportStatus.FAILED) | Q(
        status__in=CLAIMED_STATUSES, updated_at__lt=stale_before()
    )
    checked = run.dry_run_report is not None
    queued = ImportStatus.IMPORT_QUEUED if checked else ImportStatus.CHECK_QUEUED
    moved = QuestionImport.objects.filter(retryable, pk=run.pk).update(
        status=queued,
        error="",
        error_code="",
        error_params={},
        rows_read=0,
        writing=False,
        updated_at=timezone.now(),
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
        _fail(import_id, ImportFailure.ENQUEUE_FAILED, error=type(exc).__name__)


def _fail(import_id: int, code: ImportFailure, **params: object) -> None:
    """End the run as failed with a reason (an update: no large row written)."""
    detail = " ".join(str(v) for v in params.values())
    QuestionImport.objects.filter(pk=import_id).update(
        status=ImportStatus.FAILED,
        error_code=code,
        error_params=params,
        error=f"{code}: {detail}"[:2000],
        writing=False,
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
    """One step; every way it can end leaves the run done or failed with a
    reason (a worker that dies leaves it stale, for the retry button)."""
    waiting, running = claim
    claimed = QuestionImport.objects.filter(pk=import_id, status=waiting).update(
        status=running, rows_read=0, writing=False, updated_at=timezone.now()
    )
    run = QuestionImport.objects.select_related("topic").get(pk=import_id)
    if not claimed:
        return run
    report = _read_and_write(run, dry_run=dry_run)
    if report is not None:
        _save_report(run, report, done=done, dry_run=dry_run)
    run.refresh_from_db()
    return run


def _read_and_write(run: QuestionImport, *, dry_run: bool) -> dict | None:
    """The import's report, or None when the run was failed with a reason."""
    sources = _sources(run)
    if sources is None:
        _fail(run.pk, ImportFailure.FILES_GONE)
        return None
    progress = _Progress(run)
    try:
        return questions_import(
            topic=run.topic,
            sources=sources,
            dry_run=dry_run,
            max_rows=settings.QUESTION_IMPORT_MAX_ROWS,
            on_row=progress.row,
            on_write=progress.write,
        ).as_dict()
    except TooManyRows as exc:
        _fail(run.pk, ImportFailure.TOO_MANY_ROWS, max=exc.limit)
    except Exception as exc:  # anything unforeseen: the run says so, nothing lost
        logger.exception("question import %s failed", run.pk)
        _fail(run.pk, ImportFailure.UNEXPECTED, error=_describe(exc))
    return None


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


def _save_report(
    run: QuestionImport, report: dict, *, done: ImportStatus, dry_run: bool
) -> None:
    fields = {"status": done, "rows_read": report["rows"], "writing": False}
    if dry_run:
        fields["dry_run_report"] = report
    else:
        fields.update(report=report, finished_at=timezone.now())
    try:
        with transaction.atomic():
            QuestionImport.objects.filter(pk=run.pk).update(
                updated_at=timezone.now(), **fields
            )
    except Exception as exc:  # refused by the database, or not storable at all
        logger.exception("question import %s: report not saved", run.pk)
        _fail(run.pk, ImportFailure.REPORT_NOT_SAVED, error=type(exc).__name__)
        return
    if not dry_run:  # imported: the uploaded bytes have served
        transaction.on_commit(lambda: question_import_files_delete(run=run))


def _sources(run: QuestionImport) -> list[ImportSource] | None:
    """The run's files to read, or None when one is gone."""
    files = list(run.files.order_by("position").values_list("name", "file"))
    if any(not stored or not default_storage.exists(stored) for _, stored in files):
        return None
    return [ImportSource(name, _opener(stored)) for name, stored in files]


def _opener(stored: str) -> Callable[[], BinaryIO]:
    """Open one stored upload only when the importer reaches it."""

    def open_file() -> BinaryIO:
        handle = default_storage.open(stored, "rb")
        # The raw file, for TextIOWrapper (a storage's File wraps one).
        return cast(BinaryIO, getattr(handle, "file", handle))

    return open_file


def question_import_files_delete(*, run: QuestionImport) -> int:
    """Delete the run's stored uploads (names and sizes stay for the page)."""
    deleted = 0
    for upload in run.files.exclude(file=""):
        upload.file.delete(save=False)
        QuestionImportFile.objects.filter(pk=upload.pk).update(file="")
        deleted += 1
    return deleted


def question_imports_cleanup() -> int:
    """Delete the uploads of imports past QUESTION_IMPORT_KEEP_HOURS (and of
    finished ones); an import that still waited for them fails with that
    reason. Returns how many runs lost their files. (Schedule, hourly.)"""
    cutoff = timezone.now() - timedelta(hours=settings.QUESTION_IMPORT_KEEP_HOURS)
    expired = (
        QuestionImport.objects.filter(files__file__gt="")
        .filter(Q(status=ImportStatus.DONE) | Q(created_at__lt=cutoff))
        .exclude(status__in=CLAIMED_STATUSES, updated_at__gte=stale_before())
        .distinct()
    )
    count = 0
    for run in expired:
        question_import_files_delete(run=run)
        if run.status != ImportStatus.DONE:
            _fail(run.pk, ImportFailure.FILES_GONE)
        count += 1
    return count


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

    def _save(self, **fields: int | bool) -> None:
        QuestionImport.objects.filter(pk=self.run.pk).update(
            updated_at=timezone.now(), **fields
        )
        self.saved_at = time.monotonic()
