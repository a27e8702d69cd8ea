"""How completely the repeat rules find a question again in a copy changed in
one of issue 30's ways, on real questions: a robustness measure beside the
hand-labelled pairs (tests/study/related/test_calibration.py), which hold
only the few copies of each kind the rounds happen to print.

A seeded sample of the rounds' questions (text only, four options, one key)
is paired with copies of each, each changed one way:

- ``reorder``: the options shuffled, the key following its text;
- ``conflict``: another option keyed (found only as a repeat whose key
  conflicts);
- ``reword``: the ask worded with a common alternative ("것은?" / "것은
  무엇인가?", "틀린" / "옳지 않은" …) and "다음 중" put in front of half;
- ``options``: every option's ending or spacing written another way ("…한다."
  / "…함", "…할 것" / "…한다", "A 및 B" / "A, B", a space more or less);
- ``distractor``: one unkeyed option replaced by an option of another
  question of the subject;
- ``steps``: ㉠㉡… printed as (A)(B)… (only questions that have them);
- ``lost``: glyphs the copy could not print: two of the stem's letters and
  one of an option's become □, ? or �, and two spaces are dropped;
- ``misprint``: two of the stem's letters and one of an option's replaced by
  other syllables (a typing or recognition error).

Both texts are embedded as the relations embed them, by the configured
embedder, and judged by its thresholds (study.related.thresholds). Not a
precision measure: every pair here is a repeat.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from study.imports.parsing import ParsedRow, parse_file
from study.llm.embeddings import get_embedder
from study.related.rules import (
    KEY_CONFLICT,
    QuestionText,
    embedding_text,
    step_number,
)
from study.related.thresholds import REPEAT, current_thresholds, pair_verdict_for

KINDS = (
    "reorder",
    "conflict",
    "reword",
    "options",
    "distractor",
    "steps",
    "lost",
    "misprint",
)
_LOST_GLYPHS = ("□", "?", "�")
_SYLLABLES = [chr(c) for c in range(0xAC00, 0xD7A4)]
# Step labels one round prints and another round's for the same step:
# ㉠ → (A), ⓐ → ㉠, (A) → ㉠, (가) → ㉠.
_CIRCLED_HANGUL = "㉠㉡㉢㉣㉤㉥㉦㉧"
_STEP_LABEL = re.compile(r"[㉠-㉧]|[ⓐ-ⓗ]|\(([A-H]|[가나다라마바사아])\)")
# An option's ending or joining written another way.
_OPTION_REWORDINGS = (
    ("한다.", "함"),
    ("한다", "함"),
    ("할 것", "한다"),
    ("이다.", "이다"),
    ("다.", "다"),
    (" 및 ", ", "),
    ("의 유무", " 유무"),
    ("에 관한 사항", "에 관한 것"),
)
# The ask's wording and a common alternative of it.
_REWORDINGS = (
    ("것은?", "것은 어느 것인가?"),
    ("것은?", "것은 무엇인가?"),
    ("옳은 것은", "맞는 것은"),
    ("틀린 것은", "옳지 않은 것은"),
    ("해당하지 않는", "해당되지 않는"),
    ("가장 적절한", "가장 알맞은"),
    ("다음 중 ", ""),
)


@dataclass(frozen=True)
class Copy:
    stem: str
    choices: tuple[str, ...]
    correct: int  # 1-based
    subject: str = ""
    key: str = ""

    def text(self) -> QuestionText:
        return QuestionText.build(
            stem=self.stem, choices=self.choices, correct_choice=self.correct
        )

    def embedded(self) -> str:
        return embedding_text(stem=self.stem, choices=self.choices)


@dataclass(frozen=True)
class Miss:
    kind: str
    similarity: float
    verdict: str
    original: Copy
    changed: Copy


@dataclass(frozen=True)
class KindFigures:
    kind: str
    found: int
    total: int

    @property
    def recall(self) -> float:
        return self.found / self.total if self.total else 0.0


def questions_from(files: Iterable[Path]) -> list[Copy]:
    """The text-only, four-option, single-key questions of these files."""
    found = []
    for path in files:
        for row in parse_file(path):
            if not isinstance(row, ParsedRow) or row.needs_figure:
                continue
            if len(row.choices) != 4 or row.accepted_choices:
                continue
            found.append(
                Copy(
                    stem=row.stem,
                    choices=tuple(row.choices),
                    correct=row.correct_choice,
                    subject=row.subject,
                    key=f"{row.year}-{row.session}-{row.number}",
                )
            )
    return found


class _Changes:
    """The changes of KINDS, drawing from one seeded generator."""

    def __init__(self, bank: list[Copy], rng: random.Random) -> None:
        self.bank = bank
        self.rng = rng

    def reorder(self, q: Copy) -> Copy:
        order = list(range(4))
        while order == [0, 1, 2, 3]:
            self.rng.shuffle(order)
        choices = tuple(q.choices[i] for i in order)
        return replace(q, choices=choices, correct=order.index(q.correct - 1) + 1)

    def conflict(self, q: Copy) -> Copy:
        other = self.rng.choice([c for c in range(1, 5) if c != q.correct])
        return replace(q, correct=other)

    def reword(self, q: Copy) -> Copy:
        stem = q.stem
        found = [(old, new) for old, new in _REWORDINGS if old in stem]
        if found:
            old, new = self.rng.choice(found)
            stem = stem.replace(old, new, 1)
        if not stem.startswith("다음 중") and self.rng.random() < 0.5:
            stem = "다음 중 " + stem
        return replace(q, stem=stem)

    def options(self, q: Copy) -> Copy:
        return replace(q, choices=tuple(self._reword_option(c) for c in q.choices))

    def _reword_option(self, option: str) -> str:
        found = [(old, new) for old, new in _OPTION_REWORDINGS if old in option]
        if found:
            old, new = self.rng.choice(found)
            return option.replace(old, new, 1)
        spaces = [i for i, c in enumerate(option) if c == " "]
        if spaces:  # a space less
            i = self.rng.choice(spaces)
            return option[:i] + option[i + 1 :]
        return option

    def distractor(self, q: Copy) -> Copy | None:
        others = [o for o in self.bank if o.subject == q.subject and o.key != q.key]
        others = others or [o for o in self.bank if o.key != q.key]
        if not others:
            return None
        slot = self.rng.choice([i for i in range(4) if i != q.correct - 1])
        choices = list(q.choices)
        choices[slot] = self.rng.choice(self.rng.choice(others).choices)
        return replace(q, choices=tuple(choices))

    def steps(self, q: Copy) -> Copy | None:
        if not _STEP_LABEL.search(q.stem + "".join(q.choices)):
            return None

        def relabel(text: str) -> str:
            return _STEP_LABEL.sub(_other_label, text)

        return replace(
            q, stem=relabel(q.stem), choices=tuple(relabel(c) for c in q.choices)
        )

    def lost(self, q: Copy) -> Copy:
        return self._letters(q, lambda: self.rng.choice(_LOST_GLYPHS), spaces=2)

    def misprint(self, q: Copy) -> Copy:
        return self._letters(q, lambda: self.rng.choice(_SYLLABLES), spaces=0)

    def _letters(self, q: Copy, glyph: Callable[[], str], *, spaces: int) -> Copy:
        stem = self._replace_letters(q.stem, 2, glyph).replace(" ", "", spaces)
        choices = list(q.choices)
        slot = self.rng.randrange(4)
        choices[slot] = self._replace_letters(choices[slot], 1, glyph)
        return replace(q, stem=stem, choices=tuple(choices))

    def _replace_letters(self, text: str, count: int, glyph: Callable[[], str]) -> str:
        chars = list(text)
        letters = [i for i, c in enumerate(chars) if "가" <= c <= "힣"]
        for i in self.rng.sample(letters, min(count, len(letters))):
            chars[i] = glyph()
        return "".join(chars)


def _other_label(match: re.Match) -> str:
    """㉠ as (A); any other style as ㉠, the same step (rules.step_number)."""
    label = match.group(0)
    step = step_number(match.group(1) or label)
    if label in _CIRCLED_HANGUL:
        return f"({chr(ord('A') + step - 1)})"
    return _CIRCLED_HANGUL[step - 1]


def measure_repeat_kinds(
    questions: list[Copy], *, sample: int, seed: int
) -> tuple[list[KindFigures], list[Miss]]:
    """Each kind's found/total on `sample` questions drawn with `seed`, and
    the pairs not found as repeats (a conflict also not told as one)."""
    rng = random.Random(seed)
    chosen = rng.sample(questions, min(sample, len(questions)))
    changes = _Changes(questions, rng)
    pairs: list[tuple[str, Copy, Copy]] = []
    for question in chosen:
        for kind in KINDS:
            changed = getattr(changes, kind)(question)
            if changed is not None:
                pairs.append((kind, question, changed))
    texts = sorted({c.embedded() for _, a, b in pairs for c in (a, b)})
    vectors = np.asarray(get_embedder().embed_passages(texts), dtype=np.float64)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    row = {text: n for n, text in enumerate(texts)}
    thresholds = current_thresholds()
    found: dict[str, list[bool]] = {kind: [] for kind in KINDS}
    misses = []
    for kind, original, changed in pairs:
        similarity = float(
            vectors[row[original.embedded()]] @ vectors[row[changed.embedded()]]
        )
        verdict = pair_verdict_for(
            similarity, original.text(), changed.text(), thresholds
        )
        ok = verdict.kind == REPEAT and (
            kind != "conflict" or verdict.key == KEY_CONFLICT
        )
        found[kind].append(ok)
        if not ok:
            told = f"{verdict.kind or 'none'} {verdict.key or verdict.rule}".strip()
            misses.append(Miss(kind, similarity, told, original, changed))
    figures = [KindFigures(kind, sum(oks), len(oks)) for kind, oks in found.items()]
    return figures, misses


def table(figures: list[KindFigures]) -> list[str]:
    lines = ["| kind | found / pairs | recall |", "| --- | ---: | ---: |"]
    for f in figures:
        if f.total:
            lines.append(f"| {f.kind} | {f.found} / {f.total} | {f.recall:.3f} |")
    return lines
