from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from study.models.topic import Topic

DEFAULT_PER_SUBJECT = 20
DEFAULT_MINUTES_PER_SUBJECT = 30


class ExamSpec(models.Model):
    """How a topic's real exam is laid out: the paper a mock exam imitates."""

    topic = models.OneToOneField(
        Topic,
        on_delete=models.CASCADE,
        related_name="exam_spec",
        verbose_name=_("토픽"),
    )
    subjects = ArrayField(
        models.CharField(max_length=200),
        verbose_name=_("과목 (시험 순서)"),
        help_text=_("문제은행의 과목 이름과 같아야 합니다."),
    )
    questions_per_subject = models.PositiveSmallIntegerField(
        _("과목당 문제 수"), default=DEFAULT_PER_SUBJECT
    )
    time_limit_minutes = models.PositiveSmallIntegerField(
        _("시험 시간 (분)"),
        null=True,
        blank=True,
        help_text=_("비워 두면 과목당 30분입니다."),
    )
    updated_at = models.DateTimeField(pgettext_lazy("field", "수정"), auto_now=True)

    class Meta:
        verbose_name = _("시험 구성")
        verbose_name_plural = pgettext_lazy("plural", "시험 구성")
        constraints = [
            models.CheckConstraint(
                condition=Q(subjects__len__gte=1), name="study_examspec_has_subjects"
            ),
            models.CheckConstraint(
                condition=Q(questions_per_subject__gte=1)
                & Q(questions_per_subject__lte=100),
                name="study_examspec_per_subject_range",
            ),
            models.CheckConstraint(
                condition=Q(time_limit_minutes__isnull=True)
                | (Q(time_limit_minutes__gte=1) & Q(time_limit_minutes__lte=600)),
                name="study_examspec_time_limit_range",
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(topic)s · %(subjects)s과목 × %(per)s") % {
            "topic": self.topic,
            "subjects": len(self.subjects),
            "per": self.questions_per_subject,
        }

    @property
    def minutes(self) -> int:
        if self.time_limit_minutes:
            return self.time_limit_minutes
        return DEFAULT_MINUTES_PER_SUBJECT * len(self.subjects)
