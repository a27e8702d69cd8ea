"""An import of question files started from the web (topic page or admin).

The uploaded bytes live in the database so that a worker on another machine
can read them; the reports are the same JSON as `import_questions --report`.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from study.models.topic import Topic


class ImportStatus(models.TextChoices):
    CHECK_QUEUED = "check_queued", _("검사 대기")
    CHECKING = "checking", _("검사 중")
    CHECKED = "checked", _("검사 완료")
    IMPORT_QUEUED = "import_queued", _("가져오기 대기")
    IMPORTING = "importing", _("가져오는 중")
    DONE = "done", _("완료")
    FAILED = "failed", _("실패")


class ImportFailure(models.TextChoices):
    """Why a run failed (the words, with their parameters, are in
    study.imports.reasons: stored as a code, put into words when shown)."""

    TOO_MANY_ROWS = "too_many_rows", _("행이 너무 많음")
    FILES_GONE = "files_gone", _("올린 파일이 지워짐")
    REPORT_NOT_SAVED = "report_not_saved", _("보고서를 저장하지 못함")
    ENQUEUE_FAILED = "enqueue_failed", _("작업 큐에 넣지 못함")
    UNEXPECTED = "unexpected", _("예상하지 못한 오류")


RUNNING_STATUSES = (
    ImportStatus.CHECK_QUEUED,
    ImportStatus.CHECKING,
    ImportStatus.IMPORT_QUEUED,
    ImportStatus.IMPORTING,
)

CLAIMED_STATUSES = (ImportStatus.CHECKING, ImportStatus.IMPORTING)


def stale_before() -> datetime:
    """A running step saves progress every half second while it reads; one
    silent for longer than a task may run has lost its worker."""
    return timezone.now() - timedelta(seconds=settings.Q_CLUSTER["timeout"] + 60)


class QuestionImport(models.Model):
    topic = models.ForeignKey(
        Topic, on_delete=models.CASCADE, related_name="imports", verbose_name=_("토픽")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="question_imports",
        verbose_name=_("올린 사람"),
    )
    status = models.CharField(
        _("상태"),
        max_length=20,
        choices=ImportStatus.choices,
        default=ImportStatus.CHECK_QUEUED,
    )
    background = models.BooleanField(_("백그라운드"), default=False)
    # Progress while a worker runs: rows read of about rows_estimate (the
    # files' line count), then the write of all rows in one transaction.
    rows_estimate = models.PositiveIntegerField(default=0, verbose_name=_("예상 행 수"))
    rows_read = models.PositiveIntegerField(default=0, verbose_name=_("읽은 행 수"))
    writing = models.BooleanField(default=False, verbose_name=_("쓰는 중"))
    dry_run_report = models.JSONField(_("검사 보고서"), null=True, blank=True)
    report = models.JSONField(_("가져오기 보고서"), null=True, blank=True)
    error = models.TextField(_("오류"), blank=True)  # technical detail (staff)
    error_code = models.CharField(
        _("실패 이유"), max_length=20, choices=ImportFailure.choices, blank=True
    )
    error_params = models.JSONField(_("실패 이유의 값"), default=dict, blank=True)
    created_at = models.DateTimeField(_("생성"), auto_now_add=True)
    updated_at = models.DateTimeField(pgettext_lazy("field", "수정"), auto_now=True)
    finished_at = models.DateTimeField(_("완료"), null=True, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("model", "문제 가져오기")
        verbose_name_plural = pgettext_lazy("plural", "문제 가져오기")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ImportStatus.values),
                name="study_questionimport_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(error_code__in=["", *ImportFailure.values]),
                name="study_questionimport_error_code_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.topic} #{self.pk} · {self.get_status_display()}"

    @property
    def is_running(self) -> bool:
        return self.status in RUNNING_STATUSES

    @property
    def is_stuck(self) -> bool:
        """Claimed by a worker that stopped saving progress. (A queued step may
        wait long behind other background work; that is not stuck.)"""
        return self.status in CLAIMED_STATUSES and self.updated_at < stale_before()

    @property
    def percent(self) -> int:
        if self.writing:
            return 99
        if not self.rows_estimate:
            return 0
        return min(98, 100 * self.rows_read // self.rows_estimate)


def import_file_path(instance: QuestionImportFile, filename: str) -> str:
    return f"imports/{uuid.uuid4().hex}.upload"


class QuestionImportFile(models.Model):
    """One uploaded file. Its bytes are in the file storage (as documents'
    are), read by the worker as a stream; they are deleted once the import is
    done or QUESTION_IMPORT_KEEP_HOURS after the upload (`file` is then empty)."""

    question_import = models.ForeignKey(
        QuestionImport, on_delete=models.CASCADE, related_name="files"
    )
    position = models.PositiveSmallIntegerField()
    name = models.CharField(_("파일 이름"), max_length=255)
    size = models.PositiveBigIntegerField(_("크기"))
    file = models.FileField(
        _("올린 파일"), upload_to=import_file_path, max_length=200, blank=True
    )

    class Meta:
        ordering = ["question_import_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["question_import", "position"],
                name="study_questionimportfile_position_uniq",
            ),
        ]

    def __str__(self) -> str:
        return self.name
