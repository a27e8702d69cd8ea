"""Two versions of a statute compared for one question (pure).

The question's deciding passages in the version in force on its exam date
are followed to today's text by content, not by number (산업안전보건법 was
renumbered when it was rewritten in force from 2020-01-16; provisions moved
between the 시행규칙 and the 시행령), the changed words are marked, and the
per-choice marks of the check under the two versions decide the flag:

- 변경 없음 (unchanged): the deciding passage reads the same today, or the
  marks under both versions are the same;
- 개정됨 (changed): the provision exists today and the marks differ;
- 삭제됨 (gone): no article today states it (deleted, or moved into an annex
  or a standard whose body is not in the text: nothing today marks a choice
  the passage then marked);
- 판단 불가 (unknown): no version in force on the exam date, or no passage
  then that decides anything.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

UNCHANGED = "unchanged"
CHANGED = "changed"
GONE = "gone"
UNKNOWN = "unknown"
ABSENT = "absent"

_NOTE = re.compile(
    r"\s*<(?:개정|신설|전문개정|본조신설|제목개정|타법개정|시행일)[^>]*>"
)
_REFERENCE = re.compile(r"(?:법|영|규칙)?\s*제\d+조(?:의\d+)?(?:제\d+항)?(?:제\d+호)?")
_HEADING = re.compile(r"^(?:부칙\s+)?제\d+조(?:의\d+)?\s*(?:\(([^)]*)\))?")
_ESCAPE = re.compile(r"\\(?=[.])|\*\*")
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\S+|\s+")


@dataclass(frozen=True)
class Article:
    """A whole article of one version of an act."""

    document_id: int
    document: str  # the act's title
    article: str  # "제42조"
    heading: str  # "제42조(추락의 방지)"
    text: str

    @property
    def title(self) -> str:
        found = _HEADING.match(self.heading)
        return (found.group(1) or "").strip() if found else ""


def comparable(text: str) -> str:
    """An article's text as two versions compare it: no amendment notes, no
    Markdown escapes, spacing collapsed."""
    return _SPACE.sub(" ", _ESCAPE.sub("", _NOTE.sub("", text))).strip()


@lru_cache(maxsize=20000)
def _body(text: str, heading: str) -> str:
    text = comparable(text)
    heading = comparable(heading)
    if text.startswith(heading):
        text = text[len(heading) :]
    return _REFERENCE.sub("§", text).replace(" ", "")


@lru_cache(maxsize=20000)
def _grams(text: str, heading: str) -> frozenset[str]:
    body = _body(text, heading)
    return frozenset(body[i : i + 3] for i in range(max(1, len(body) - 2)))


def likeness(a: Article, b: Article) -> float:
    """How much two articles are one provision (0–1, 3-gram Jaccard of their
    bodies), numbers of articles they cite left out, so a renumbered article
    is like itself."""
    ga, gb = _grams(a.text, a.heading), _grams(b.text, b.heading)
    if not ga or not gb:
        return 0.0
    return len(ga & gb) / len(ga | gb)


def same_text(a: Article, b: Article) -> bool:
    """The same words (notes, spacing and the numbers of cited articles
    aside)."""
    return _body(a.text, a.heading) == _body(b.text, b.heading)


def word_diff(
    then: str, now: str, key: Callable[[str], str] = str
) -> tuple[list[list], list[list]]:
    """Both texts cut into parts [text, changed]: the words of `then` that are
    not in `now` and the words of `now` that are new. Words are compared by
    `key` (a rewording that says the same thing is not a change)."""
    a, b = _WORD.findall(comparable_lines(then)), _WORD.findall(comparable_lines(now))
    matcher = SequenceMatcher(
        None, [key(w) for w in a], [key(w) for w in b], autojunk=False
    )
    left: list[list] = []
    right: list[list] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        _append(left, "".join(a[i1:i2]), op != "equal")
        _append(right, "".join(b[j1:j2]), op != "equal")
    return left, right


def comparable_lines(text: str) -> str:
    """Notes and escapes removed, line breaks kept (the card shows lines)."""
    return "\n".join(
        _SPACE.sub(" ", _ESCAPE.sub("", _NOTE.sub("", line))).strip()
        for line in text.split("\n")
        if line.strip()
    )


def _append(parts: list[list], text: str, changed: bool) -> None:
    if not text:
        return
    if changed and not text.strip():
        changed = False
    if parts and parts[-1][1] == changed:
        parts[-1][0] += text
    else:
        parts.append([text, changed])
