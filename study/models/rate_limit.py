from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class RateLimitHit(models.Model):
    """One counted use of a rate-limited action (an LLM call, a reset mail).

    Kept in PostgreSQL because every web process must see the same counts; rows
    older than their window are deleted when the bucket is next used.
    """

    bucket = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("사용량 기록")
        verbose_name_plural = pgettext_lazy("plural", "사용량 기록")
        indexes = [
            models.Index(fields=["bucket", "created_at"], name="study_ratelimit_bucket")
        ]

    def __str__(self) -> str:
        return f"{self.bucket} @ {self.created_at:%Y-%m-%d %H:%M:%S}"
