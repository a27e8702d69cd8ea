from __future__ import annotations

from django.db import models
from django.db.models import JSONField, Q, Value
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from study.models.document import Document
from study.models.question import Question


class AmendmentStatus(models.TextChoices):
    """How today's statutes read a question against those of its exam date."""

    UNCHANGED = "unchanged", _("변경 없음")
    CHANGED = "changed", _("개정됨")
    GONE = "gone", _("삭제됨")
    UNKNOWN = "unknown", _("판단 불가")


FLAGGED = (AmendmentStatus.CHANGED, AmendmentStatus.GONE)


class AmendmentReason(models.TextChoices):
    """Why a question got its status (stored as a code, shown translated)."""

    NO_EXAM_DATE = "no_exam_date", _("시험일을 알 수 없습니다")
    NO_VERSION = "no_version", _("시험일에 시행 중인 법령 버전이 자료에 없습니다")
    NO_PASSAGE = "no_passage", _("문제를 판단할 조문이 없습니다")
    SAME_VERSION = "same_version", _("시험일의 법령이 현행과 같은 버전입니다")
    SAME_TEXT = "same_text", _("판단한 조문이 현행과 같습니다")
    SAME_MARKS = "same_marks", _("조문이 바뀌었지만 보기 판단은 같습니다")
    MARKS_DIFFER = "marks_differ", _("현행 조문으로 보기 판단이 달라집니다")
    PROVISION_GONE = "provision_gone", _("판단한 조문이 현행 법령에 없습니다")


class QuestionAmendment(models.Model):
    """The 개정 flag of a question: its deciding passages in the version in
    force on its exam date and today, checked choice by choice and compared
    (derived data; recomputed when its stamp no longer matches)."""

    question = models.OneToOneField(
        Question,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="amendment",
        verbose_name=_("문항"),
    )
    status = models.CharField(
        _("개정 여부"),
        max_length=20,
        choices=AmendmentStatus.choices,
        default=AmendmentStatus.UNKNOWN,
    )
    reason = models.CharField(
        _("사유"), max_length=30, choices=AmendmentReason.choices, blank=True
    )
    # The choice today's text singles out, when it singles out one.
    key_now = models.PositiveSmallIntegerField(
        _("현행 기준 정답"), null=True, blank=True
    )
    exam_date = models.DateField(_("시험일"), null=True, blank=True)
    then_document = models.ForeignKey(
        Document,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("시험일의 법령"),
    )
    now_document = models.ForeignKey(
        Document,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("현행 법령"),
    )
    then_article = models.CharField(_("시험일의 조문"), max_length=30, blank=True)
    now_article = models.CharField(_("현행 조문"), max_length=30, blank=True)
    # The two passages with the changed words, the marks under each version.
    data = models.JSONField(default=dict, blank=True, db_default=Value({}, JSONField()))
    stamp = models.CharField(max_length=64, blank=True)
    computed_at = models.DateTimeField(_("계산 시각"), null=True, blank=True)

    class Meta:
        verbose_name = _("개정 판단")
        verbose_name_plural = pgettext_lazy("plural", "개정 판단")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=AmendmentStatus.values),
                name="study_amendment_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(reason__in=["", *AmendmentReason.values]),
                name="study_amendment_reason_valid",
            ),
            models.CheckConstraint(
                condition=Q(key_now__isnull=True)
                | (Q(key_now__gte=1) & Q(key_now__lte=4)),
                name="study_amendment_key_now_1_4",
            ),
        ]
        indexes = [
            models.Index(
                fields=["status"],
                condition=Q(status__in=["changed", "gone"]),
                name="study_amendment_flagged",
            )
        ]

    def __str__(self) -> str:
        return f"{self.question_id}: {self.status}"

    @property
    def flagged(self) -> bool:
        return self.status in FLAGGED
