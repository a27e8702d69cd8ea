from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class TopicQuerySet(models.QuerySet):
    def visible_to(self, user) -> TopicQuerySet:
        """Topics a user may read: staff see all; others their own and shared."""
        if not user.is_authenticated:
            return self.none()
        if user.is_staff:
            return self
        return self.filter(Q(owner=user) | Q(is_shared=True))

    def editable_by(self, user) -> TopicQuerySet:
        if not user.is_authenticated:
            return self.none()
        if user.is_staff:
            return self
        return self.filter(owner=user)


class Topic(models.Model):
    """An exam (e.g. 산업안전기사) or a study subject with its question bank."""

    name = models.CharField("이름", max_length=200)
    description = models.TextField("설명", blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="topics",
        verbose_name="소유자",
    )
    is_shared = models.BooleanField(
        "공유",
        default=False,
        help_text="로그인한 모든 학습자가 읽기 전용으로 풀 수 있습니다.",
    )
    created_at = models.DateTimeField("생성", auto_now_add=True)
    updated_at = models.DateTimeField("수정", auto_now=True)

    objects = TopicQuerySet.as_manager()

    class Meta:
        verbose_name = "토픽"
        verbose_name_plural = "토픽"
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "name"], name="study_topic_owner_name_uniq"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def can_edit(self, user) -> bool:
        return user.is_authenticated and (user.is_staff or self.owner_id == user.id)
