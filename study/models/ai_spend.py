from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AISpend(models.Model):
    """One LLM call, charged to the user who caused it (a click, or the
    background work their quiz, upload or search queued). The per-user AI
    budget counts these rows; the health report sums them per user."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("사용자"),
    )
    purpose = models.CharField(_("용도"), max_length=40)  # the call's schema name
    tokens = models.PositiveIntegerField(_("토큰 (추정)"), default=0)
    created_at = models.DateTimeField(_("시각"), default=timezone.now)

    class Meta:
        verbose_name = _("AI 사용 기록")
        verbose_name_plural = pgettext_lazy("plural", "AI 사용 기록")
        indexes = [
            models.Index(fields=["user", "created_at"], name="study_aispend_user_time"),
            models.Index(fields=["created_at"], name="study_aispend_time"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.purpose} @ {self.created_at:%Y-%m-%d %H:%M}"
