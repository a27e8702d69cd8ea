"""A question's history across rounds: its repeats and close variants, each
with its key, and whether that key is the same answer (pure).

Relations come from the related-questions analysis whatever kind they are
(repeat, similar, or any kind added later); what is compared here is the
keyed answer itself, so a repeat whose round keyed another choice shows as
"정답 다름" and sends the question to the 정답 확인 필요 list.
"""

from __future__ import annotations

from dataclasses import dataclass

from study.related.rules import (
    KEY_CONFLICT,
    KEY_SAME,
    QuestionText,
    is_negated,
    key_relation,
    numbers_in,
    option_pairs,
    text_likeness,
)

SAME = "same"
DIFFERENT = "different"
UNKNOWN = "unknown"
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


def agreement(mine: Asked, other: Asked, *, same_question: bool = False) -> str:
    """same | different | unknown: whether the other round keyed the same
    answer, read as the related-questions rules read a repeat's key
    (study.related.rules.key_relation). Unknown unless the two are the same
    question: `same_question` (the rules found them a repeat, however
    reworded: "관의 지름을 변경하고자 할 때 필요한 관 부속품은?" over
    reducer, elbow … and "…변경하는데 사용되는 관의 부속품으로 가장 적절한
    것은?" over 엘보우(Elbow) … 리듀서(Reducer)), or else stems alike and
    asked the same way (both "which is NOT" or neither, the same numbers).

    Different only for the same paper keyed otherwise: every option printed
    by both, and one of them keyed in one round and not in the other. A
    "which is NOT" question whose false statement changed between rounds
    ("발끝막이판 20cm 이하" in one, "난간대 지름 1.5cm" in the other, each
    round's other statements true) keys another option without either key
    being wrong: unknown, not 정답 다름."""
    if not same_question and not _asked_alike(mine, other):
        return UNKNOWN
    a, b = _rules_text(mine), _rules_text(other)
    relation = key_relation(a, b)
    if relation == KEY_CONFLICT:
        paired = option_pairs(a.choices, b.choices)
        return DIFFERENT if len(paired) == len(a.choices) == len(b.choices) else UNKNOWN
    return SAME if relation == KEY_SAME else UNKNOWN


def _asked_alike(mine: Asked, other: Asked) -> bool:
    return (
        text_likeness(mine.stem, other.stem) >= SAME_STEM
        and is_negated(mine.stem) == is_negated(other.stem)
        and numbers_in(mine.stem) == numbers_in(other.stem)
    )


def _rules_text(asked: Asked) -> QuestionText:
    keyed = frozenset(k - 1 for k in asked.accepted if 0 < k <= len(asked.choices))
    return QuestionText(
        stem=asked.stem,
        choices=asked.choices,
        answers=tuple(asked.choices[k] for k in sorted(keyed)),
        keyed=keyed,
    )
