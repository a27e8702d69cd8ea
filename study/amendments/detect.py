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
        index = [_grams(_flat_line(a.text)) for a in self.articles]
        for grams in index:
            for gram in grams:
                self._df[gram] = self._df.get(gram, 0) + 1
        return index

    def search(self, words: str, k: int = CANDIDATES) -> list[Article]:
        """The k articles that share the most (rare) words with `words`."""
        index = self._index
        wanted = _grams(_flat_line(words))
        total = len(index) or 1
        idf = {g: math.log(1 + total / self._df[g]) for g in wanted if g in self._df}
        scored = []
        for i, grams in enumerate(index):
            if self.articles[i].heading.startswith("부칙"):
                continue  # transitional: never what a question asks
            shared = sum(idf[g] for g in grams & idf.keys())
            if shared:
                scored.append((shared / math.log(10 + len(grams)), -i))
        scored.sort(reverse=True)
        return [self.articles[-i] for _, i in scored[:k]]

    def counterpart(
        self, article: Article, lines: Sequence[str] = ()
    ) -> tuple[Article | None, float]:
        """The article of this pool that states the provision `article`
        states (another version: renumbered, moved to another act of the
        topic), and how alike they are; (None, 0) when none is alike enough.
        With the deciding `lines`, an article that holds them counts as the
        same provision even when the rest was rewritten around them."""
        for candidate in self.articles:
            if (
                candidate.document == article.document
                and candidate.article == article.article
                and same_text(candidate, article)
            ):
                return candidate, 1.0
        index = self._index
        best: tuple[float, Article] | None = None
        for i, candidate in enumerate(self.articles):
            score = likeness(article, candidate)
            if lines:
                score = max(score, _containment(lines, index[i]) - HOLDS_LINES)
            if candidate.document == article.document:
                score += 0.05  # the same act, when two acts say much the same
            if bool(article.title) and candidate.title == article.title:
                score += 0.25
            if best is None or score > best[0]:
                best = (score, candidate)
        if best is None or best[0] < SAME_PROVISION:
            return None, 0.0
        return best[1], round(best[0], 3)


# Holding the deciding lines (share of their 2-grams) counts this much less
# than whole-article likeness: 0.9 of the lines → 0.5.
HOLDS_LINES = 0.4

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
            left, right = word_diff(self.then.text, self.now.text, key=plain)
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


def focus(article: Article, check: Check, choice: int | None = None) -> list[str]:
    """The lines of the article that hold the words the check marked (what
    decides the question; of one choice with `choice`), in order."""
    starts = []
    offset = 0
    for raw in article.text.split("\n"):
        starts.append((offset, offset + len(raw), raw))
        offset += len(raw) + 1
    wanted: dict[int, str] = {}
    for mark in check.marks:
        if mark.mark == ABSENT or (choice is not None and mark.choice != choice):
            continue
        for start, _ in mark.spans:
            for begin, end, raw in starts:
                if begin <= start <= end and raw.strip():
                    wanted[begin] = raw
    return [wanted[k] for k in sorted(wanted)]


def _flat_line(text: str) -> str:
    text = _REFERENCES.sub("§", _REFERENCE.sub("§", comparable(text)))
    for pattern, new in _STYLE:
        text = pattern.sub(new, text)
    return _REFERENCE_SPACE.sub("", text)


_REFERENCE = re.compile(
    r"(?:법|영|규칙|「[^」]*」)?\s*(?:같은\s*법\s*)?"
    r"제\d+조(?:의\d+)?(?:제\d+항)?(?:제\d+호)?(?:[가-하]목)?"
)
_REFERENCES = re.compile(r"§(?:\s*(?:및|또는|부터|,|ㆍ)\s*§)*(?:\s*까지)?")
# Plain-language rewording of the 2019–2021 revisions: the same rule.
_STYLE = [
    (re.compile(pattern), plain)
    for pattern, plain in (
        (r"하여야", "해야"),
        (r"되었", "됐"),
        (r"하였", "했"),
        (r"[·・‧∙]", "ㆍ"),
        (r"안전ㆍ보건", "안전보건"),
        # Terms renamed by a revision, defined as what they replace.
        (r"구축물\s*또는\s*이와\s*유사한\s*시설물", "구축물등"),
        (r"거푸집\s*동바리\s*등", "거푸집 및 동바리"),
        (r"구조물\s*,\s*건축물\s*,\s*그\s*밖의\s*시설물", "구축물등"),
        (r"근로자의\s*안전보건교육", "안전보건교육"),
        (r"(?<!사)다리", "교량"),  # 교량 → 다리 (not 사다리)
        (r"\([\u4e00-\u9fff]+\)", ""),  # a word's hanja in brackets
        (r"\(교량의\s*기둥과\s*기둥의\s*중심\s*사이의\s*거리\)", ""),
    )
]


def plain(text: str) -> str:
    """The text with the plain-language rewording undone, so two versions
    that say the same thing in old and new style read the same to the
    check (spacing and line breaks kept)."""
    for pattern, new in _STYLE:
        text = pattern.sub(new, text)
    return text


def plain_question(q: QuestionText) -> QuestionText:
    return replace(q, stem=plain(q.stem), choices=tuple(plain(c) for c in q.choices))


def plain_article(article: Article) -> Article:
    return replace(article, text=plain(article.text))


_REFERENCE_SPACE = re.compile(r"[\s*\\]+")
_LEADING_NUMBER = re.compile(r"^(?:[①-⑳㉑-㉟]|\d{1,3}(?:의\d+)?\.|[가-하]\.)")


def _line_key(line: str) -> str:
    """A line as two versions compare it: no notes, no 항/호 numbers, no
    numbers of cited articles, no spacing."""
    return _LEADING_NUMBER.sub("", _flat_line(line))


def focus_unchanged(lines: Sequence[str], counterpart: Article) -> bool:
    """Every deciding line reads the same in the counterpart (renumbered
    호 and cited articles aside)."""
    if not lines:
        return False
    today = {_line_key(line) for line in counterpart.text.split("\n")}
    return all(_line_key(line) in today for line in lines)


def _containment(lines: Sequence[str], grams_of: set[str]) -> float:
    wanted = _grams("".join(_line_key(line) for line in lines))
    return len(wanted & grams_of) / len(wanted) if wanted else 0.0


def deciding_article(
    q: QuestionText, candidates: Sequence[Article]
) -> tuple[Article, Check] | None:
    """Of the candidate articles (best first), the one that decides the
    question: read alone, its marks single out the key (the key was set
    under this text); else the first that singles out any choice; else the
    first that marks at least two choices (no verdict, but it speaks to the
    question: its marks can still change)."""
    readings = [(a, check_choices(q, [_passage(a)])) for a in candidates]
    for article, check in readings:
        if check.verdict is not None and check.verdict in q.accepted:
            return article, check
    for article, check in readings:
        if check.verdict is not None:
            return article, check
    for article, check in readings[:1]:
        if sum(m.mark != ABSENT for m in check.marks) >= MARKED_ENOUGH:
            return article, check
    return None


# Without a verdict, the best candidate speaks to the question when it
# marks this many choices.
MARKED_ENOUGH = 2


def detect(q: QuestionText, *, then: Pool, now: Pool) -> Detection:
    """The flag of one question (module docstring): 판단 불가 when no article
    then decides it; 삭제됨 when today has no counterpart or states none of
    what the article then marked; 변경 없음 when the deciding lines read the
    same today or the check marks every choice the same; else 개정됨."""
    q = plain_question(q)
    candidates = {(a.document_id, a.article): a for a in then.search(question_words(q))}
    found = deciding_article(q, [plain_article(a) for a in candidates.values()])
    if found is None:
        return Detection(UNKNOWN, "no_passage")
    article, reading = found
    marks_then = _marks(reading)
    lines = focus(article, reading)
    original = candidates[(article.document_id, article.article)]
    base = Detection(
        UNKNOWN,
        "",
        key_then=reading.verdict,
        then=original,
        marks_then=marks_then,
    )
    today_article, alike = now.counterpart(original, lines)
    if today_article is None:
        return _decided_alike(q, now, base) or replace(
            base, status=GONE, reason="provision_gone"
        )
    counterpart = plain_article(today_article)
    kept = replace(
        base, key_now=reading.verdict, now=today_article, marks_now=marks_then
    )
    kept = replace(kept, likeness=alike)
    if counterpart.document_id == article.document_id:
        return replace(kept, status=UNCHANGED, reason="same_version")
    if same_text(article, counterpart) or focus_unchanged(lines, counterpart):
        return replace(kept, status=UNCHANGED, reason="same_text")
    today = check_choices(q, [_passage(counterpart)])
    marks_now = _marks(today)
    # A choice whose lines then read the same today is read as then: the
    # check's mark moved for words that did not change.
    steady = tuple(
        then_mark
        if then_mark != ABSENT
        and focus_unchanged(focus(article, reading, n), counterpart)
        else now_mark
        for n, (then_mark, now_mark) in enumerate(
            zip(marks_then, marks_now, strict=True), 1
        )
    )
    read = replace(kept, key_now=today.verdict, marks_now=marks_now)
    if steady == marks_then:
        return replace(
            read, status=UNCHANGED, reason="same_marks", key_now=reading.verdict
        )
    if today.verdict is not None and today.verdict == reading.verdict:
        # The same marks, or the same one choice singled out: today's text
        # decides the question as the text then did.
        return replace(read, status=UNCHANGED, reason="same_marks")
    alike_today = _decided_alike(q, now, read)
    if alike_today is not None:
        return alike_today
    if all(m == ABSENT for m in read.marks_now):
        return replace(read, status=GONE, reason="provision_gone")
    return replace(read, status=CHANGED, reason="marks_differ")


def _decided_alike(q: QuestionText, now: Pool, found: Detection) -> Detection | None:
    """Before a question is flagged: today's articles searched afresh by its
    words (a provision moved or split so that no one article is like the
    old one); if one of them, read alone, singles out the choice the text
    then did, today decides it alike (변경 없음 with that article)."""
    if found.key_then is None:
        return None
    candidates = {(a.document_id, a.article): a for a in now.search(question_words(q))}
    decided = deciding_article(q, [plain_article(a) for a in candidates.values()])
    if decided is None or decided[1].verdict != found.key_then:
        return None
    article, check = decided
    return replace(
        found,
        status=UNCHANGED,
        reason="same_marks",
        key_now=check.verdict,
        now=candidates[(article.document_id, article.article)],
        marks_now=_marks(check),
    )
