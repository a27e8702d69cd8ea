from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from study.models.question import Question
from study.models.quiz_session import QuizSession

UNSURE_CHOICE = 5  # the fifth button, 모르겠음


class Outcome(models.TextChoices):
    CORRECT = "correct", pgettext_lazy("outcome", "정답")
    WRONG = "wrong", _("오답")
    UNSURE = "unsure", _("모르겠음")


class Attempt(models.Model):
    """One answer to one slot of a session. Append-only, but for reviewed_at and
    a key correction, which regrades the outcome (study/services/regrade.py)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="attempts",
        verbose_name=_("사용자"),
        db_index=False,  # study_att_user_recent and study_att_user_q lead with it
    )
    session = models.ForeignKey(
        QuizSession,
        on_delete=models.CASCADE,
        related_name="attempts",
        verbose_name=_("풀이 세션"),
        db_index=False,  # study_attempt_one_per_slot leads with it
    )
    question = models.ForeignKey(
        Question,
        on_delete=models.CASCADE,
        related_name="attempts",
        verbose_name=_("문항"),
    )
    position = models.PositiveIntegerField(verbose_name=_("순서"))
    outcome = models.CharField(
        max_length=10, choices=Outcome.choices, verbose_name=_("판정")
    )
    selected_choice = models.PositiveSmallIntegerField(
        null=True, blank=True, verbose_name=_("고른 보기")
    )
    time_taken_ms = models.PositiveIntegerField(
        default=0, verbose_name=_("걸린 시간 (ms)")
    )
    # When the answer was given: now for an online answer, the device's time
    # (kept within the session's span) for one that waited offline.
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("답한 시각"))
    # The device's idempotency key of an answer (offline sync, docs/offline.md):
    # the same key arriving twice or late finds the attempt it recorded.
    client_key = models.UUIDField(null=True, blank=True, editable=False)
    reviewed_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("확인한 시각")
    )
    # When a corrected answer key last re-scored this answer.
    regraded_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("다시 채점한 시각")
    )

    class Meta:
        verbose_name = _("풀이 기록")
        verbose_name_plural = pgettext_lazy("plural", "풀이 기록")
        ordering = ["session_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "position"], name="study_attempt_one_per_slot"
            ),
            models.CheckConstraint(
                condition=(
                    Q(outcome="unsure", selected_choice__isnull=True)
                    | (
                        Q(outcome__in=["correct", "wrong"])
                        & Q(selected_choice__gte=1)
                        & Q(selected_choice__lte=4)
                    )
                ),
                name="study_attempt_choice_matches_outcome",
            ),
            models.UniqueConstraint(
                fields=["user", "client_key"],
                condition=Q(client_key__isnull=False),
                name="study_attempt_client_key_uniq",
            ),
        ]
        indexes = [
            models.Index(
                fields=["user", "question", "-created_at"], name="study_att_user_q"
            ),
            models.Index(fields=["user", "-created_at"], name="study_att_user_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · Q{self.question_id} · {self.outcome}"
