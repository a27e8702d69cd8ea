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
    SUBJECT_NOTE = "subject_note", _("분야 설명")


class JobError(models.TextChoices):
    """Why a job's attempt failed or ended: the one vocabulary of the runner,
    the job kinds, the cards and the health report. Stored as the code; the
    label is the plain reason a card shows."""

    LLM_TIMEOUT = "llm_timeout", _("LLM이 제한 시간 안에 답하지 않았습니다")
    GATE_TIMEOUT = (
        "gate_timeout",
        _("LLM이 다른 요청을 처리하느라 차례가 오지 않았습니다"),
    )
    LLM_HTTP_ERROR = "llm_http_error", _("LLM 서버가 오류로 답했습니다")
    PARSE_FAIL = "parse_fail", _("LLM의 답이 약속한 형식이 아니었습니다")
    GUARD_FAIL = "guard_fail", _("LLM이 쓴 해설이 정답과 맞지 않아 보여 주지 않습니다")
    CONTENT_CHANGED = "content_changed", _("생성 중에 문제가 수정되었습니다")
    STALE_PROCESSING = "stale_processing", _("작업하던 워커가 멈췄습니다")
    NOT_CONFIGURED = "not_configured", _("LLM 서버가 설정되어 있지 않습니다")
    UNKNOWN = "unknown", _("예상하지 못한 오류가 났습니다")
    BUSY = "busy", _("다른 요청이 같은 내용을 만들고 있습니다")
    EVIDENCE_MISSING = "evidence_missing", _("근거로 쓸 자료가 없습니다")
    NO_ATTEMPTS = "no_attempts", _("분석할 답안이 없습니다")
    # The user's AI budget (AI_BUDGET_PER_USER) is spent: the work waits for
    # it or is skipped (study.services.ai_budget).
    BUDGET_EXCEEDED = "budget_exceeded", _("이 계정의 AI 사용 한도를 다 썼습니다")


# What an error_code column may hold: a code, or nothing.
ERROR_CODES = ["", *JobError.values]


class JobFields(models.Model):
    """Columns shared by the question and session job tables."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("사용자"),
    )
    status = models.CharField(
        max_length=20,
        choices=JobStatus.choices,
        default=JobStatus.PENDING,
        verbose_name=_("상태"),
    )
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("시도 횟수"))
    max_attempts = models.PositiveSmallIntegerField(
        default=2, verbose_name=_("최대 시도 횟수")
    )
    error_code = models.CharField(
        max_length=40,
        blank=True,
        choices=JobError.choices,
        verbose_name=_("오류 코드"),
    )
    error_message = models.TextField(blank=True, verbose_name=_("오류 메시지"))
    payload = models.JSONField(default=dict, blank=True, verbose_name=_("입력"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("생성"))
    # A pending job waits for this moment (retry backoff); null: due at once.
    run_after = models.DateTimeField(null=True, blank=True, verbose_name=_("실행 예정"))
    started_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("시작 시각")
    )
    completed_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("완료 시각")
    )

    class Meta:
        abstract = True

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL


class QuestionJob(JobFields):
    """Background work on one question (AI explanation prefetch); rows are history."""

    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, related_name="jobs", verbose_name=_("문항")
    )
    kind = models.CharField(
        max_length=40,
        choices=JobKind.choices,
        default=JobKind.EXPLANATION,
        verbose_name=_("종류"),
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
            models.CheckConstraint(
                condition=Q(error_code__in=ERROR_CODES),
                name="study_qjob_error_code_valid",
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
        QuizSession,
        on_delete=models.CASCADE,
        related_name="jobs",
        verbose_name=_("풀이 세션"),
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
            models.CheckConstraint(
                condition=Q(error_code__in=ERROR_CODES),
                name="study_sjob_error_code_valid",
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
        QuizSession,
        on_delete=models.CASCADE,
        related_name="analysis",
        verbose_name=_("풀이 세션"),
    )
    summary_md = models.TextField(verbose_name=_("요약"))
    weak_subjects = models.JSONField(
        default=list, blank=True, verbose_name=_("약한 과목")
    )
    patterns = models.JSONField(default=list, blank=True, verbose_name=_("패턴"))
    next_steps = models.JSONField(
        default=list, blank=True, verbose_name=_("다음 할 일")
    )
    confidence = models.CharField(max_length=10, verbose_name=_("신뢰도"))
    model = models.CharField(max_length=200, blank=True, verbose_name=_("모델"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("생성"))

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
