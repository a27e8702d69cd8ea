"""Per-user (or per-address) limits on costly actions, counted in PostgreSQL.

A limit is written "N/unit" (unit s, m, h or d): at most N uses in any window of
that length. Counts live in the database so every web process sees them.
"""

from __future__ import annotations

import math
import re
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, ngettext, pgettext_lazy

from study.models import RateLimitHit

LOCK_NAMESPACE = zlib.crc32(b"gichul.rate_limit") & 0x7FFFFFFF
_RATE = re.compile(r"([0-9]+)\s*/\s*([0-9]*)\s*([smhd])")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}

# Every action that makes the LLM work on a learner's behalf.
AI_ACTIONS = {
    "explanation": gettext_lazy("AI 해설"),
    "regenerate": gettext_lazy("AI 해설 다시 생성"),
    "subject_note": gettext_lazy("분야 설명"),
    "search": gettext_lazy("AI 검색어 재작성"),
}
PASSWORD_RESET = pgettext_lazy(
    "action", "비밀번호 재설정"
)  # what the reset view limits
PASSWORD_CHANGE = pgettext_lazy("action", "비밀번호 변경")


def _span(multiple: int, unit: str) -> str:
    """ "1시간", "10분" in the active language."""
    n = {"n": multiple}
    if unit == "s":
        return ngettext("%(n)d초", "%(n)d초", multiple) % n
    if unit == "m":
        return ngettext("%(n)d분", "%(n)d분", multiple) % n
    if unit == "h":
        return ngettext("%(n)d시간", "%(n)d시간", multiple) % n
    return ngettext("%(n)d일", "%(n)d일", multiple) % n


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int
    label: str  # "1시간에 30번"

    @classmethod
    def parse(cls, text: str) -> Rate:
        match = _RATE.fullmatch(text.strip())
        if not match:
            raise ValueError(f"rate must look like 30/h, got {text!r}")
        count, multiple, unit = int(match[1]), int(match[2] or 1), match[3]
        label = gettext("%(span)s에 %(count)d번") % {
            "span": _span(multiple, unit),
            "count": count,
        }
        return cls(count, multiple * _UNIT_S[unit], label)


class RateLimited(Exception):
    """Over the limit; the message says so (in the active language) and when."""

    def __init__(self, message: str, retry_after_s: int):
        super().__init__(message)
        self.retry_after_s = retry_after_s


def rate_limit_consume(*, bucket: str, rate: Rate, what: str) -> None:
    """Count one use of `bucket`, or raise RateLimited when the window is full."""
    with transaction.atomic():
        with connection.cursor() as cursor:  # one counter update at a time per bucket
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                [LOCK_NAMESPACE, bucket],
            )
        now = timezone.now()
        _raise_if_full(bucket, rate, what, now)
        RateLimitHit.objects.create(bucket=bucket, created_at=now)


def rate_limit_check(*, bucket: str, rate: Rate, what: str) -> None:
    """Raise RateLimited when the window of `bucket` is full; count nothing."""
    _raise_if_full(bucket, rate, what, timezone.now())


def _raise_if_full(bucket: str, rate: Rate, what: str, now: datetime) -> None:
    hits = RateLimitHit.objects.filter(bucket=bucket)
    hits.filter(created_at__lte=now - timedelta(seconds=rate.seconds)).delete()
    used = list(hits.order_by("created_at").values_list("created_at", flat=True))
    if len(used) >= rate.count:
        oldest = used[0] if used else now  # a limit of 0 turns the action off
        wait = oldest + timedelta(seconds=rate.seconds) - now
        retry_after = math.ceil(wait.total_seconds())
        raise RateLimited(_message(what, rate, wait), retry_after)


def _message(what: str, rate: Rate, wait: timedelta) -> str:
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    return gettext(
        "%(what)s 요청이 너무 많습니다. %(rate)s까지 쓸 수 있습니다. "
        "%(minutes)d분 뒤에 다시 시도하세요."
    ) % {"what": what, "rate": rate.label, "minutes": minutes}


def ai_rate_limit_consume(*, user: User, action: str) -> None:
    """One LLM-spending action of this user (settings.AI_RATE_LIMITS[action])."""
    rate = Rate.parse(settings.AI_RATE_LIMITS[action])
    rate_limit_consume(
        bucket=f"ai:{action}:user-{user.pk}", rate=rate, what=str(AI_ACTIONS[action])
    )
