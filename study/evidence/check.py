"""Every choice of a question checked against the passages that decide it.

A pure function of (question, passage texts): ``check_choices`` gives each
choice one mark —

- ``match`` (조문과 일치): a passage states the choice's content, its
  numbers, units and bounds included (1.5 m = 1.5미터; 31 m satisfies
  "31미터 이상");
- ``differ`` (조문과 다름): a passage states the same point with another
  value, bound or term, or says the opposite ("이탈되지 않도록");
- ``absent`` (조문에 없음): nothing in the passages states it —

and a verdict only when the marks single out exactly one choice under the
question's polarity: in a "which is NOT / wrong" question the one choice
that is not stated while the three others are; otherwise the one choice
that is stated while the others are not. Questions with a blank ("( )",
"( ㉠ )") or a question word ("몇 % 이상", "얼마 이내마다") are read as a slot:
the words around it are found in a passage and what the passage has in
their place is compared with each choice.

The same function runs on two versions of a statute (the issue on statute
versions compares the marks), so it reads nothing but its arguments.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from study.ai.guard import is_negative_question
from study.evidence.text import (
    NEGATION,
    Flat,
    Quantity,
    Word,
    clean,
    flatten,
    quantities,
    strip_particle,
    unit_hint,
    without_quantities,
)
from study.exam_vocabulary import default_vocabulary

# Bump when the marks or the card change: every cached card is recomputed.
CHECK_VERSION = "15"

MATCH = "match"
DIFFER = "differ"
ABSENT = "absent"
MARKS = (MATCH, DIFFER, ABSENT)
POSITIVE = "positive"
NEGATIVE = "negative"

# A choice is stated when this share of its words (in order) is in one line
# of a passage and nothing in between says otherwise; a line that holds at
# least MIN_POINT of it speaks to the same point.
MIN_MATCH = 0.8
MIN_POINT = 0.5
MIN_BLOCK = 2  # aligned runs shorter than this are chance
# Slots: anchors (the words around a blank) must be this long together,
# and what a passage has between them at most MAX_SLOT characters.
MIN_ANCHOR = 5
MAX_SLOT = 30
# Short anchors ("전압" … "V 이하") are trusted only in a line that also has
# much of the question's other words; longer ones on their own.
STRONG_ANCHOR = 8
MIN_CONTEXT = 0.5
# A positive question answered by a word or two: the line that has it must
# hold at least this share of the question's own words.
TERM_CONTEXT = 0.25
_ANCHOR_LENGTHS = (14, 12, 10, 8, 6, 5, 4, 3, 2)

_BLANK = re.compile(
    r"[(（]\s*([A-Za-z]|[㉠-㉭]|[ㄱ-ㅎ]|[가나다라마바사아자차카타파하]|\d)?\s*[)）]"
)
_REFERENCE_TO_BLANK = re.compile(
    r"[(（]\s*[)）]\s*(?:안|속)?\s*(?:에|의)?\s*"
    r"(?:들어갈|알맞은|적합한|적절한|옳은|해당하는|맞는)[^?？]*[?？]?"
)
_QUESTION_WORD = re.compile(r"얼마|며칠|몇")
_REMARK = re.compile(r"[(（]\s*(?:단|관련\s*규정|\d{4}년)[^)）]*[)）]")
# "A: 1.5m", "㉠ 3", "(가) …": a blank's label at the start of its part.
_LABEL = re.compile(
    r"(?:^|[,，/\s])\s*(?:([㉠-㉭])\s*[:：.)]?|"
    r"[(（]?([A-Za-z]|[ㄱ-ㅎ]|[가나다라마바사아자차카타파하])\s*[:：.)）])\s*"
)
# Remarks in brackets a blank's words may straddle: "착공일(… 말한다) 30일 전까지".
_REMARK_IN_LINE = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")


@dataclass(frozen=True)
class QuestionText:
    """What the check reads of a question."""

    stem: str
    choices: tuple[str, ...]
    accepted: frozenset[int]


@dataclass(frozen=True)
class PassageText:
    """A passage as the check reads it: an article (or a document chunk)."""

    citation: str
    text: str


@dataclass(frozen=True)
class ChoiceMark:
    choice: int  # 1-based
    mark: str  # match | differ | absent
    passage: int | None = None  # index into the passages
    spans: tuple[tuple[int, int], ...] = ()  # in the passage text
    detail: str = ""  # what the passage says instead (for differ)
    score: float = 0.0

    def as_dict(self) -> dict:
        return {
            "choice": self.choice,
            "mark": self.mark,
            "passage": self.passage,
            "spans": [list(s) for s in self.spans],
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Check:
    polarity: str
    mode: str  # statement | slot
    marks: tuple[ChoiceMark, ...]
    verdict: int | None
    deciding: int | None = None  # the passage the verdict rests on

    def mark_of(self, choice: int) -> str:
        return self.marks[choice - 1].mark


# -- the question -------------------------------------------------------


def _plain_stem(stem: str) -> str:
    return _REMARK.sub(" ", clean(stem))


def question_ask(stem: str) -> str:
    """The asking sentence: the last one that ends in a question mark (the
    preamble of a stem may itself say "…해서는 아니 된다")."""
    text = _plain_stem(stem)
    mark = max(text.rfind("?"), text.rfind("？"))
    if mark < 0:
        return text[-40:]
    head = text[:mark]
    cut = max(head.rfind(". "), head.rfind("다."), head.rfind("\n"))
    return head[cut + 1 :].strip() if cut >= 0 else head.strip()


def polarity(stem: str) -> str:
    return NEGATIVE if is_negative_question(question_ask(stem)) else POSITIVE


# -- lines of a passage ----------------------------------------------------

_ITEM_LINE = re.compile(r"^\s*(?:\d{1,3}(?:의\d+)?\.|[가-하]\.|\d{1,2}\))\s")
_PARAGRAPH_LINE = re.compile(r"^\s*[①-⑳㉑-㉟]")


@dataclass(frozen=True)
class Line:
    """One line of a passage (a 항, 호 or 목), or an item read together with
    the line it hangs from ("다음 각 목의 사항에 관한 지침을 정하고…" + "나.
    작업 중의 매니퓰레이터의 속도"). `pieces` map the line's characters back
    to the passage: (offset in the line, offset in the passage, length)."""

    text: str
    pieces: tuple[tuple[int, int, int], ...]
    flat: Flat
    bare: Flat  # without bracketed remarks
    numbers: tuple[Quantity, ...]
    item: bool  # an enumerated 호 or 목
    ancestors: tuple[int, ...] = ()  # passage offsets of the lines it hangs from

    def passage_span(self, start: int, end: int) -> tuple[int, int]:
        for line_at, passage_at, length in self.pieces:
            if line_at <= start < line_at + length:
                return passage_at + start - line_at, passage_at + min(
                    end, line_at + length
                ) - line_at
        return self.pieces[0][1], self.pieces[0][1]

    @classmethod
    def build(
        cls, parts: list[tuple[int, str]], item: bool, ancestors: tuple[int, ...] = ()
    ) -> Line:
        text, pieces, at = "", [], 0
        for passage_at, raw in parts:
            if text:
                text += "\n"
                at += 1
            pieces.append((at, passage_at, len(raw)))
            text += raw
            at += len(raw)
        bare = _REMARK_IN_LINE.sub(lambda m: " " * len(m.group(0)), text)
        return cls(
            text=text,
            pieces=tuple(pieces),
            flat=flatten(text),
            bare=flatten(bare),
            numbers=tuple(quantities(text)),
            item=item,
            ancestors=ancestors,
        )


_NUMBER_LINE = re.compile(r"^\s*\d{1,3}(?:의\d+)?\.\s")


def passage_lines(text: str) -> list[Line]:
    """Every line, and every enumerated item read with the line it hangs
    from; each knows the lists it belongs to (the 항 lead, the 호)."""
    lines: list[Line] = []
    lead: tuple[int, str] | None = None  # the sentence a list of 호 hangs from
    number: tuple[int, str] | None = None  # the 호 a list of 목 hangs from
    offset = 0
    for raw in text.split("\n"):
        if raw.strip():
            if _NUMBER_LINE.match(raw):
                parents = [lead] if lead else []
                number = (offset, raw)
            elif _ITEM_LINE.match(raw):
                parents = [p for p in (lead, number) if p]
            else:
                parents, lead, number = [], (offset, raw), None
            ancestors = tuple(p[0] for p in parents)
            item = bool(parents)
            lines.append(Line.build([(offset, raw)], item, ancestors))
            if parents:
                lines.append(Line.build([parents[-1], (offset, raw)], item, ancestors))
        offset += len(raw) + 1
    return lines


# -- statements ---------------------------------------------------------

# Aligned runs further apart than this in the passage belong to different
# statements ("사무직 … 2년에 1회, 그 밖의 근로자 … 1년에 1회").
MAX_GAP = 12
# A choice this short (comparable characters) is a term: found or not.
SHORT = 5
_LETTERS = re.compile(r"[가-힣a-z]")


@dataclass
class _Reading:
    mark: str
    score: float
    spans: tuple[tuple[int, int], ...] = ()
    detail: str = ""
    item: bool = False  # read on an enumerated 호 or 목
    # Every list (passage, lines it hangs from) the choice is stated in, and
    # the passages where a sentence that is no list item states it.
    lists: tuple[tuple[int, tuple[int, ...]], ...] = ()
    in_sentence: tuple[int, ...] = ()
    # How much of the question's own words the line it was read on holds.
    cover: float = 0.0


def _blocks(a: str, b: str) -> list[tuple[int, int, int]]:
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    return [(i, j, n) for i, j, n in matcher.get_matching_blocks() if n >= MIN_BLOCK]


# Aligned blocks (i in the choice, j in the passage, length), and runs of them.
Cluster = list[tuple[int, int, int]]


def _clusters(blocks: list[tuple[int, int, int]]) -> list[Cluster]:
    clusters: list[Cluster] = []
    for block in blocks:
        if clusters:
            i, j, n = clusters[-1][-1]
            if block[1] - (j + n) <= MAX_GAP:
                clusters[-1].append(block)
                continue
        clusters.append([block])
    return clusters


def _letters(text: str) -> int:
    """Letters of a gap once its quantities are out: numbers, units and
    bounds are compared by the quantity check."""
    return len(_LETTERS.findall(without_quantities(text)))


def _local_numbers(line: Line, words: Flat, cluster: Cluster) -> list[Quantity]:
    """The passage's quantities near the aligned words (a few words around)."""
    first, last = cluster[0], cluster[-1]
    a, _ = words.span(first[1], first[1] + first[2])
    _, b = words.span(last[1], last[1] + last[2])
    return [q for q in line.numbers if a - 12 <= q.start <= b + 20]


def _quantity_verdict(
    mine: Sequence[Quantity], theirs: Sequence[Quantity], text: str
) -> tuple[bool, str]:
    """(every quantity of the choice is stated, what the passage says instead)."""
    stated = True
    for q in mine:
        if any(q.same(t) or q.within(t) for t in theirs):
            continue
        stated = False
        other = next((t for t in theirs if q.comparable(t)), None)
        if other is not None:
            return False, text[other.start : other.end]
    return stated, ""


def _gap_says_otherwise(
    mine: Flat, choice: str, words: Flat, line: Line, cluster: Cluster
) -> str | None:
    """The passage says otherwise where the choice's words are: a negation
    on one side only ("이탈되도록" / "이탈되지 않도록"), a term where the
    passage has another, or words the passage does not have there. Returns
    the passage's words there ("—" when it has none).

    Words of the choice the line states at another place of the same
    sentence are that part in another order, not another term: "다른
    작업자가 작동시킬 수 없도록 기동스위치에 표시" for "기동스위치 등에 …
    표시를 하는 등 … 근로자가 아닌 사람이 … 조작할 수 없도록"."""
    first, last = cluster[0], cluster[-1]
    end = _clause_end(words, line.text, last[1] + last[2], 8)
    theirs_all = words.text[first[1] : end]
    outside = words.text[: first[1]] + "\n" + words.text[last[1] + last[2] :]
    gaps = [
        (x[0] + x[2], y[0], x[1] + x[2], y[1])
        for x, y in zip(cluster, cluster[1:], strict=False)
    ]
    moved = [(a1, a2) for a1, a2, _, _ in gaps if _elsewhere(mine.text[a1:a2], outside)]
    # The choice's side: its clause around the aligned words, from the word
    # before them ("없는 장소에서" / "있는 장소에서") to its clause's end.
    begin = _word_before(mine, first[0])
    close = _clause_end(mine, choice, last[0] + last[2], len(mine.text))
    own = "".join(
        " " if any(a1 <= n < a2 for a1, a2 in moved) else mine.text[n]
        for n in range(begin, close)
    )
    negated = bool(NEGATION.search(own)) != bool(NEGATION.search(theirs_all))
    modal = "" != _may_or_must(own) != _may_or_must(theirs_all) != ""
    if negated or modal:  # the clause says the opposite, or may for must
        return _flat_text(words, line.text, first[1], end).strip()[-24:] or "—"
    for a1, a2, b1, b2 in gaps:
        gap, other = mine.text[a1:a2], words.text[b1:b2]
        if (a1, a2) in moved:
            continue
        if gap in words.text and _letters(gap) < 4:
            continue  # the same words elsewhere in the line: another order
        if _ending_only(gap) and _ending_only(other):
            continue  # one predicate's forms: "하여서는 안" / "하도록 해서는 아니"
        if _letters(gap) >= 1 and _letters(other) >= 1:
            return _flat_text(words, line.text, b1, b2).strip()
        if _letters(gap) >= 2:
            return "—"  # words of the choice the passage does not have
    return None


# Where a clause of a passage ends: the words after the aligned ones are read
# for a negation only up to here ("수직보호망 또는 방호선반의 설치, 출입금지구역의
# 설정": the next item's 금지 is not the choice's).
_CLAUSE_BREAK = re.compile(r"[,，;；.。)\]）]")


def _clause_end(words: Flat, text: str, at: int, most: int) -> int:
    """Up to `most` comparable characters after flat position `at`, within
    the clause of `text` (the original of `words`) the words before `at`
    belong to."""
    end = min(len(words.text), at + most)
    if at <= 0 or at >= end:
        return end
    start = words.words[words.owner[at - 1]].end
    stop = _CLAUSE_BREAK.search(text, start)
    if stop is None:
        return end
    for n in range(at, end):
        if words.words[words.owner[n]].start >= stop.start():
            return n
    return end


# The endings a predicate takes between its stem and 된다 / 한다 (and the
# negation itself, which the clause's check above has compared): a statute
# says "초과하여 사용하도록 해서는 아니 된다" (the employer shall not let it be
# used) where a choice says "초과하여 사용하여서는 안 된다".
_ENDINGS = re.compile(
    r"하도록|도록|하여야|하여서|하여|여야|여서|해야|해서|하게|하지|하는|하며|하고"
    r"|한다|할것|아니|안|할|한|하|해|야|서|게|지|는|며|고|것|다"
)


def _ending_only(gap: str) -> bool:
    return not _ENDINGS.sub("", gap)


# "할 수 있다" (may) where the statute says "하여야 한다" / "할 것" (must), or
# the other way round: the exam's favourite trap, and a different rule.
_MAY = re.compile(r"수있(?:다|으며|고|음|$)")  # not "작업할 수 있는 조명"
_MUST = re.compile(r"(?:여|해)야|할것")


def _may_or_must(clause: str) -> str:
    """The clause's modal: "may" or "must" when it says one only, else ""."""
    may, must = bool(_MAY.search(clause)), bool(_MUST.search(clause))
    return "may" if may and not must else "must" if must and not may else ""


def _word_before(words: Flat, at: int) -> int:
    """The flat start of the word before the one flat position `at` is in."""
    if not words.text:
        return 0
    word = words.owner[at] - 1
    while at > 0 and words.owner[at - 1] >= word:
        at -= 1
    return at


# A negated predicate ("수없도록", "지않도록") a gap of the choice shares with
# the line at another place: the choice states that clause in another order.
_PREDICATE = 4


def _elsewhere(gap: str, outside: str) -> bool:
    """The choice's words in a gap are stated at another place of the line:
    most of them (in order), or the negated predicate they end in."""
    if _letters(gap) < 2:
        return False
    found = sum(n for _, _, n in _blocks(gap, outside))
    if found / len(gap) >= MIN_POINT:
        return True
    for negation in NEGATION.finditer(gap):
        predicate = gap[max(0, negation.start() - 1) : negation.end() + 2]
        if len(predicate) >= _PREDICATE and predicate in outside:
            return True
    return False


def _flat_text(flat: Flat, text: str, start: int, end: int) -> str:
    if start >= end or start >= len(flat.text):
        return ""
    a, b = flat.span(start, min(end, len(flat.text)))
    return text[a:b]


def _read_statement(choice: str, line: Line) -> _Reading:
    readings = [_read_statement_in(choice, line, w) for w in (line.flat, line.bare)]
    return max(readings, key=lambda r: (r.score, _RANK[r.mark]))


def _read_statement_in(choice: str, line: Line, words: Flat) -> _Reading:
    mine = flatten(choice)
    if not mine.text or not words.text:
        return _Reading(ABSENT, 0.0)
    if len(mine.text) <= SHORT:
        return _read_term(choice, mine, line, words)
    clusters = _clusters(_blocks(mine.text, words.text))
    if not clusters:
        return _Reading(ABSENT, 0.0)
    cluster = max(clusters, key=lambda c: sum(n for _, _, n in c))
    covered = sum(n for _, _, n in cluster)
    score = covered / len(mine.text)
    if score < MIN_POINT or covered < 4:
        return _Reading(ABSENT, score)
    spans = tuple(line.passage_span(*words.span(j, j + n)) for _, j, n in cluster)
    stated, other = _quantity_verdict(
        quantities(choice), _local_numbers(line, words, cluster), line.text
    )
    if other:
        return _Reading(DIFFER, score, spans, other)
    otherwise = _gap_says_otherwise(mine, choice, words, line, cluster)
    if otherwise is not None:
        return _Reading(DIFFER, score, spans, otherwise)
    if score >= MIN_MATCH and stated:
        return _Reading(MATCH, score, spans)
    return _Reading(ABSENT, score)


def _read_term(choice: str, mine: Flat, line: Line, words: Flat) -> _Reading:
    """A choice of a word or two ("방유제", "적정"): stated when the passage
    has those words from the start of one of its words. A bare value ("5",
    "30cm", "4천만원": a number, its unit and bound, a letter at most) is no
    term: where a line has it says nothing of what it is the value of ("5"
    in "50암페어", "4천만원" of a 사용명세서 for a question about the 고시's
    scope). Only the slot reading, which reads the value where the question
    asks it, decides such choices."""
    if quantities(choice) and _letters(choice) <= 1:
        return _Reading(ABSENT, 0.0)
    at = words.text.find(mine.text)
    while at >= 0:
        starts_word = at == 0 or words.owner[at - 1] != words.owner[at]
        if starts_word:
            stated, _ = _quantity_verdict(quantities(choice), line.numbers, line.text)
            if stated:
                span = line.passage_span(*words.span(at, at + len(mine.text)))
                return _Reading(MATCH, 1.0, (span,))
        at = words.text.find(mine.text, at + 1)
    return _Reading(ABSENT, 0.0)


_RANK = {MATCH: 2, DIFFER: 1, ABSENT: 0}


def _best(readings: list[tuple[int, _Reading, Line]]) -> tuple[int | None, _Reading]:
    """The line that speaks to the choice most fully; a match wins a near tie."""
    if not readings:
        return None, _Reading(ABSENT, 0.0)
    top = max(r.score for _, r, _ in readings)
    near = [(p, r) for p, r, _ in readings if r.score >= top - 0.05]
    return max(near, key=lambda pr: (_RANK[pr[1].mark], pr[1].score))


_TITLE = re.compile(r"^\s*제\d+조(?:의\d+)?\s*\([^)]*\)\s*$")


def _past_the_title(
    readings: list[tuple[int, _Reading, Line]],
    at: int | None,
    best: _Reading,
    stem: str,
) -> tuple[int | None, _Reading]:
    """A term stated in an article's title ("제117조(압력제한스위치)") and as
    fully in one of its sentences: the sentence is what the card shows (the
    one holding most of the question, when several do)."""
    line = next((ln for _, r, ln in readings if r is best), None)
    if line is None or not _TITLE.match(line.text):
        return at, best
    sentences = [
        (p, reading, ln)
        for p, reading, ln in readings
        if reading.mark == MATCH
        and reading.score >= best.score - 0.05
        and reading.item == best.item
        and not _TITLE.match(ln.text)
    ]
    if not sentences:
        return at, best
    p, reading, _ = max(
        sentences, key=lambda t: (_stem_cover(stem, t[2]) if stem else 0, t[1].score)
    )
    return p, reading


def _stem_cover(stem: str, line: Line) -> float:
    """The share of the question's comparable text aligned in the line."""
    return sum(n for _, _, n in _blocks(stem, line.flat.text)) / len(stem)


def _statement_marks(
    q: QuestionText, lines: list[list[Line]]
) -> list[tuple[int | None, _Reading]]:
    stem = flatten(
        question_ask(q.stem) if "?" not in q.stem else _plain_stem(q.stem)
    ).text
    marks: list[tuple[int | None, _Reading]] = []
    for choice in q.choices:
        text = clean(choice)
        readings: list[tuple[int, _Reading, Line]] = []
        for p, passage_lines_ in enumerate(lines):
            for line in passage_lines_:
                reading = _read_statement(text, line)
                reading.item = line.item
                readings.append((p, reading, line))
        at, best = _best(readings)
        if best.mark == MATCH:
            at, best = _past_the_title(readings, at, best, stem)
        stated = [(p, line) for p, reading, line in readings if reading.mark == MATCH]
        if stated and stem:
            best.cover = max(_stem_cover(stem, line) for _, line in stated)
        best.lists = tuple((p, line.ancestors) for p, line in stated if line.item)
        best.in_sentence = tuple(sorted({p for p, line in stated if not line.item}))
        marks.append((at, best))
    return marks


def _lists_about(
    q: QuestionText, passages: Sequence[PassageText], lists: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    """Of the lists two or more stated choices are items of, the one whose
    article title and lead line hold most of what the question is about:
    "안전관리자의 업무는 다음 각 호와 같다" for "안전관리자가 수행해야 할
    업무가 아닌 것은?", where the 보건관리자's list shares two of its duties."""
    subject = _subject_words(q)

    def cover(key: tuple[int, int]) -> float:
        text = passages[key[0]].text
        heading = text.split("\n", 1)[0]
        lead = text[key[1] :].split("\n", 1)[0]
        return _words_cover(subject, flatten(clean(heading + "\n" + lead)).text)

    scored = sorted(((cover(key), key) for key in lists), reverse=True)
    if scored[0][0] > 0 and scored[0][0] > scored[1][0]:
        return [scored[0][1]]
    return lists


def _one_list(
    q: QuestionText,
    passages: Sequence[PassageText],
    marks: list[tuple[int | None, _Reading]],
) -> None:
    """A "which is NOT among …" question asks about one list: the one its
    own words name best (`_lists_about`), else the list most of the stated
    choices are items of. A choice stated only as an item of
    another list (명예산업안전감독관 among the 근로자위원 when the question
    asks for the 사용자위원; a 보건관리자 duty when it asks for the
    안전관리자's) is not stated in that one."""
    votes: dict[tuple[int, int], int] = {}
    for _, reading in marks:
        for key in {(p, anc[-1]) for p, anc in reading.lists if anc}:
            votes[key] = votes.get(key, 0) + 1
    if not votes:
        return
    top = max(votes.values())
    winners = [key for key, n in votes.items() if n == top]
    many = [key for key, n in votes.items() if n >= 2]
    if len(many) > 1:
        about = _lists_about(q, passages, many)
        if len(about) == 1:
            winners = about
    if top < 2 or len(winners) > 1:
        return
    list_passage, lead = winners[0]
    for n, (at, reading) in enumerate(marks):
        if reading.mark != MATCH or not reading.lists:
            continue
        inside = any(p == list_passage and lead in anc for p, anc in reading.lists)
        if not inside and list_passage not in reading.in_sentence:
            marks[n] = (at, _Reading(ABSENT, reading.score, item=True))


# A term: a name of a device, a body, a document ("압력제한스위치",
# "자동경보장치"), not a statement.
TERM_MAX = 12


def _at_the_point(q: QuestionText, marks: list[tuple[int | None, _Reading]]) -> None:
    """A positive question asks one thing; of terms stated in several lines,
    those stated only in lines holding little of the question (under
    TERM_CONTEXT) are not its answer when another is stated in a line that
    holds most of it (MIN_CONTEXT): 압력방출장치 (제116조) and 고저수위
    조절장치 (제118조) are in the boiler's articles too, but "최고사용압력과
    상용압력 사이에서 … 버너 연소를 차단" is 압력제한스위치's line."""
    stated = [
        n
        for n, (_, r) in enumerate(marks)
        if r.mark == MATCH and len(flatten(clean(q.choices[n])).text) <= TERM_MAX
    ]
    if len(stated) < 2 or not any(marks[n][1].cover >= MIN_CONTEXT for n in stated):
        return
    for n in stated:
        at, reading = marks[n]
        if reading.cover < TERM_CONTEXT:
            marks[n] = (at, _Reading(ABSENT, reading.score))


def _term_off_the_point(choice: str, reading: _Reading) -> bool:
    """A word or two found in a line that holds little of the question's own
    words ("통풍, 환기" in an article about another work) does not answer it."""
    return len(flatten(clean(choice)).text) <= SHORT and reading.cover < TERM_CONTEXT


# What a question is about: its words of two letters or more, less the
# field's shared words (the exam vocabulary's field_words: 다음, 옳은,
# 기준, 사업주 …), the asking nouns that list leaves out, and verb or
# adjective forms (설치하여야, 정함, 활용하, 않은, 위해).
_ASKING_NOUNS = frozenset(("거리", "순서", "항목", "종류", "방법", "대상"))
_PREDICATE_END = re.compile(
    r"(?:[하되야다할한된함인가여고며서면지게록은는을를의으해]|있|없)$"
)
# The statute a question names ("산업안전보건기준에 관한 규칙상") says what it
# rests on, not what it is about.
_STATUTE_NAME = re.compile(r"^산업안전보건|(?:법|령|규칙|고시)상?$")


def _subject_words(q: QuestionText) -> list[str]:
    return sorted(
        {
            w.norm
            for w in flatten(_plain_stem(q.stem)).words
            if len(w.norm) >= 2
            and w.norm not in _ASKING_NOUNS
            and w.norm not in default_vocabulary().field_words
            and not _PREDICATE_END.search(w.norm)
            and not _STATUTE_NAME.search(w.norm)
            and re.search(r"[가-힣]", w.norm)
        }
    )


def _names_the_subject(q: QuestionText, passage: str) -> bool:
    """A positive question's answer comes from a passage that names at least
    one thing the question is about: "반발예방장치를 설치하여야" in 둥근톱기계's
    article does not answer "롤러기에 설치하여야 할 방호장치는?" (it shares
    only the verb). A question with no such word passes."""
    subject = _subject_words(q)
    if not subject:
        return True
    text = flatten(clean(passage)).text
    return any(word in text for word in subject)


def _can_overturn(
    q: QuestionText,
    passages: Sequence[PassageText],
    marks: list[tuple[int | None, _Reading]],
) -> bool:
    """A statement-mode verdict against the official key says the key is
    wrong, which is rare (a key misprinted, or the law amended since); the
    passages the marks rest on must then hold at least half of what the
    question is about (MIN_CONTEXT of its subject words, any order), not
    only some of its terms: 제163조 on 양중기's 달기 와이어로프 shares
    안전계수 and 최대 with a question on 달비계 (whose own paragraph was
    struck), and a 걸침비계 line names three of the members a question
    "기둥과 기둥을 연결시키는 부재가 아닌 것은?" lists. A verdict that agrees
    with the key needs no more than before: it adds no claim."""
    subject = _subject_words(q)
    if not subject:
        return True
    used = {at for at, r in marks if at is not None and r.mark != ABSENT}
    return any(
        _words_cover(subject, flatten(clean(passages[at].text)).text) >= MIN_CONTEXT
        for at in used
    )


def _one_point(marks: list[tuple[int | None, _Reading]], verdict: int) -> None:
    """A positive question whose answer a passage states in a sentence (not
    as one item of a list): that sentence is the point the question asks,
    and the choices it does not state give it another value or term."""
    passage, stated = marks[verdict - 1]
    if stated.item:
        return
    for n, (_, reading) in enumerate(marks, 1):
        if n != verdict and reading.mark == ABSENT:
            marks[n - 1] = (passage, _Reading(DIFFER, reading.score, stated.spans))


# -- slots ------------------------------------------------------------------


@dataclass(frozen=True)
class Blank:
    label: str
    left: str  # comparable form of the words before the blank
    right: str  # and after it


@dataclass(frozen=True)
class Slots:
    blanks: tuple[Blank, ...]
    unit: tuple[str, float] = ("", 1.0)
    bound: str = ""  # the bound the question asks for: "몇 m 이상" → ">="


def _context(stem: str) -> str:
    """The statement the blanks sit in: what follows the question (after its
    "?" or a blank line), else the stem itself without its "( ) 안에 들어갈
    …" reference to the blank."""
    text = _plain_stem(stem)
    mark = max(text.find("?"), text.find("？"))
    if 0 <= mark < len(text) - 3:
        return text[mark + 1 :]
    parts = re.split(r"\n\s*\n", text, maxsplit=1)
    if len(parts) == 2 and _BLANK.search(parts[1]):
        return parts[1]
    return _REFERENCE_TO_BLANK.sub(" ", text)


def slots_of(stem: str) -> Slots | None:
    """The blanks of a question, or its question word read as one ("몇 %
    이상" → a blank before "% 이상"); None when it asks for neither."""
    context = _context(stem)
    pieces = _BLANK.split(context)
    if len(pieces) > 1:
        texts = pieces[0::2]
        labels = [label or "" for label in pieces[1::2]]
    else:
        ask = _REFERENCE_TO_BLANK.sub(" ", _plain_stem(stem))
        found = list(_QUESTION_WORD.finditer(ask))
        if len(found) != 1:
            return None
        word = found[0]
        texts = [ask[: word.start()], ask[word.end() :]]
        labels = [""]
    blanks = []
    for n, label in enumerate(labels):
        left = flatten(texts[n].split("\n")[-1]).words
        right = flatten(texts[n + 1].split("\n")[0]).words
        blanks.append(Blank(label=label, left=_joined(left), right=_joined(right)))
    return Slots(
        blanks=tuple(blanks),
        unit=unit_hint(_plain_stem(stem)),
        bound=_asked_bound(_plain_stem(stem)),
    )


_ASKED_BOUND = re.compile(r"(?:몇|얼마)\s*[^\s가-힣]{0,6}\s*(이상|이하|초과|미만|이내)")
_BOUND_OF = {"이상": ">=", "이하": "<=", "초과": ">", "미만": "<", "이내": "<="}


def _asked_bound(text: str) -> str:
    match = _ASKED_BOUND.search(text)
    return _BOUND_OF[match.group(1)] if match else ""


def _joined(words: Sequence[Word]) -> str:
    """A side of a blank as comparable text; a two-syllable word next to the
    blank loses its particle too ("( ㉡ )부를" → "부", as "2부를" → "2부")."""
    norms = [w.norm for w in words]
    for i in (0, -1):
        if norms and len(norms[i]) == 2 and norms[i][-1] in "은는을를의에와과":
            norms[i] = norms[i][:-1]
    return "".join(norms)


def choice_parts(choice: str, slots: Slots) -> list[str] | None:
    """A choice split over the blanks: "A: 1.5m, B: 3m", "㉠ 3, ㉡ 2",
    "통풍, 세척"; one blank takes the whole choice."""
    text = clean(choice)
    count = len(slots.blanks)
    if count == 1:
        return [text]
    labelled = list(_LABEL.finditer(text))
    if len(labelled) == count:
        parts = []
        for n, match in enumerate(labelled):
            end = labelled[n + 1].start() if n + 1 < count else len(text)
            parts.append(text[match.end() : end].strip(" ,，/"))
        return parts
    parts = [p.strip() for p in re.split(r"[,，/]", text) if p.strip()]
    return parts if len(parts) == count else None


@dataclass(frozen=True)
class _SlotValue:
    flat: str
    span: tuple[int, int]  # in the passage text
    text: str
    strength: int


def _suffixes(text: str) -> list[str]:
    return list(dict.fromkeys(text[-n:] for n in _ANCHOR_LENGTHS if n <= len(text)))


def _prefixes(text: str) -> list[str]:
    return list(dict.fromkeys(text[:n] for n in _ANCHOR_LENGTHS if n <= len(text)))


def _read_slot(blank: Blank, line: Line) -> _SlotValue | None:
    found = [
        value
        for words in (line.flat, line.bare)
        if (value := _read_slot_in(blank, line, words)) is not None
    ]
    return max(found, key=lambda v: v.strength) if found else None


def _read_slot_in(blank: Blank, line: Line, words: Flat) -> _SlotValue | None:
    flat = words.text
    best: _SlotValue | None = None
    for left in _suffixes(blank.left):
        start = flat.find(left)
        while start >= 0:
            begin = start + len(left)
            for right in _prefixes(blank.right):
                end = flat.find(right, begin + 1, begin + MAX_SLOT + len(right))
                if end > begin:
                    strength = len(left) + len(right)
                    closer = best is not None and (
                        strength == best.strength and end - begin < len(best.flat)
                    )
                    if best is None or strength > best.strength or closer:
                        best = _slot_value(line, words, begin, end, strength)
                    break
            start = flat.find(left, start + 1)
        if best is not None:
            break
    if best is None and len(blank.right) >= MIN_ANCHOR:
        best = _one_sided(blank, line, words)
    if best is None or best.strength < MIN_ANCHOR:
        return None
    return best


def _one_sided(blank: Blank, line: Line, words: Flat) -> _SlotValue | None:
    """Only the words after the blank were found: the word just before them
    fills it (a blank holds one word)."""
    for right in _prefixes(blank.right):
        if len(right) < MIN_ANCHOR:
            return None
        end = words.text.find(right)
        if end > 0:
            word = words.owner[end - 1]
            begin = end - len(words.words[word].norm)
            if words.owner[begin] != word:
                return None
            return _slot_value(line, words, begin, end, len(right))
    return None


def _slot_value(
    line: Line, words: Flat, begin: int, end: int, strength: int
) -> _SlotValue:
    a, b = words.span(begin, end)
    return _SlotValue(
        flat=words.text[begin:end],
        span=line.passage_span(a, b),
        text=line.text[a:b],
        strength=strength,
    )


_LEAD_PARTICLES = "은는을를의에와과"
_LEADING_NUMBER = re.compile(r"^(\d+(?:\.\d+)?)(.*)$")


def same_filling(
    part: str, value: str, unit: tuple[str, float], words: str = ""
) -> bool:
    """A choice's part and what the passage has in the blank, compared: the
    same quantity (units may live outside the blank: "몇 % 이상" and "10";
    "50킬로볼트" is not 50 V), or the same words. `words` is the passage's
    original text of the blank's words."""
    mine = flatten(part).text
    if not mine or not value:
        return False
    if value != mine and strip_particle(value) != value:
        value = strip_particle(value)  # "15일 전까지" for the part "15일 전"
    if value[:1] in _LEAD_PARTICLES and (value[1:2].isdigit() or value[1:] == mine):
        value = value[1:]  # "폭을 40센티미터": the left word kept its particle
    ours, theirs = _LEADING_NUMBER.match(mine), _LEADING_NUMBER.match(value)
    if ours and theirs:
        if float(ours.group(1)) != float(theirs.group(1)):
            return False
        if words and not _same_quantity(part, words, unit):
            return False
        rest_a, rest_b = ours.group(2), theirs.group(2)
        return (
            not rest_a
            or not rest_b
            or rest_a == rest_b
            or _same_unit(part, value, unit)
        )
    if ours or theirs:
        return False
    if mine == value:
        return True
    short, long_ = sorted((mine, value), key=len)
    return short in long_ and len(short) >= 0.75 * len(long_)


def _same_quantity(part: str, words: str, unit: tuple[str, float]) -> bool:
    """Both sides read as quantities with their units (the question's unit
    for a bare number): equal in the canonical unit, or not comparable."""
    a, b = quantities(part, default=unit), quantities(words, default=unit)
    if not a or not b or not a[0].unit or not b[0].unit:
        return True
    return a[0].comparable(b[0]) and abs(a[0].value - b[0].value) <= 1e-9 * max(
        1.0, abs(a[0].value)
    )


def _same_unit(part: str, value: str, unit: tuple[str, float]) -> bool:
    a, b = quantities(part, default=unit), quantities(value, default=unit)
    return bool(a and b and a[0].unit == b[0].unit and a[0].value == b[0].value)


def _choice_unit(choices: Sequence[str], hint: tuple[str, float]) -> str:
    """The unit the choices are in: the question's ("몇 m"), else the one
    unit every choice is written with ("0.9m", "1.2m", …)."""
    if hint[0]:
        return hint[0]
    units = set()
    for choice in choices:
        found = quantities(clean(choice))
        if len(found) != 1 or not found[0].unit:
            return ""
        units.add(found[0].unit)
    return units.pop() if len(units) == 1 else ""


def _quantity_reading(
    q: QuestionText, slots: Slots, lines: list[list[Line]], context: str
) -> list[tuple[int, _SlotValue]]:
    """No words around the question word were found ("최소 몇 m 이상 간격이
    되도록" where the passage says "그 간격이 0.25미터 이상"): the line that
    has most of the question's words, if it states one value in the asked
    unit (and bound), fills it. Bracketed remarks are left out."""
    unit = _choice_unit(q.choices, slots.unit)
    if not unit or not context:
        return []
    scored = []
    for p, passage in enumerate(lines):
        for line in passage:
            covered = sum(n for _, _, n in _blocks(context, line.flat.text))
            scored.append((covered / len(context), p, line))
    if not scored:
        return []
    top = max(score for score, _, _ in scored)
    best = [(p, line) for score, p, line in scored if score == top]
    if top < MIN_CONTEXT:
        return []
    values = []
    for p, line in best:
        bare = _REMARK_IN_LINE.sub(lambda m: " " * len(m.group(0)), line.text)
        for found in quantities(bare):
            if found.unit == unit and (not slots.bound or found.bound == slots.bound):
                values.append((p, line, found))
    if len({round(v.value, 9) for _, _, v in values}) != 1:
        return []
    p, line, found = values[0]
    text = line.text[found.start : found.end]
    return [
        (
            p,
            _SlotValue(
                flat=flatten(text).text,
                span=line.passage_span(found.start, found.end),
                text=text,
                strength=MIN_ANCHOR,
            ),
        )
    ]


def _trusted(
    value: _SlotValue, context: str, line: Line, words: Sequence[str] = ()
) -> bool:
    """Strong anchors, or a line that holds much of the question's words:
    in their order (aligned), or in any order (each word found in it: a
    statute says "이동하는 철골부재에는 답단 간격이 30센티미터 이내인 고정된
    승강로" where the question asks "… 고정된 승강로의 최소 답단 간격은")."""
    if value.strength >= STRONG_ANCHOR:
        return True
    covered = sum(n for _, _, n in _blocks(context, line.flat.text))
    if context and covered / len(context) >= MIN_CONTEXT:
        return True
    return _words_cover(words, line.flat.text) >= MIN_CONTEXT


def _words_cover(words: Sequence[str], text: str) -> float:
    """The share of `words` (their characters) that `text` holds, in any order."""
    total = sum(len(w) for w in words)
    return sum(len(w) for w in words if w in text) / total if total else 0.0


def _slot_marks(
    q: QuestionText, slots: Slots, lines: list[list[Line]]
) -> list[tuple[int | None, _Reading]] | None:
    """The passage's filling of every blank (the best-anchored reading; None
    when two passages fill it differently), then each choice against it."""
    context = "".join(b.left + b.right for b in slots.blanks)
    words = [w.norm for w in flatten(_plain_stem(q.stem)).words if len(w.norm) >= 2]
    fillings: list[tuple[int, _SlotValue]] = []
    for blank in slots.blanks:
        readings = [
            (p, value)
            for p, passage in enumerate(lines)
            for line in passage
            if (value := _read_slot(blank, line)) is not None
            and _trusted(value, context, line, words)
        ]
        if not readings and len(slots.blanks) == 1:
            readings = _quantity_reading(q, slots, lines, context)
        if not readings:
            return None
        top = max(v.strength for _, v in readings)
        strongest = [(p, v) for p, v in readings if v.strength == top]
        shortest = min(len(v.flat) for _, v in strongest)
        closest = [(p, v) for p, v in strongest if len(v.flat) == shortest]
        if len({v.flat for _, v in closest}) > 1:
            return None
        fillings.append(closest[0])
    marks: list[tuple[int | None, _Reading]] = []
    for choice in q.choices:
        parts = choice_parts(choice, slots)
        if parts is None:
            marks.append((None, _Reading(ABSENT, 0.0)))
            continue
        same = [
            same_filling(part, value.flat, slots.unit, value.text)
            for part, (_, value) in zip(parts, fillings, strict=True)
        ]
        passage = fillings[0][0]
        spans = tuple(value.span for _, value in fillings)
        if all(same):
            marks.append((passage, _Reading(MATCH, 1.0, spans)))
        else:
            wrong = next(
                v.text for ok, (_, v) in zip(same, fillings, strict=True) if not ok
            )
            marks.append((passage, _Reading(DIFFER, 1.0, spans, wrong)))
    return marks


# -- the verdict ------------------------------------------------------------


def single_out(marks: Sequence[str], side: str) -> int | None:
    """The one choice the marks single out under the polarity, or None."""
    if side == NEGATIVE:
        others = [n for n, m in enumerate(marks, 1) if m != MATCH]
        return others[0] if len(others) == 1 else None
    stated = [n for n, m in enumerate(marks, 1) if m == MATCH]
    return stated[0] if len(stated) == 1 else None


@dataclass
class _Result:
    mode: str
    marks: list[tuple[int | None, _Reading]] = field(default_factory=list)


def check_choices(q: QuestionText, passages: Sequence[PassageText]) -> Check:
    """Marks for every choice and the verdict they support (module docstring)."""
    side = polarity(q.stem)
    lines = [passage_lines(p.text) for p in passages]
    result = _Result("statement", _statement_marks(q, lines))
    slots = slots_of(q.stem)
    if slots is not None:
        read = _slot_marks(q, slots, lines)
        if read is not None:
            result = _Result("slot", read)
    if result.mode == "statement" and side == NEGATIVE:
        _one_list(q, passages, result.marks)
    if result.mode == "statement" and side == POSITIVE:
        _at_the_point(q, result.marks)
    verdict = single_out([r.mark for _, r in result.marks], side) if passages else None
    if verdict is not None and result.mode == "statement" and side == POSITIVE:
        at, reading = result.marks[verdict - 1]
        if at is not None and not _names_the_subject(q, passages[at].text):
            # The passage is about something else: what it states or not
            # says nothing of this question's choices.
            result.marks = [
                (p, r if p != at else _Reading(ABSENT, r.score))
                for p, r in result.marks
            ]
            verdict = None
        elif _term_off_the_point(q.choices[verdict - 1], reading):
            verdict = None
        else:
            _one_point(result.marks, verdict)
    if (
        verdict is not None
        and result.mode == "statement"
        and q.accepted
        and verdict not in q.accepted
        and not _can_overturn(q, passages, result.marks)
    ):
        verdict = None
    marks = tuple(
        ChoiceMark(
            choice=n,
            mark=reading.mark,
            passage=passage if reading.mark != ABSENT else None,
            spans=reading.spans if reading.mark != ABSENT else (),
            detail=reading.detail,
            score=round(reading.score, 3),
        )
        for n, (passage, reading) in enumerate(result.marks, 1)
    )
    deciding = None
    if verdict is not None:
        deciding = marks[verdict - 1].passage
        if deciding is None:
            deciding = next((m.passage for m in marks if m.passage is not None), None)
    return Check(
        polarity=side, mode=result.mode, marks=marks, verdict=verdict, deciding=deciding
    )
