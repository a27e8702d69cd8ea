from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from study.models.topic import Topic

PLAN_SIZE_MIN, PLAN_SIZE_MAX = 5, 200


class ExamPlan(models.Model):
    """A learner's exam date for one topic and the size of their daily plan."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="exam_plans",
        verbose_name=_("사용자"),
    )
    topic = models.ForeignKey(
        Topic, on_delete=models.CASCADE, related_name="+", verbose_name=_("토픽")
    )
    exam_date = models.DateField(_("시험일"))
    daily_size = models.PositiveSmallIntegerField(
        _("하루 문제 수"),
        default=30,
        help_text=format_lazy(
            _("오늘 할 일에 담을 문제 수 ({min}~{max})."),
            min=PLAN_SIZE_MIN,
            max=PLAN_SIZE_MAX,
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("시험 일정")
        verbose_name_plural = pgettext_lazy("plural", "시험 일정")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "topic"], name="study_examplan_user_topic_uniq"
            ),
            models.CheckConstraint(
                condition=Q(daily_size__gte=PLAN_SIZE_MIN)
                & Q(daily_size__lte=PLAN_SIZE_MAX),
                name="study_examplan_daily_size_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.topic} · {self.exam_date}"
