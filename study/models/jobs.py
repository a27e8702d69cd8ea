from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from study.models.question import Question
from study.models.quiz_session import QuizSession


class JobStatus(models.TextChoices):
    PENDING = "pending", _("대기")
    PROCESSING = "processing", _("처리 중")
    COMPLETED = "completed", _("완료")
    FAILED = "failed", _("실패")
    SKIPPED = "skipped", _("건너뜀")


# A job still to run or running: at most one per question and kind, per session.
ACTIVE = (JobStatus.PENDING, JobStatus.PROCESSING)
TERMINAL = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.SKIPPED)


class JobKind(models.TextChoices):
    EXPLANATION = "explanation", _("AI 해설")
    SESSION_SUMMARY = "session_summary", _("세션 분석 (예약)")


class JobFields(models.Model):
    """Columns shared by the question and session job tables."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(
        max_length=20, choices=JobStatus.choices, default=JobStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=2)
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # A pending job waits for this moment (retry backoff); null: due at once.
    run_after = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL


class QuestionJob(JobFields):
    """Background work on one question (AI explanation prefetch); rows are history."""

    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, related_name="jobs"
    )
    kind = models.CharField(
        max_length=40, choices=JobKind.choices, default=JobKind.EXPLANATION
    )

    class Meta:
        verbose_name = _("문항 작업")
        verbose_name_plural = pgettext_lazy("plural", "문항 작업")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["question", "kind"],
                condition=Q(status__in=ACTIVE),
                name="study_qjob_one_active",
            ),
            models.CheckConstraint(
                condition=Q(status__in=JobStatus.values), name="study_qjob_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=JobKind.values), name="study_qjob_kind_valid"
            ),
        ]
        indexes = [
            models.Index(
                fields=["kind", "created_at"],
                condition=Q(status="pending"),
                name="study_qjob_pending",
            ),
            models.Index(
                fields=["status", "started_at"],
                condition=Q(status="processing"),
                name="study_qjob_processing",
            ),
            models.Index(
                fields=["question", "kind", "-created_at"], name="study_qjob_latest"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} Q{self.question_id} {self.status}"


class SessionJob(JobFields):
    """Background analysis of one finished quiz session (Phase 4-B)."""

    session = models.ForeignKey(
        QuizSession, on_delete=models.CASCADE, related_name="jobs"
    )

    class Meta:
        verbose_name = _("세션 분석 작업")
        verbose_name_plural = pgettext_lazy("plural", "세션 분석 작업")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["session"],
                condition=Q(status__in=ACTIVE),
                name="study_sjob_one_active",
            ),
            models.CheckConstraint(
                condition=Q(status__in=JobStatus.values), name="study_sjob_status_valid"
            ),
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(status="pending"),
                name="study_sjob_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"session {self.session_id} {self.status}"


class SessionAnalysis(models.Model):
    session = models.OneToOneField(
        QuizSession, on_delete=models.CASCADE, related_name="analysis"
    )
    summary_md = models.TextField()
    weak_subjects = models.JSONField(default=list, blank=True)
    patterns = models.JSONField(default=list, blank=True)
    next_steps = models.JSONField(default=list, blank=True)
    confidence = models.CharField(max_length=10)
    model = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("세션 분석")
        verbose_name_plural = pgettext_lazy("plural", "세션 분석")
        constraints = [
            models.CheckConstraint(
                condition=Q(confidence__in=["high", "medium", "low"]),
                name="study_analysis_confidence_valid",
            )
        ]

    def __str__(self) -> str:
        return f"analysis of session {self.session_id}"
