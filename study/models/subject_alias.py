from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from study.models.question import TEXT_LIMITS
from study.models.topic import Topic


class SubjectAlias(models.Model):
    """Another name of one of a topic's subjects (a rename over the years, a
    spelling variant, a typo in a source file). Questions filed under `name`
    are filed under `subject` instead, now and in every later import."""

    topic = models.ForeignKey(
        Topic,
        on_delete=models.CASCADE,
        related_name="subject_aliases",
        verbose_name=_("토픽"),
    )
    name = models.CharField(_("다른 이름"), max_length=TEXT_LIMITS["subject"])
    subject = models.CharField(_("과목"), max_length=TEXT_LIMITS["subject"])
    created_at = models.DateTimeField(_("생성"), auto_now_add=True)

    class Meta:
        verbose_name = _("과목 별칭")
        verbose_name_plural = pgettext_lazy("plural", "과목 별칭")
        ordering = ["topic_id", "subject", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["topic", "name"], name="study_subjectalias_topic_name_uniq"
            ),
            models.CheckConstraint(
                condition=~Q(name=F("subject")) & ~Q(name="") & ~Q(subject=""),
                name="study_subjectalias_names_differ",
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(name)s → %(subject)s") % {
            "name": self.name,
            "subject": self.subject,
        }
