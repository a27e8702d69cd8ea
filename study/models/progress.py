from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from study.models.attempt import Attempt, Outcome
from study.models.question import Question
from study.models.topic import Topic


class Pattern(models.TextChoices):
    UNATTEMPTED = "unattempted", _("미응시")
    UNSURE = "unsure", _("모르겠음")
    CHRONIC_WRONG = "chronic_wrong", _("고질 오답")
    REGRESSED = "regressed", _("퇴행")
    RECOVERED = "recovered", _("회복")
    STABLE = "stable", _("안정")
    UNSTABLE = "unstable", _("불안정")


NOT_CORRECT = (Outcome.WRONG, Outcome.UNSURE)


class QuestionProgress(models.Model):
    """Current state of one learner on one question (a cache over attempts)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="progress",
        verbose_name=_("사용자"),
        db_index=False,  # study_progress_uniq leads with it
    )
    topic = models.ForeignKey(
        Topic, on_delete=models.CASCADE, related_name="+", verbose_name=_("토픽")
    )
    question = models.ForeignKey(
        Question,
        on_delete=models.CASCADE,
        related_name="progress",
        verbose_name=_("문항"),
    )
    last_outcome = models.CharField(
        max_length=10, choices=Outcome.choices, verbose_name=_("마지막 판정")
    )
    last_attempted_at = models.DateTimeField(verbose_name=_("마지막으로 푼 시각"))
    last_attempt = models.ForeignKey(
        Attempt,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("마지막 풀이"),
    )
    last_reviewed_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("마지막으로 확인한 시각")
    )
    attempt_count = models.PositiveIntegerField(default=0, verbose_name=_("푼 횟수"))
    correct_count = models.PositiveIntegerField(default=0, verbose_name=_("맞힌 횟수"))
    pattern_state = models.CharField(
        max_length=20,
        choices=Pattern.choices,
        default=Pattern.UNATTEMPTED,
        verbose_name=_("학습 패턴"),
    )
    pattern_updated_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("패턴 갱신 시각")
    )
    # Outcomes of the last three attempts, oldest first.
    pattern_window = models.JSONField(default=list, verbose_name=_("최근 판정"))
    had_correct_before_window = models.BooleanField(
        default=False, verbose_name=_("이전에 맞힌 적 있음")
    )
    had_wrong_before_window = models.BooleanField(
        default=False, verbose_name=_("이전에 틀린 적 있음")
    )
    # Spaced repetition (FSRS); null until a wrong/unsure answer is reviewed.
    due_at = models.DateTimeField(null=True, blank=True, verbose_name=_("다음 복습"))
    review_stage = models.PositiveSmallIntegerField(
        default=0, verbose_name=_("복습 단계")
    )
    fsrs_card = models.JSONField(null=True, blank=True, verbose_name=_("FSRS 카드"))

    class Meta:
        verbose_name = _("학습 진행")
        verbose_name_plural = pgettext_lazy("plural", "학습 진행")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "question"], name="study_progress_uniq"
            ),
            models.CheckConstraint(
                condition=Q(pattern_state__in=Pattern.values),
                name="study_progress_pattern_valid",
            ),
            models.CheckConstraint(
                condition=Q(last_outcome__in=Outcome.values),
                name="study_progress_outcome_valid",
            ),
        ]
        indexes = [
            # The due and the not-right rows of a learner's topic carry their
            # question, so a quiz start samples its review buckets from the
            # index alone (selectors.quiz_selection._progress_rows): a learner
            # with 20,000 answers read 1,200-6,000 heap pages per start.
            models.Index(
                fields=["user", "topic", "due_at"],
                include=["question"],
                condition=Q(due_at__isnull=False),
                name="study_prog_due",
            ),
            models.Index(
                fields=["user", "topic"],
                include=["question"],
                condition=Q(last_outcome__in=NOT_CORRECT),
                name="study_prog_not_correct",
            ),
            models.Index(
                fields=["user", "topic", "pattern_state", "-last_attempted_at"],
                name="study_prog_topic_pattern",
            ),
            models.Index(
                fields=["user", "topic", "-last_attempted_at"],
                condition=Q(last_outcome__in=NOT_CORRECT)
                & (
                    Q(last_reviewed_at__isnull=True)
                    | Q(last_reviewed_at__lt=F("last_attempted_at"))
                ),
                name="study_prog_pending_review",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · Q{self.question_id} · {self.pattern_state}"

    @property
    def is_scheduled(self) -> bool:
        return self.fsrs_card is not None

    @property
    def is_pending_review(self) -> bool:
        """A miss or 모르겠음 the learner has not marked 확인 완료 since."""
        return self.last_outcome in NOT_CORRECT and (
            self.last_reviewed_at is None
            or self.last_reviewed_at < self.last_attempted_at
        )


class LearnerSettings(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="learner_settings",
        verbose_name=_("사용자"),
    )
    desired_retention = models.FloatField(
        _("목표 기억률"),
        default=0.9,
        help_text=_(
            "복습 시점에 기억하고 있을 확률 목표 (0.70~0.97). 높을수록 자주 복습합니다."
        ),
    )
    # "" = no preference: the browser's language or the language cookie decides.
    language = models.CharField(
        _("화면 언어"),
        max_length=8,
        blank=True,
        default="",
        db_default="",  # rows written by COPY (benchmark dataset) get it too
        choices=settings.LANGUAGES,
    )

    class Meta:
        verbose_name = _("학습 설정")
        verbose_name_plural = pgettext_lazy("plural", "학습 설정")
        constraints = [
            models.CheckConstraint(
                condition=Q(desired_retention__gte=0.7)
                & Q(desired_retention__lte=0.97),
                name="study_settings_retention_range",
            ),
            models.CheckConstraint(
                condition=Q(language__in=["", *(c for c, _n in settings.LANGUAGES)]),
                name="study_settings_language_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.desired_retention:.2f}"
