from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from study.models.topic import Topic


class ForecastSnapshot(models.Model):
    """A learner's forecast, daily plan and calibration for one topic, as the
    pages show them, so that a page reads one row instead of every answer.

    Computed in the background (study.forecast.snapshots) after each change
    they depend on: a finished session, a new exam date or plan size, and
    once a day (memory fades with the days). `generation` goes up with every
    invalidation; a refresh stores its result only if none came meanwhile.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="+")
    generation = models.PositiveIntegerField(default=0)
    stale = models.BooleanField(default=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    # The local day, exam date and plan size the parts were computed for.
    computed_for = models.DateField(null=True, blank=True)
    exam_date = models.DateField(null=True, blank=True)
    daily_size = models.PositiveSmallIntegerField(null=True, blank=True)
    # The shape of the stored parts (study.forecast.codec); another shape is
    # never read.
    version = models.CharField(max_length=40, blank=True)
    forecast = models.JSONField(null=True, blank=True)
    plan = models.JSONField(null=True, blank=True)
    calibration = models.JSONField(null=True, blank=True)
    # The learner's past forecasts against their sittings (the calibration
    # page's track record).
    track = models.JSONField(null=True, blank=True)

    class Meta:
        verbose_name = _("합격 예측 캐시")
        verbose_name_plural = pgettext_lazy("plural", "합격 예측 캐시")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "topic"], name="study_forecastsnapshot_user_topic"
            ),
        ]
        indexes = [
            # The refresh's batch: stale rows, and yesterday's with an exam ahead.
            models.Index(
                fields=["computed_for"],
                condition=Q(stale=True) | Q(exam_date__isnull=False),
                name="study_forecastsnapshot_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.topic} · {self.computed_for}"
