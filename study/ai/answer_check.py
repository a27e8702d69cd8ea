"""The independent check: the model answers the question without the key.

A short call (JSON ``{"answer_choice": n}``) before the explanation; when the
model's own answer is not the key, the topic's setting decides whether the
explanation is not shown or shown under a visible note."""

from __future__ import annotations

from dataclasses import dataclass

from study.ai.envelope import EnvelopeInvalid, envelope_answer_choice
from study.llm.calls import llm_json
from study.llm.client import LLMError
from study.llm.gate import Priority
from study.llm.prompts import render_prompt
from study.models import Question

CHECK_SYSTEM = "너는 자격시험 응시자다. 요청된 JSON 객체 하나만 출력한다."
CHECK_SCHEMA = {
    "type": "object",
    "properties": {"answer_choice": {"type": "integer", "minimum": 1, "maximum": 4}},
    "required": ["answer_choice"],
}
CHECK_MAX_TOKENS = 24

AGREE, DISAGREE, UNKNOWN = "agree", "disagree", "unknown"


@dataclass
class CheckResult:
    outcome: str  # agree | disagree | unknown (garbage, timeout, no LLM)
    model_answer: int | None = None
    latency_s: float = 0.0
    error: str = ""

    def as_payload(self) -> dict:
        return {
            "check": self.outcome,
            "check_answer": self.model_answer,
            "check_latency_s": round(self.latency_s, 3),
            "check_error": self.error,
        }


def check_prompt(question: Question) -> str:
    return render_prompt(
        "study_answer_check.txt",
        stem=question.stem,
        choice_1=question.choice_1,
        choice_2=question.choice_2,
        choice_3=question.choice_3,
        choice_4=question.choice_4,
    )


def answer_check(*, question: Question, priority: Priority) -> CheckResult:
    """Never raises: a garbage reply or a dead LLM is an `unknown` outcome,
    which neither blocks nor vouches for the explanation."""
    try:
        reply = llm_json(
            priority=priority,
            system=CHECK_SYSTEM,
            user=check_prompt(question),
            schema=CHECK_SCHEMA,
            schema_name="answer_check",
            max_tokens=CHECK_MAX_TOKENS,
        )
    except LLMError as exc:
        return CheckResult(UNKNOWN, error=exc.code)
    try:
        answer = envelope_answer_choice(reply.data)
    except EnvelopeInvalid:
        return CheckResult(UNKNOWN, latency_s=reply.latency_s, error="parse_fail")
    outcome = AGREE if answer in question.accepted_set else DISAGREE
    return CheckResult(outcome, answer, reply.latency_s)
