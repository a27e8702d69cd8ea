"""A question's history across rounds: its repeats and close variants, each
with its key, and whether that key is the same answer (pure).

Relations come from the related-questions analysis whatever kind they are
(repeat, similar, or any kind added later); what is compared here is the
keyed answer itself, so a repeat whose round keyed another choice shows as
"정답 다름" and sends the question to the 정답 확인 필요 list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from study.related.rules import is_negated, numbers_in, text_likeness

SAME = "same"
DIFFERENT = "different"
UNKNOWN = "unknown"
# Choices of two rounds are the same choice when their texts are this alike
# (and more alike than to any other choice): the threshold the relation
# rules use for keyed answers.
CHOICE_MATCH = 0.7
# Keys are compared only between the same question: stems this alike (a
# "similar" relation may be another question over the same choices, such as
# two 며칠 questions whose choices are all 15일, 30일, 45일, 60일).
SAME_STEM = 0.8


@dataclass(frozen=True)
class Asked:
    """A question as the history compares it."""

    stem: str
    choices: tuple[str, ...]
    accepted: frozenset[int]


def _counterpart(text: str, choices: Sequence[str]) -> int | None:
    """The choice (1-based) that is `text` in another round's order."""
    scores = [text_likeness(text, c) for c in choices]
    best = max(scores)
    if best < CHOICE_MATCH or scores.count(best) > 1:
        return None
    return scores.index(best) + 1


def agreement(mine: Asked, other: Asked) -> str:
    """same | different | unknown: whether the other round keyed the same
    answer. Unknown unless the two are the same question (stems alike, asked
    the same way: both "which is NOT" or neither, the same numbers) about the
    same choices (at least
    three of four found in the other round)."""
    if text_likeness(mine.stem, other.stem) < SAME_STEM:
        return UNKNOWN
    if is_negated(mine.stem) != is_negated(other.stem):
        return UNKNOWN
    if numbers_in(mine.stem) != numbers_in(other.stem):
        return UNKNOWN
    mapping = [_counterpart(c, other.choices) for c in mine.choices]
    found = [m for m in mapping if m is not None]
    if len(found) < 3 or len(set(found)) < len(found):
        return UNKNOWN
    keyed = {mapping[k - 1] for k in mine.accepted if 0 < k <= len(mapping)}
    if None in keyed:
        return UNKNOWN
    return SAME if keyed & other.accepted else DIFFERENT
