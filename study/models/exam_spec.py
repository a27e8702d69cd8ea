from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import JSONField, Q, Value
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
    # Empty: the bank's subjects with the default paper (a spec kept only for
    # its exam dates).
    subjects = ArrayField(
        models.CharField(max_length=200),
        blank=True,
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
    # {"1": "03-05", …}: the usual date of each 회차 (study.exam_dates fills
    # in the 기사 필기 defaults for the sessions not set here).
    session_dates = models.JSONField(
        _("회차별 시험일"), default=dict, blank=True, db_default=Value({}, JSONField())
    )
    updated_at = models.DateTimeField(pgettext_lazy("field", "수정"), auto_now=True)

    class Meta:
        verbose_name = _("시험 구성")
        verbose_name_plural = pgettext_lazy("plural", "시험 구성")
        constraints = [
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


class ExamRound(models.Model):
    """The day one round (a sitting of one year) was held, when it was not
    the usual date of its 회차 (the owner sets it)."""

    topic = models.ForeignKey(
        Topic,
        on_delete=models.CASCADE,
        related_name="exam_rounds",
        verbose_name=_("토픽"),
    )
    exam_year = models.PositiveSmallIntegerField(_("연도"))
    # The canonical sitting (study.rounds): "1", "1,2", "1추가".
    exam_session = models.CharField(_("회차"), max_length=20)
    held_on = models.DateField(_("시험일"))

    class Meta:
        verbose_name = _("회차 시험일")
        verbose_name_plural = pgettext_lazy("plural", "회차 시험일")
        ordering = ["topic_id", "exam_year", "exam_session"]
        constraints = [
            models.UniqueConstraint(
                fields=["topic", "exam_year", "exam_session"],
                name="study_exam_round_uniq",
            )
        ]

    def __str__(self) -> str:
        return f"{self.exam_year}-{self.exam_session}: {self.held_on}"
