"""What decides a question's answer, compared between two questions.

Embeddings say two questions read alike; they cannot tell "옳은 것은" from
"옳지 않은 것은", 3 m from 5 m, or a round that keyed another choice. A pair
that differs in any of these is at most SIMILAR, never a REPEAT.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from study.exam_vocabulary import ExamVocabulary, default_vocabulary

NEGATION = "negation"
NUMBERS = "numbers"
ANSWER = "answer"

# The ask is the end of the stem, just before its question mark.
_ASK_CHARS = 24
_UNIT_WORDS = {
    "밀리미터": "mm",
    "센티미터": "cm",
    "킬로미터": "km",
    "미터": "m",
    "킬로그램": "kg",
    "그램": "g",
    "퍼센트": "%",
}
_NUMBER = re.compile(
    r"(\d+(?:[.,]\d+)*)\s*"
    r"(밀리미터|센티미터|킬로미터|미터|킬로그램|그램|퍼센트"
    r"|[A-Za-z%°㎜㎝㎏㎡㎥℃Ωμ/]+|[년월일시분초회명개배층류종급차단호항조번톤])?"
)
# "정답인 2번을 누르면": a choice position, which rounds reorder.
_POSITION_UNIT = "번"
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
_PARENTHESISED = re.compile(r"\([^()]*\)")
_NOT_WORD = re.compile(r"[\W_]+")
# Keyed answers match when their texts are this alike (after normalisation)
# and more alike than the keyed text is to any other choice.
ANSWER_MATCH = 0.7


@dataclass(frozen=True)
class QuestionText:
    stem: str
    choices: tuple[str, ...]
    answers: tuple[str, ...]  # the texts of the keyed choice(s)

    @classmethod
    def build(
        cls,
        *,
        stem: str,
        choices: Sequence[str],
        correct_choice: int,
        accepted_choices: str = "",
    ) -> QuestionText:
        keyed = (
            [int(c) for c in accepted_choices.split(",")]
            if accepted_choices
            else [correct_choice]
        )
        answers = tuple(choices[k - 1] for k in keyed if 1 <= k <= len(choices))
        return cls(stem=stem, choices=tuple(choices), answers=answers)


def embedding_text(*, stem: str, choices: Sequence[str]) -> str:
    """Stem plus the choices as a set: rounds reorder choices."""
    return "\n".join([stem.strip(), *sorted(c.strip() for c in choices)])


def decisive_difference(
    a: QuestionText, b: QuestionText, vocabulary: ExamVocabulary | None = None
) -> str | None:
    """Why the two cannot be the same question, or None when nothing says so."""
    if is_negated(a.stem, vocabulary) != is_negated(b.stem, vocabulary):
        return NEGATION
    if numbers_in(a.stem) != numbers_in(b.stem):
        return NUMBERS
    if not (_keyed_answer_found(a, b) and _keyed_answer_found(b, a)):
        return ANSWER
    return None


def is_negated(stem: str, vocabulary: ExamVocabulary | None = None) -> bool:
    """The ask at the end of the stem is negated (the exam's negated_ask words)."""
    return (vocabulary or default_vocabulary()).is_negated_ask(_ask(stem))


def numbers_in(text: str, *, with_units: bool = True) -> frozenset:
    found = set()
    for value, unit in _NUMBER.findall(_nfkc(text)):
        if unit == _POSITION_UNIT:
            continue
        number = repr(float(value.replace(",", ""))) if _is_number(value) else value
        unit = _UNIT_WORDS.get(unit, unit).lower()
        found.add((number, unit) if with_units else number)
    return frozenset(found)


def _ask(stem: str) -> str:
    text = _nfkc(stem).strip()
    mark = text.rfind("?")
    return (text[:mark] if mark >= 0 else text)[-_ASK_CHARS:]


def _keyed_answer_found(a: QuestionText, b: QuestionText) -> bool:
    """Some keyed answer of `a` is, among `b`'s choices, most like `b`'s key."""
    others = [c for c in b.choices if c not in b.answers]
    return any(
        _same_answer(mine, theirs, others) for mine in a.answers for theirs in b.answers
    )


def _same_answer(mine: str, theirs: str, others: list[str]) -> bool:
    values = numbers_in(mine, with_units=False)
    if values != numbers_in(theirs, with_units=False):
        return False
    rest_mine, rest_theirs = _residue(mine), _residue(theirs)
    # "127" and "127 kPa": the unit lives in the stem of one of them.
    if values and (rest_mine == rest_theirs or not rest_mine or not rest_theirs):
        return True
    score = text_likeness(mine, theirs)
    return score >= ANSWER_MATCH and all(
        text_likeness(mine, other) < score for other in others
    )


def text_likeness(a: str, b: str) -> float:
    """1.0 for equal texts; glosses in parentheses may be dropped on either side."""
    return max(_likeness(x, y) for x in _forms(a) for y in _forms(b))


def _likeness(x: str, y: str) -> float:
    if x == y:
        return 1.0
    short, long_ = sorted((x, y), key=len)
    if len(short) >= 2 and short in long_ and len(short) >= 0.4 * len(long_):
        return 0.9 + 0.1 * len(short) / len(long_)
    return SequenceMatcher(None, x, y).ratio()


def _forms(text: str) -> set[str]:
    plain = _nfkc(text)
    forms = {_normalise(plain), _normalise(_PARENTHESISED.sub("", plain))} - {""}
    return forms or {""}


def _residue(text: str) -> str:
    return _normalise(_DIGITS.sub("", _nfkc(text)))


def _normalise(text: str) -> str:
    return _NOT_WORD.sub("", text.lower())


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _is_number(value: str) -> bool:
    try:
        float(value.replace(",", ""))
    except ValueError:
        return False
    return True
