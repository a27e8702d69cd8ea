"""The publishing outbox: events written with the content change, sent later."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class EventKind(models.TextChoices):
    QUESTION = "question", _("문항")
    EXPLANATION = "explanation", _("해설")
    QUESTION_TOMBSTONE = "question_tombstone", _("문항 삭제")
    EXPLANATION_TOMBSTONE = "explanation_tombstone", _("해설 삭제")


class OutboxEventQuerySet(models.QuerySet):
    def undelivered(self) -> OutboxEventQuerySet:
        return self.filter(delivered_at__isnull=True)

    def dead(self) -> OutboxEventQuerySet:
        return self.filter(delivered_at__isnull=True, dead_at__isnull=False)

    def deliverable(self, *, cutoff: datetime) -> OutboxEventQuerySet:
        """Due events that head their question's queue (nothing earlier undelivered).

        A dead event keeps heading its queue: later events of that question wait
        until it is retried (or deleted) so the viewer never sees them reordered.
        """
        earlier = OutboxEvent.objects.filter(
            aggregate_id=OuterRef("aggregate_id"),
            seq__lt=OuterRef("seq"),
            delivered_at__isnull=True,
        )
        return self.filter(
            delivered_at__isnull=True,
            dead_at__isnull=True,
            next_attempt_at__lte=cutoff,
        ).filter(~Exists(earlier))


class OutboxEvent(models.Model):
    # The event id is the Idempotency-Key the viewer deduplicates on.
    id = models.UUIDField(
        primary_key=True,
        default=uuid.uuid4,
        editable=False,
        verbose_name=_("이벤트 ID"),
    )
    aggregate_id = models.BigIntegerField(_("문항 ID"))
    seq = models.PositiveIntegerField(_("순번"))
    kind = models.CharField(_("종류"), max_length=30, choices=EventKind.choices)
    snapshot = models.JSONField(_("스냅숏"))
    created_at = models.DateTimeField(_("생성"), default=timezone.now)
    attempts = models.PositiveSmallIntegerField(_("시도 횟수"), default=0)
    next_attempt_at = models.DateTimeField(_("다음 시도"), default=timezone.now)
    last_attempt_at = models.DateTimeField(_("마지막 시도"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("전달"), null=True, blank=True)
    dead_at = models.DateTimeField(_("포기"), null=True, blank=True)
    last_error = models.TextField(_("마지막 오류"), blank=True)

    objects = OutboxEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("발행 이벤트")
        verbose_name_plural = pgettext_lazy("plural", "발행 이벤트")
        ordering = ["-created_at", "aggregate_id", "-seq"]
        constraints = [
            models.UniqueConstraint(
                fields=["aggregate_id", "seq"], name="publishing_event_aggregate_seq"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=EventKind.values),
                name="publishing_event_kind_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["-created_at"], name="publishing_event_created"),
            models.Index(
                fields=["aggregate_id", "seq"],
                condition=Q(delivered_at__isnull=True),
                name="publishing_event_undelivered",
            ),
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(delivered_at__isnull=True, dead_at__isnull=True),
                name="publishing_event_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} q{self.aggregate_id}#{self.seq}"

    @property
    def is_dead(self) -> bool:
        return self.delivered_at is None and self.dead_at is not None

    def as_payload(self) -> dict:
        """The JSON body the viewer receives."""
        return {
            "id": str(self.id),
            "kind": self.kind,
            "aggregate_id": self.aggregate_id,
            "seq": self.seq,
            "created_at": self.created_at.isoformat(),
            "snapshot": self.snapshot,
        }

    def mark_delivered(self, *, at: datetime) -> None:
        self.attempts += 1
        self.last_attempt_at = at
        self.delivered_at = at
        self.last_error = ""

    def mark_failed(
        self, *, error: str, at: datetime, retry_at: datetime | None
    ) -> None:
        """Record a failed attempt; without retry_at the event is dead-lettered."""
        self.attempts += 1
        self.last_attempt_at = at
        self.last_error = error[:2000]
        if retry_at is None:
            self.dead_at = at
        else:
            self.next_attempt_at = retry_at


class AggregateSequence(models.Model):
    """The last sequence number handed out per question; locked to allocate."""

    aggregate_id = models.BigIntegerField(primary_key=True)
    last_seq = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("발행 순번")
        verbose_name_plural = pgettext_lazy("plural", "발행 순번")

    def __str__(self) -> str:
        return f"q{self.aggregate_id}: {self.last_seq}"
