from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from study.models.topic import Topic


class QuizMode(models.TextChoices):
    STAGE = "stage", _("단계별")
    ROUND = "round", _("회차별")
    SUBJECT = "subject", _("과목별")
    MOCK = "mock", _("모의고사")
    REVIEW = "review", pgettext_lazy("quiz mode", "복습")
    PLAN = "plan", _("오늘 할 일")


class QuizStage(models.TextChoices):
    INTRO = "intro", _("입문")
    LEARNING = "learning", _("학습")
    PRE_EXAM = "pre_exam", _("시험 직전")


class Feedback(models.TextChoices):
    """When the learner sees whether an answer was right (a mock: at submission)."""

    END = "end", _("다 풀고 나서 한꺼번에")
    EACH = "each", _("문제마다 바로")


class QuizStatus(models.TextChoices):
    ACTIVE = "active", _("진행 중")
    FINISHED = "finished", _("완료")
    ABANDONED = "abandoned", _("중단")


class QuizSession(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="quiz_sessions",
        verbose_name=_("사용자"),
        db_index=False,  # study_quiz_user_recent leads with it
    )
    topic = models.ForeignKey(
        Topic,
        on_delete=models.CASCADE,
        related_name="quiz_sessions",
        verbose_name=_("토픽"),
    )
    mode = models.CharField(
        max_length=20, choices=QuizMode.choices, verbose_name=_("방식")
    )
    stage = models.CharField(
        max_length=20, choices=QuizStage.choices, blank=True, verbose_name=_("단계")
    )
    # What the learner asked for (round key, subjects, review tab, …).
    params = models.JSONField(default=dict, blank=True, verbose_name=_("요청 조건"))
    question_ids = ArrayField(models.BigIntegerField(), verbose_name=_("문항 목록"))
    answered_count = models.PositiveIntegerField(
        default=0, verbose_name=_("답한 문제 수")
    )
    status = models.CharField(
        max_length=20,
        choices=QuizStatus.choices,
        default=QuizStatus.ACTIVE,
        verbose_name=_("상태"),
    )
    started_at = models.DateTimeField(auto_now_add=True, verbose_name=_("시작 시각"))
    last_activity_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("끝난 시각")
    )
    # What changed this session (회복, 퇴행, …) is derived from the attempts when
    # shown (study/selectors/counts.py), so a regrade or a later session never
    # leaves it stale. Mock exams: per-subject scores and the pass decision,
    # rescored when a key is corrected (study/services/regrade.py).
    result = models.JSONField(default=dict, blank=True, verbose_name=_("채점 결과"))
    # Mock exams (CBT): the server's clock, and answers kept until submission
    # ({"position": choice}, choice 5 = 모르겠음) with the slots marked for review.
    deadline_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("제출 기한")
    )
    drafts = models.JSONField(default=dict, blank=True, verbose_name=_("임시 답안"))
    marked = ArrayField(
        models.PositiveIntegerField(),
        default=list,
        blank=True,
        verbose_name=_("검토 표시한 문제"),
    )

    class Meta:
        verbose_name = _("풀이 세션")
        verbose_name_plural = pgettext_lazy("plural", "풀이 세션")
        ordering = ["-started_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(mode__in=QuizMode.values), name="study_quiz_mode_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=QuizStatus.values),
                name="study_quiz_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(stage__in=[*QuizStage.values, ""]),
                name="study_quiz_stage_valid",
            ),
            models.CheckConstraint(
                condition=Q(deadline_at__isnull=True) | Q(mode="mock"),
                name="study_quiz_deadline_only_mock",
            ),
        ]
        indexes = [
            # Not last_activity_at: an answer moves it, and an indexed column
            # that changes makes every answer's UPDATE write a new entry in
            # each of the table's indexes instead of a heap-only (HOT) tuple.
            # A learner has a handful of active sessions per topic to sort.
            models.Index(
                fields=["user", "topic"],
                condition=Q(status="active"),
                name="study_quiz_active_by_topic",
            ),
            models.Index(fields=["user", "-started_at"], name="study_quiz_user_recent"),
            # The topic page's latest finished sessions, read in order: a
            # learner with 1,000 finished sessions in a topic had them all
            # gathered and sorted (1.8 ms at full scale). No answer moves
            # these columns; finishing a session adds its entry.
            models.Index(
                fields=["user", "topic", "-finished_at"],
                condition=~Q(status="active"),
                name="study_quiz_finished_by_topic",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_mode_display()} #{self.pk} ({self.user})"

    @property
    def size(self) -> int:
        return len(self.question_ids)

    @property
    def kind_label(self) -> str:
        """`단계별 · 시험 직전` (the quiz card's heading and the offline copy):
        the choices' labels read directly (get_FOO_display rebuilds the
        choices on every call, and the card shows this on every answer)."""
        label = str(QuizMode(self.mode).label) if self.mode in QuizMode else self.mode
        if not self.stage:
            return label
        stage = QuizStage(self.stage).label if self.stage in QuizStage else self.stage
        return f"{label} · {stage}"

    @property
    def is_active(self) -> bool:
        return self.status == QuizStatus.ACTIVE

    @property
    def is_timed(self) -> bool:
        return self.deadline_at is not None

    @property
    def feedback_each(self) -> bool:
        """Each answer is shown right or wrong before the next question."""
        return (self.params or {}).get("feedback") == Feedback.EACH

    @property
    def current_question_id(self) -> int | None:
        if self.answered_count >= self.size:
            return None
        return self.question_ids[self.answered_count]
