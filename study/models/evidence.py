from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from study.models.question import Question


class EvidenceCard(models.Model):
    """A question's 근거 카드, cached: the passages that decide it, every
    choice checked against them, the verdict and the question's history
    (study/evidence/). A card is used only while its stamps still describe
    the question, its key, the topic's documents and its relations; a stale
    one is recomputed on the next view."""

    question = models.OneToOneField(
        Question,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="evidence_card",
        verbose_name=_("문항"),
    )
    # What the passages and marks were computed from: the checker's version,
    # the question's answer-defining content and topic, the topic's documents.
    passages_stamp = models.CharField(max_length=64)
    # And the history: the relations as last computed.
    history_stamp = models.CharField(max_length=64)
    data = models.JSONField(default=dict)
    history = models.JSONField(default=list)
    verdict = models.PositiveSmallIntegerField(
        _("조문에 따른 답"), null=True, blank=True
    )
    key_conflict = models.BooleanField(_("정답과 조문이 다름"), default=False)
    history_conflict = models.BooleanField(_("기출 정답이 다름"), default=False)
    computed_at = models.DateTimeField(pgettext_lazy("field", "계산"))

    class Meta:
        verbose_name = _("근거 카드")
        verbose_name_plural = pgettext_lazy("plural", "근거 카드")
        constraints = [
            models.CheckConstraint(
                condition=Q(verdict__isnull=True)
                | (Q(verdict__gte=1) & Q(verdict__lte=4)),
                name="study_evidence_verdict_1_4",
            ),
            models.CheckConstraint(
                condition=Q(key_conflict=False) | Q(verdict__isnull=False),
                name="study_evidence_conflict_has_verdict",
            ),
        ]
        indexes = [
            models.Index(
                fields=["question"],
                condition=Q(key_conflict=True) | Q(history_conflict=True),
                name="study_evidence_needs_review",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.question_id} · {self.verdict or '-'}"

    @property
    def needs_review(self) -> bool:
        return self.key_conflict or self.history_conflict
