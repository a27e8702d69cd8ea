"""One AI budget per user: every LLM call a user causes draws on it.

Clicks (explanations, subject notes, search rewriting) and the background
work a user's actions queue (explanation prefetch, the session analysis,
a document's summary) all call the LLM through study.llm.calls.llm_json,
inside `ai_spender(user_id=…)`; each call is charged there, before it is
sent, and refused when the user's AI_BUDGET_PER_USER window is full. The
per-action rate limits (AI_RATE_*) still apply to clicks on top.

The job runner asks `ai_budget_blocked` before it runs a job: background
work over budget waits (session analysis) or is skipped (prefetch) with the
reason code BUDGET_EXCEEDED, which the card shows.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from study.llm.budget import estimate_tokens
from study.llm.calls import llm_payer
from study.llm.client import LLMError, LLMReply
from study.models import AISpend, JobError
from study.services.rate_limits import Rate, RateLimited

BUDGET_EXCEEDED = JobError.BUDGET_EXCEEDED
LOCK_NAMESPACE = zlib.crc32(b"gichul.ai_budget") & 0x7FFFFFFF
# Spend rows are kept this long for the health report (longer if the
# budget's own window is longer).
KEEP = timedelta(days=8)


class AIBudgetExceeded(RateLimited, LLMError):
    """The user's AI budget is spent; `retry_after_s` says when a call frees.

    A RateLimited to the views (429 with the message, as the per-action
    limits), and an LLMError with its code to whoever called the LLM."""

    code = BUDGET_EXCEEDED

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        RateLimited.__init__(self, message, retry_after_s)


def ai_budget_rate() -> Rate:
    return Rate.parse(settings.AI_BUDGET_PER_USER)


def ai_budget_message(rate: Rate, retry_after_s: int) -> str:
    minutes = max(1, math.ceil(retry_after_s / 60))
    return gettext(
        "이 계정의 AI 사용 한도(%(rate)s)를 다 썼습니다. %(minutes)d분 뒤에 다시 "
        "쓸 수 있습니다."
    ) % {"rate": rate.label, "minutes": minutes}


def ai_budget_blocked(*, user_id: int) -> AIBudgetExceeded | None:
    """Why the user may not start more AI work now (None: they may)."""
    rate = ai_budget_rate()
    now = timezone.now()
    used = list(
        AISpend.objects.filter(
            user_id=user_id, created_at__gt=now - timedelta(seconds=rate.seconds)
        )
        .order_by("created_at")
        .values_list("created_at", flat=True)[: rate.count]
    )
    if len(used) < rate.count:
        return None
    oldest = used[0] if used else now  # a budget of 0 turns AI off
    wait = oldest + timedelta(seconds=rate.seconds) - now
    retry_after = max(1, math.ceil(wait.total_seconds()))
    return AIBudgetExceeded(
        ai_budget_message(rate, retry_after), retry_after_s=retry_after
    )


def ai_budget_check(*, user_id: int) -> None:
    """Before a click starts AI work: AIBudgetExceeded when the budget is spent."""
    blocked = ai_budget_blocked(user_id=user_id)
    if blocked is not None:
        raise blocked


def ai_budget_charge(
    *, user_id: int, purpose: str, tokens: int = 0, enforce: bool = True
) -> AISpend:
    """Count one LLM call for the user, or raise AIBudgetExceeded. The user's
    lock makes two calls at once count one after the other. Without `enforce`
    (work an operator started from the shell) the call is counted, never
    refused."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, user_id]
            )
        blocked = ai_budget_blocked(user_id=user_id) if enforce else None
        if blocked is not None:
            raise blocked
        now = timezone.now()
        keep = max(KEEP, timedelta(seconds=ai_budget_rate().seconds))
        AISpend.objects.filter(user_id=user_id, created_at__lt=now - keep).delete()
        return AISpend.objects.create(
            user_id=user_id, purpose=purpose[:40], tokens=tokens, created_at=now
        )


@dataclass(frozen=True)
class UserPayer:
    """A user as the payer of LLM calls (study.llm.calls.Payer)."""

    user_id: int
    enforce: bool = True

    def charge(self, *, purpose: str, prompt: str) -> AISpend:
        return ai_budget_charge(
            user_id=self.user_id,
            purpose=purpose,
            tokens=estimate_tokens(prompt),
            enforce=self.enforce,
        )

    def settle(self, ticket: object, *, reply: LLMReply | None) -> None:
        if isinstance(ticket, AISpend) and reply is not None:
            AISpend.objects.filter(pk=ticket.pk).update(
                tokens=ticket.tokens + estimate_tokens(reply.raw)
            )


@contextmanager
def ai_spender(*, user_id: int, enforce: bool = True) -> Iterator[None]:
    """Every LLM call inside is charged to this user's AI budget (counted but
    never refused without `enforce`)."""
    with llm_payer(UserPayer(user_id, enforce)):
        yield
