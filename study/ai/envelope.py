"""The explanation envelope: schema, validation, quote checking, the shown text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from study.numbers import is_ascii_digits

EXPLANATION_MAX_CHARS = 1200
_BOUNDARY_LOOKBACK = 200
_BOUNDARIES = ("\n\n", "\n", "다. ", "다.", "요. ", "요.", ". ", "。")
CONFIDENCE_LEVELS = ("high", "medium", "low")

EVIDENCE_ITEMS = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"source": {"type": "string"}, "quote": {"type": "string"}},
        "required": ["source", "quote"],
    },
}
EXPLANATION_SCHEMA = {
    "type": "object",
    "properties": {
        "answer_choice": {"type": "integer", "minimum": 1, "maximum": 4},
        "explanation_md": {"type": "string"},
        "confidence": {"type": "string", "enum": list(CONFIDENCE_LEVELS)},
        "evidence": EVIDENCE_ITEMS,
    },
    "required": ["answer_choice", "explanation_md", "confidence", "evidence"],
}
NOTE_SCHEMA = {
    "type": "object",
    "properties": {"note_md": {"type": "string"}, "evidence": EVIDENCE_ITEMS},
    "required": ["note_md", "evidence"],
}


class EnvelopeInvalid(ValueError):
    """The reply parsed but is not a usable envelope (parse_fail, retryable)."""


@dataclass
class CheckedQuotes:
    kept: list[dict] = field(default_factory=list)
    dropped: int = 0


def normalise_ws(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def envelope_answer_choice(data: dict) -> int:
    value = data.get("answer_choice")
    if isinstance(value, str) and is_ascii_digits(value.strip()):
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 4:
        raise EnvelopeInvalid(f"invalid answer_choice: {value!r}")
    return value


def envelope_text(data: dict, key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise EnvelopeInvalid(f"empty {key}")
    return value.strip()


def check_quotes(data: dict, sources: dict[str, dict]) -> CheckedQuotes:
    """Keep quotes found verbatim (whitespace-normalised) in the evidence sent."""
    result = CheckedQuotes()
    items = data.get("evidence")
    if not isinstance(items, list):
        return result
    bodies = {label: normalise_ws(src["text"]) for label, src in sources.items()}
    for item in items:
        quote = (
            normalise_ws(str(item.get("quote", ""))) if isinstance(item, dict) else ""
        )
        label = _find_source(
            quote, str(item.get("source", "")) if quote else "", bodies
        )
        if label is None:
            result.dropped += 1
            continue
        src = sources[label]
        result.kept.append(
            {
                "kind": src["kind"],
                "ref": src["ref"],
                "title": src["title"],
                "quote": quote,
            }
        )
    return result


def _find_source(quote: str, claimed: str, bodies: dict[str, str]) -> str | None:
    if len(quote) < 4:
        return None
    claimed = claimed.strip().strip("[]<>").upper()
    if claimed in bodies and quote in bodies[claimed]:
        return claimed
    return next((label for label, body in bodies.items() if quote in body), None)


def normalise_confidence(value: object) -> str | None:
    text = str(value or "").strip().lower()
    return text if text in CONFIDENCE_LEVELS else None


# The section labels of our prompts ("[조문]은 …"): a small model writes them
# into its prose. Labels exam papers use themselves ([문제], [보기], [정답])
# are not among them.
_PROMPT_LABELS = re.compile(
    r"\[(조문|자료|보기별 대조|다른 문제|풀이 기록|해설|과목|범위)\]"
)


def cap_text(text: str, max_chars: int = EXPLANATION_MAX_CHARS) -> str:
    """The text as shown: our prompts' section labels unbracketed ("[조문]은"
    reads "조문은", the particle still right), cut at a sentence boundary
    near the limit with an ellipsis."""
    text = _PROMPT_LABELS.sub(r"\1", text)
    if len(text) <= max_chars:
        return text
    head = text[:max_chars]
    floor = max(0, max_chars - _BOUNDARY_LOOKBACK)
    for marker in _BOUNDARIES:
        position = head.rfind(marker, floor)
        if position > 0:
            return head[: position + len(marker)].rstrip() + "…"
    return head.rstrip() + "…"
