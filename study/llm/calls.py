"""The one way the app asks an LLM: through the priority gate, on a fresh client,
charged to whoever the work is for.

Who pays is set around the work (a learner's click, or the job runner for
the job's user) with `llm_payer`; every call made inside is charged before
it is sent, and a payer over its budget raises instead of calling. The llm
package only carries the payer: what a budget is lives with the caller
(study.services.ai_budget)."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from study.llm.client import LLMClient, LLMReply, LLMTimeout
from study.llm.gate import Priority, gate_hold_after_timeout, llm_gate


class Payer(Protocol):
    def charge(self, *, purpose: str, prompt: str) -> object:
        """Count one call before it is sent (raise an LLMError to refuse it);
        returns what `settle` gets back."""

    def settle(self, ticket: object, *, reply: LLMReply | None) -> None:
        """After the call: what it cost (reply is None when it failed)."""


_payer: contextvars.ContextVar[Payer | None] = contextvars.ContextVar(
    "llm_payer", default=None
)


@contextmanager
def llm_payer(payer: Payer) -> Iterator[None]:
    """Charge every LLM call made inside to `payer`."""
    token = _payer.set(payer)
    try:
        yield
    finally:
        _payer.reset(token)


def llm_json(
    *,
    priority: Priority,
    system: str,
    user: str,
    schema: dict,
    schema_name: str,
    max_tokens: int = 1024,
    wait_timeout_s: float | None = None,
) -> LLMReply:
    payer = _payer.get()
    with llm_gate(priority, wait_timeout_s=wait_timeout_s), LLMClient() as client:
        # Charged once the slot is held: a call that never got one cost nothing.
        ticket = (
            payer.charge(purpose=schema_name, prompt=system + user) if payer else None
        )
        reply = None
        try:
            reply = client.chat_json(
                system=system,
                user=user,
                schema=schema,
                schema_name=schema_name,
                max_tokens=max_tokens,
            )
            return reply
        except LLMTimeout as exc:
            if exc.may_still_run:
                gate_hold_after_timeout()
            raise
        finally:
            if payer is not None:
                payer.settle(ticket, reply=reply)
