"""The relay: POST due outbox events to the viewer, in order per question.

Each event is claimed with SELECT ... FOR UPDATE SKIP LOCKED and the row lock
is held while it is sent, so several workers never send one event at once and
a crashed worker releases its claim with its connection. Only the head of a
question's queue is claimable, so event n+1 waits until event n is delivered
while other questions go on.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from publishing.models import OutboxEvent
from publishing.signing import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    encode_body,
    signature,
)

logger = logging.getLogger(__name__)

BACKOFF_BASE_S = 10.0
BACKOFF_CAP_S = 3600.0
RUN_BUDGET_S = 120.0  # well under the django-q2 task timeout
MAX_EVENTS_PER_RUN = 1000
# Client errors that say "try later" rather than "this request is wrong".
RETRYABLE_CLIENT_ERRORS = frozenset({408, 429})


@dataclass
class RelayReport:
    delivered: int = 0
    retrying: int = 0
    dead: int = 0

    @property
    def attempted(self) -> int:
        return self.delivered + self.retrying + self.dead

    def as_dict(self) -> dict:
        return {
            "delivered": self.delivered,
            "retrying": self.retrying,
            "dead": self.dead,
        }


@dataclass(frozen=True)
class SendResult:
    ok: bool
    error: str = ""
    permanent: bool = False
    retry_after_s: float | None = None


def outbox_relay(
    *,
    now: datetime | None = None,
    max_events: int = MAX_EVENTS_PER_RUN,
    budget_s: float = RUN_BUDGET_S,
) -> RelayReport:
    """Send due events until none is left, max_events, or the time budget.

    `now` pins the clock (tests); events that fail during this run are not
    retried in the same run, whatever their backoff.
    """
    report = RelayReport()
    if not _relay_configured():
        return report
    cutoff = now or timezone.now()
    deadline = time.monotonic() + budget_s
    with httpx.Client(timeout=settings.PUBLISH_TIMEOUT_S) as client:
        while report.attempted < max_events and time.monotonic() < deadline:
            if not _relay_next(client=client, cutoff=cutoff, now=now, report=report):
                break
    if report.attempted:
        logger.info("publishing relay: %s", report.as_dict())
    return report


def backoff_delay_s(attempt: int, *, retry_after_s: float | None = None) -> float:
    """Exponential in the attempt, capped, jittered within [ceiling/2, ceiling]."""
    ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** min(attempt - 1, 30))
    delay = random.uniform(ceiling / 2, ceiling)
    if retry_after_s:
        delay = max(delay, min(retry_after_s, BACKOFF_CAP_S))
    return delay


def _relay_configured() -> bool:
    if not settings.STUDY_PUBLISH_ENABLED or not settings.PUBLISH_VIEWER_URL:
        return False
    if not settings.PUBLISH_SIGNING_SECRET:
        logger.warning("publishing relay: PUBLISH_SIGNING_SECRET is empty; not sending")
        return False
    return True


def _relay_next(
    *,
    client: httpx.Client,
    cutoff: datetime,
    now: datetime | None,
    report: RelayReport,
) -> bool:
    with transaction.atomic():
        event = (
            OutboxEvent.objects.deliverable(cutoff=cutoff)
            .order_by("next_attempt_at", "created_at")
            .select_for_update(skip_locked=True)
            .first()
        )
        if event is None:
            return False
        result = _send(client=client, event=event)
        _record(event=event, result=result, at=now or timezone.now(), report=report)
    return True


def _send(*, client: httpx.Client, event: OutboxEvent) -> SendResult:
    body = encode_body(event.as_payload())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        IDEMPOTENCY_HEADER: str(event.id),
        SIGNATURE_HEADER: signature(
            body=body,
            secret=settings.PUBLISH_SIGNING_SECRET,
            timestamp=int(time.time()),
        ),
    }
    try:
        response = client.post(
            settings.PUBLISH_VIEWER_URL, content=body, headers=headers
        )
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return SendResult(ok=False, error=f"{type(exc).__name__}: {exc}")
    if response.is_success:
        return SendResult(ok=True)
    status = response.status_code
    return SendResult(
        ok=False,
        error=f"HTTP {status}: {response.text[:500]}",
        permanent=400 <= status < 500 and status not in RETRYABLE_CLIENT_ERRORS,
        retry_after_s=_retry_after_s(response),
    )


def _record(
    *, event: OutboxEvent, result: SendResult, at: datetime, report: RelayReport
) -> None:
    if result.ok:
        event.mark_delivered(at=at)
        report.delivered += 1
    else:
        event.mark_failed(
            error=result.error, at=at, retry_at=_retry_at(event, result, at)
        )
        if event.is_dead:
            report.dead += 1
            logger.warning(
                "publishing: event %s (q%s #%s) dead after %s attempts: %s",
                event.pk,
                event.aggregate_id,
                event.seq,
                event.attempts,
                event.last_error,
            )
        else:
            report.retrying += 1
    event.save(
        update_fields=[
            "attempts",
            "last_attempt_at",
            "delivered_at",
            "dead_at",
            "next_attempt_at",
            "last_error",
        ]
    )


def _retry_at(event: OutboxEvent, result: SendResult, at: datetime) -> datetime | None:
    attempt = event.attempts + 1
    if result.permanent or attempt >= settings.PUBLISH_MAX_ATTEMPTS:
        return None
    delay = backoff_delay_s(attempt, retry_after_s=result.retry_after_s)
    return at + timedelta(seconds=delay)


def _retry_after_s(response: httpx.Response) -> float | None:
    try:
        return float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
