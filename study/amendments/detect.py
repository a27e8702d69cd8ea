"""The 개정 flag of one question (pure): its deciding article in the
versions in force on its exam date, followed by content to today's versions,
and the per-choice check of the answer card run under both.

`detect` reads nothing but its arguments: the question, the articles of the
versions in force on the exam date (`then`) and of those in force today
(`now`), every act of the topic in each. The service loads the articles from
the stored chunks; the measurement (benchmarks/amendments.py) reads the
shared history files through the same chunker, so both run this code.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

from study.amendments.compare import (
    CHANGED,
    GONE,
    UNCHANGED,
    UNKNOWN,
    Article,
    comparable,
    likeness,
    same_text,
    word_diff,
)
from study.evidence.check import (
    ABSENT,
    Check,
    PassageText,
    QuestionText,
    check_choices,
)
from study.evidence.passages import article_text

# Articles of the version then that are read one by one for the passage
# that decides the question (the best ranked by the words they share).
CANDIDATES = 8

_SPACE = re.compile(r"\s+")
_DIGITS = re.compile(r"\d+")


def _grams(text: str) -> set[str]:
    flat = _SPACE.sub("", text)
    return {flat[i : i + 2] for i in range(max(0, len(flat) - 1))}


@dataclass
class Pool:
    """The articles of some versions, indexed for the two look-ups the
    detector makes: the articles a question's words are in, and the article
    that states a given provision."""

    articles: Sequence[Article]
    _df: dict[str, int] = field(default_factory=dict, init=False, repr=False)

    @cached_property
    def _index(self) -> list[set[str]]:
        index = [_grams(comparable(a.text)) for a in self.articles]
        for grams in index:
            for gram in grams:
                self._df[gram] = self._df.get(gram, 0) + 1
        return index

    def search(self, words: str, k: int = CANDIDATES) -> list[Article]:
        """The k articles that share the most (rare) words with `words`."""
        index = self._index
        wanted = _grams(_DIGITS.sub("0", words)) | _grams(words)
        total = len(index) or 1
        idf = {g: math.log(1 + total / self._df[g]) for g in wanted if g in self._df}
        scored = []
        for i, grams in enumerate(index):
            shared = sum(idf[g] for g in grams & idf.keys())
            if shared:
                scored.append((shared / math.log(10 + len(grams)), -i))
        scored.sort(reverse=True)
        return [self.articles[-i] for _, i in scored[:k]]

    def counterpart(self, article: Article) -> tuple[Article | None, float]:
        """The article of this pool that states the provision `article`
        states (another version: renumbered, moved to another act of the
        topic), and how alike they are; (None, 0) when none is alike enough."""
        same = [
            a
            for a in self.articles
            if a.document == article.document and a.article == article.article
        ]
        for candidate in same:
            if same_text(candidate, article):
                return candidate, 1.0
        best: tuple[float, Article] | None = None
        for candidate in self.articles:
            score = likeness(article, candidate)
            titled = bool(article.title) and candidate.title == article.title
            if candidate.document == article.document:
                score += 0.05  # the same act, when two acts say much the same
            if titled:
                score += 0.25
            if best is None or score > best[0]:
                best = (score, candidate)
        if best is None or best[0] < SAME_PROVISION:
            return None, 0.0
        return best[1], round(best[0], 3)


# A counterpart ranks at least this (3-gram likeness, plus 0.25 for the same
# title and 0.05 for the same act).
SAME_PROVISION = 0.4


@dataclass(frozen=True)
class Detection:
    """What `detect` found: the status and its reason code, the choice
    today's text singles out, and the two articles with their marks."""

    status: str
    reason: str
    key_now: int | None = None
    key_then: int | None = None
    then: Article | None = None
    now: Article | None = None
    marks_then: tuple[str, ...] = ()
    marks_now: tuple[str, ...] = ()
    likeness: float = 0.0

    @property
    def flagged(self) -> bool:
        return self.status in (CHANGED, GONE)

    def data(self) -> dict:
        """The stored detail: the marks, and both articles cut into parts
        with the changed words marked ([text, changed])."""
        out: dict = {
            "marks_then": list(self.marks_then),
            "marks_now": list(self.marks_now),
            "key_then": self.key_then,
            "likeness": self.likeness,
        }
        if self.then is not None:
            out["then"] = {"document": self.then.document, "heading": self.then.heading}
        if self.now is not None:
            out["now"] = {"document": self.now.document, "heading": self.now.heading}
        if self.then is not None and self.now is not None and self.status != UNCHANGED:
            left, right = word_diff(self.then.text, self.now.text)
            out["then"]["parts"] = left
            out["now"]["parts"] = right
        elif self.then is not None and self.status == GONE:
            out["then"]["parts"] = [[comparable(self.then.text), False]]
        return out


_HEADING = re.compile(r"^(?:부칙\s+)?제\d+조(?:의\d+)?(?:\([^)]*\))?")


def articles_of(
    document_id: int, document: str, chunks: Iterable[tuple[str, str, str]]
) -> list[Article]:
    """The whole articles of one version from its chunks in order, each
    (article key, citation, text): put together as the answer card puts
    them (study/evidence/passages.py)."""
    pieces: dict[str, list[tuple[str, str]]] = {}
    for article, citation, text in chunks:
        if article:
            pieces.setdefault(article, []).append((citation, text))
    articles = []
    for key, items in pieces.items():
        found = _HEADING.match(items[0][0])
        heading = found.group(0) if found else items[0][0]
        articles.append(
            Article(
                document_id=document_id,
                document=document,
                article=key,
                heading=heading,
                text=article_text([t for _, t in items], heading=heading),
            )
        )
    return articles


def _passage(article: Article) -> PassageText:
    return PassageText(
        citation=f"{article.document} {article.heading}", text=article.text
    )


def _marks(check: Check) -> tuple[str, ...]:
    return tuple(m.mark for m in check.marks)


def question_words(q: QuestionText) -> str:
    return " ".join([q.stem, *q.choices])


def deciding_article(
    q: QuestionText, candidates: Sequence[Article]
) -> tuple[Article, Check] | None:
    """Of the candidate articles (best first), the one that decides the
    question: read alone, its marks single out the key (the key was set
    under this text); else the first that singles out any choice."""
    readings = [(a, check_choices(q, [_passage(a)])) for a in candidates]
    for article, check in readings:
        if check.verdict is not None and check.verdict in q.accepted:
            return article, check
    for article, check in readings:
        if check.verdict is not None:
            return article, check
    return None


def detect(q: QuestionText, *, then: Pool, now: Pool) -> Detection:
    """The flag of one question (module docstring): 판단 불가 when no article
    then decides it; 삭제됨 when today has no counterpart or states none of
    what the article then marked; 변경 없음 when the counterpart reads the
    same or marks every choice the same; else 개정됨."""
    found = deciding_article(q, then.search(question_words(q)))
    if found is None:
        return Detection(UNKNOWN, "no_passage")
    article, reading = found
    marks_then = _marks(reading)
    base = Detection(
        UNKNOWN,
        "",
        key_then=reading.verdict,
        then=article,
        marks_then=marks_then,
    )
    counterpart, alike = now.counterpart(article)
    if counterpart is None:
        return replace(base, status=GONE, reason="provision_gone")
    kept = replace(base, key_now=reading.verdict, now=counterpart, marks_now=marks_then)
    kept = replace(kept, likeness=alike)
    if counterpart.document_id == article.document_id:
        return replace(kept, status=UNCHANGED, reason="same_version")
    if same_text(article, counterpart):
        return replace(kept, status=UNCHANGED, reason="same_text")
    today = check_choices(q, [_passage(counterpart)])
    read = replace(kept, key_now=today.verdict, marks_now=_marks(today))
    if read.marks_now == marks_then and today.verdict == reading.verdict:
        return replace(read, status=UNCHANGED, reason="same_marks")
    if all(m == ABSENT for m in read.marks_now):
        return replace(read, status=GONE, reason="provision_gone")
    return replace(read, status=CHANGED, reason="marks_differ")
