from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from study.exam_vocabulary import (
    ExamVocabulary,
    default_vocabulary,
    vocabulary_errors,
)


def may_manage_all_topics(user) -> bool:
    """An explicit grant (or superuser), never is_staff alone: staff without the
    permission cannot change topics in the admin either. Grants count for staff
    accounts, as in the admin; learners skip the permission queries."""
    return user.is_superuser or (user.is_staff and user.has_perm("study.change_topic"))


def _may_read_all(user) -> bool:
    return may_manage_all_topics(user) or (
        user.is_staff and user.has_perm("study.view_topic")
    )


def topic_is_visible_to(user, *, owner_id: int, is_shared: bool) -> bool:
    """The row form of TopicQuerySet.visible_to, for a read that has the
    topic's owner and sharing at hand (the quiz's answer path)."""
    if not user.is_authenticated:
        return False
    return owner_id == user.pk or is_shared or _may_read_all(user)


class TopicQuerySet(models.QuerySet):
    def visible_to(self, user) -> TopicQuerySet:
        """Topics a user may read: their own and shared ones, all with a grant."""
        if not user.is_authenticated:
            return self.none()
        if _may_read_all(user):
            return self
        return self.filter(Q(owner=user) | Q(is_shared=True))

    def editable_by(self, user) -> TopicQuerySet:
        """Topics a user may manage: their own, all with study.change_topic."""
        if not user.is_authenticated:
            return self.none()
        if may_manage_all_topics(user):
            return self
        return self.filter(owner=user)

    def published(self) -> TopicQuerySet:
        return self.filter(is_published=True)


class Topic(models.Model):
    """An exam (e.g. 산업안전기사) or a study subject with its question bank."""

    name = models.CharField(_("이름"), max_length=200)
    description = models.TextField(_("설명"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="topics",
        verbose_name=_("소유자"),
    )
    is_shared = models.BooleanField(
        _("공유"),
        default=False,
        help_text=_("로그인한 모든 학습자가 읽기 전용으로 풀 수 있습니다."),
    )
    is_published = models.BooleanField(
        _("뷰어에 발행"),
        default=False,
        help_text=_(
            "문제와 AI 해설을 공개 뷰어 사이트로 보냅니다. 공유된 토픽만 "
            "발행할 수 있고, 끄면 뷰어에서 지워집니다."
        ),
    )
    # AI explanations (docs/explanations.md).
    ai_question_only = models.BooleanField(
        _("자료 없이 문제만으로 해설"),
        default=False,
        help_text=_(
            "관련 자료가 하나도 없을 때도 문제만 보고 AI 해설을 만듭니다. "
            "해설에는 '자료 근거 없음'이 표시되고 신뢰도는 '낮음'을 넘지 않습니다."
        ),
    )
    ai_independent_check = models.BooleanField(
        _("AI 독립 확인"),
        default=True,
        help_text=_(
            "해설 전에 AI가 정답을 모른 채 먼저 문제를 풉니다. "
            "정답과 다르면 아래 설정대로 처리합니다 (호출 한 번이 더 듭니다)."
        ),
    )
    ai_disagreement_hide = models.BooleanField(
        _("독립 확인과 다르면 숨김"),
        default=False,
        help_text=_(
            "켜면 AI가 스스로 다른 답을 고른 해설은 보여 주지 않습니다. "
            "끄면 '참고만 하세요' 안내와 함께 보여 줍니다."
        ),
    )
    # Words of this exam's language the AI rules read, added to the shipped
    # ones (study/exam_vocabulary.py; keys as in study/data/exam_vocabulary.json).
    exam_vocabulary = models.JSONField(
        _("시험 어휘"),
        default=dict,
        blank=True,
        help_text=_(
            "이 시험에서만 쓰는 말을 더합니다. 예: "
            '{"negative_stem": ["부합하지 않는"], "field_words": ["전기설비"]}. '
            "negative_stem은 '옳지 않은 것' 같은 부정 질문의 표지, field_words는 "
            "이 분야의 모든 문제에 나와 근거를 가리지 못하는 말입니다."
        ),
    )
    created_at = models.DateTimeField(_("생성"), auto_now_add=True)
    updated_at = models.DateTimeField(pgettext_lazy("field", "수정"), auto_now=True)

    objects = TopicQuerySet.as_manager()

    class Meta:
        verbose_name = _("토픽")
        verbose_name_plural = pgettext_lazy("plural", "토픽")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "name"], name="study_topic_owner_name_uniq"
            ),
            models.CheckConstraint(
                condition=Q(is_published=False) | Q(is_shared=True),
                name="study_topic_published_is_shared",
                violation_error_message=_("발행하려면 먼저 토픽을 공유하세요."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        errors = vocabulary_errors(self.exam_vocabulary)
        if errors:
            raise ValidationError({"exam_vocabulary": errors})

    def vocabulary(self) -> ExamVocabulary:
        """The shipped exam vocabulary with this topic's own words added."""
        if not self.exam_vocabulary:
            return default_vocabulary()
        try:
            return default_vocabulary().extended(self.exam_vocabulary)
        except ValueError:  # a row written around clean(): the shipped words
            return default_vocabulary()

    def can_edit(self, user) -> bool:
        return user.is_authenticated and (
            self.owner_id == user.id or may_manage_all_topics(user)
        )

    def can_regenerate_ai(self, user) -> bool:
        """Replacing shared AI text (everyone reads it) is for the owner and staff."""
        return self.can_edit(user) or (user.is_authenticated and user.is_staff)
