"""The one way the app asks an LLM: through the priority gate, on a fresh client."""

from __future__ import annotations

from study.llm.client import LLMClient, LLMReply, LLMTimeout
from study.llm.gate import Priority, gate_hold_after_timeout, llm_gate


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
    with llm_gate(priority, wait_timeout_s=wait_timeout_s), LLMClient() as client:
        try:
            return client.chat_json(
                system=system,
                user=user,
                schema=schema,
                schema_name=schema_name,
                max_tokens=max_tokens,
            )
        except LLMTimeout as exc:
            if exc.may_still_run:
                gate_hold_after_timeout()
            raise
