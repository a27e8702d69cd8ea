"""The words of an exam's language that rules read: which stems ask "which is
NOT …", which words negate or affirm a sentence, and which words every
question and statute of a field shares (too common to tie a quote to a
question).

Pure and importable from anywhere (the AI guard, the related-question rules,
the answer card). The words are data, `study/data/exam_vocabulary.json`; a
topic adds its own (`Topic.exam_vocabulary`, the same keys) through
`ExamVocabulary.extended`. In a phrase, a space means "optional whitespace":
"거리가 먼" matches "거리가먼" and "거리가  먼".
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cache, cached_property
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parent / "data" / "exam_vocabulary.json"

# The keys a data file or a topic may give, each a list of words or phrases.
WORD_LISTS = ("negative_stem", "negated_ask", "negation", "affirmation")
KEYS = (*WORD_LISTS, "field_words")
MAX_WORD_CHARS = 40


def _pattern(phrases: Iterable[str]) -> re.Pattern[str]:
    """One alternation of the phrases, a space in a phrase matching any
    whitespace or none; longest first so a longer phrase wins."""
    parts = sorted({p.strip() for p in phrases if p.strip()}, key=len, reverse=True)
    if not parts:
        return re.compile(r"(?!x)x")  # matches nothing
    escaped = (r"\s*".join(map(re.escape, p.split())) for p in parts)
    return re.compile("(" + "|".join(escaped) + ")")


@dataclass(frozen=True)
class ExamVocabulary:
    # Markers of a "which is NOT / wrong / least related …" question, read
    # anywhere in the stem.
    negative_stem: tuple[str, ...]
    # The same polarity read only at the end of the stem, where it asks.
    negated_ask: tuple[str, ...]
    # Words that negate or affirm a sentence about a choice.
    negation: tuple[str, ...]
    affirmation: tuple[str, ...]
    # Words every question and source of the field shares.
    field_words: frozenset[str]

    @cached_property
    def negative_stem_re(self) -> re.Pattern[str]:
        return _pattern(self.negative_stem)

    @cached_property
    def negated_ask_re(self) -> re.Pattern[str]:
        return _pattern(self.negated_ask)

    @cached_property
    def negation_re(self) -> re.Pattern[str]:
        return _pattern(self.negation)

    @cached_property
    def affirmation_re(self) -> re.Pattern[str]:
        return _pattern(self.affirmation)

    @cached_property
    def field_prefixes(self) -> frozenset[str]:
        """Two-character beginnings too common in the field to tie a quote to
        a question on their own (안전…, 보건…, 사업…)."""
        return frozenset(w[:2] for w in self.field_words if len(w) >= 2)

    def is_negative_stem(self, stem: str) -> bool:
        """Whether the question asks for the choice that is NOT so."""
        return bool(self.negative_stem_re.search(re.sub(r"\s+", "", stem)))

    def is_negated_ask(self, ask: str) -> bool:
        return bool(self.negated_ask_re.search(ask))

    def extended(self, extra: Mapping[str, object]) -> ExamVocabulary:
        """This vocabulary with a topic's own words added (never removed).
        Raises ValueError when `extra` is not of the documented shape."""
        errors = vocabulary_errors(extra)
        if errors:
            raise ValueError("; ".join(errors))
        if not extra:
            return self
        words = {key: _words(extra.get(key)) for key in KEYS}
        return replace(
            self,
            **{key: (*getattr(self, key), *words[key]) for key in WORD_LISTS},
            field_words=self.field_words | frozenset(words["field_words"]),
        )


def _words(value: object) -> list[str]:
    if not isinstance(value, list):
        return []
    return [w.strip() for w in value if isinstance(w, str) and w.strip()]


def vocabulary_errors(extra: object) -> list[str]:
    """What is wrong with a topic's vocabulary (empty when it is usable):
    an object whose keys are among KEYS, each a list of short strings."""
    if extra in (None, ""):
        return []
    if not isinstance(extra, Mapping):
        return ["the exam vocabulary must be a JSON object"]
    errors = [
        f"unknown key {key!r} (use {', '.join(KEYS)})"
        for key in extra
        if key not in KEYS
    ]
    for key in KEYS:
        value = extra.get(key, [])
        if not isinstance(value, list) or not all(
            isinstance(w, str) and 0 < len(w.strip()) <= MAX_WORD_CHARS for w in value
        ):
            errors.append(
                f"{key!r} must be a list of words of 1 to {MAX_WORD_CHARS} characters"
            )
    return errors


def vocabulary_from_data(data: Mapping[str, object]) -> ExamVocabulary:
    """A vocabulary from the data file's shape: word lists, and field words
    grouped by the field (or "any exam") they belong to."""
    groups = data.get("field_words", {})
    field_words: set[str] = set()
    if isinstance(groups, Mapping):
        for words in groups.values():
            field_words.update(_words(words))
    lists = {key: tuple(_words(data.get(key))) for key in WORD_LISTS}
    return ExamVocabulary(field_words=frozenset(field_words), **lists)


@cache
def default_vocabulary() -> ExamVocabulary:
    """The shipped vocabulary: every exam's words and every field's."""
    return vocabulary_from_data(json.loads(DATA_FILE.read_text(encoding="utf-8")))


def is_negative_stem(stem: str, vocabulary: ExamVocabulary | None = None) -> bool:
    """Whether a question asks for the choice that is NOT so ("옳지 않은 것은",
    "거리가 가장 먼 것은", …)."""
    return (vocabulary or default_vocabulary()).is_negative_stem(stem)
