"""Prompt token budget: a documented estimate and best-first evidence packing.

No tokenizer ships with the app (the model is whatever the server runs), so
prompts are measured with an estimate calibrated for Qwen2.5's byte-level BPE
on Korean statute text (see docs/documents.md):

    tokens ≈ 0.70 × (Hangul syllables + CJK ideographs)
           + 0.35 × (other visible characters)
           + 0.10 × (whitespace)

Calibrated against the figures measured with the Qwen2.5 tokenizer when this
budget was introduced (5 chunks of ~700 characters + template = 2,748–3,207
tokens), rounded up so that the estimate errs on the high side.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

from django.conf import settings

HANGUL_OR_CJK = re.compile(r"[\uac00-\ud7a3\u3130-\u318f\u4e00-\u9fff\u3400-\u4dbf]")
WHITESPACE = re.compile(r"\s")
TOKENS_PER_HANGUL = 0.70
TOKENS_PER_OTHER = 0.35
TOKENS_PER_SPACE = 0.10
# Room the explanation reply needs (its max_tokens) plus a safety margin.
REPLY_TOKENS = 1024
MARGIN_TOKENS = 64


def estimate_tokens(text: str) -> int:
    hangul = len(HANGUL_OR_CJK.findall(text))
    spaces = len(WHITESPACE.findall(text))
    other = len(text) - hangul - spaces
    return math.ceil(
        hangul * TOKENS_PER_HANGUL
        + other * TOKENS_PER_OTHER
        + spaces * TOKENS_PER_SPACE
    )


def prompt_budget(reply_tokens: int = REPLY_TOKENS) -> int:
    """Tokens a prompt may use: LLM_PROMPT_TOKENS, but never more than the
    context window (LLM_CONTEXT_TOKENS) leaves after the reply."""
    room = settings.LLM_CONTEXT_TOKENS - reply_tokens - MARGIN_TOKENS
    return max(256, min(settings.LLM_PROMPT_TOKENS, room))


def pack_best_first[T](
    items: Sequence[T], *, cost: Callable[[T], int], budget: int
) -> list[T]:
    """Whole items, best first, while they fit; an item too big for what is
    left is skipped (a smaller, lower-ranked one may still fit). Never cut."""
    packed: list[T] = []
    left = budget
    for item in items:
        need = cost(item)
        if need <= left:
            packed.append(item)
            left -= need
    return packed
