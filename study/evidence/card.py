"""The 근거 카드 as plain data (pure): the passages in the order a learner
reads them (the one the verdict rests on first), the lines of each that
matter with the words matching a choice marked, the marks and the verdict.

``card_data`` gives the JSON stored in the cache and printed by
``manage.py evidence --json``; the pages read it through ``CardView``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from study.evidence.check import ABSENT, CHECK_VERSION, Check, passage_lines

FOCUS_LINES = 8


@dataclass(frozen=True)
class Passage:
    """A passage as the service found it: a statute article put together
    from its chunks, or one chunk of another document."""

    document_id: int
    document: str  # the document's title: "산업안전보건기준에 관한 규칙"
    article: str  # "제42조", "제4조의2"; "" outside statutes
    heading: str  # "제42조(추락의 방지)" or the chunk's heading path
    text: str
    score: float = 0.0

    @property
    def citation(self) -> str:
        """What the card shows: "산업안전보건기준에 관한 규칙 제42조(추락의 방지)"."""
        if not self.heading:
            return self.document
        if self.article:
            return f"{self.document} {self.heading}"
        return f"{self.document} › {self.heading}"

    @property
    def data_citation(self) -> str:
        """For machines: "<법령명> 제N조" (with 의N), else the citation."""
        return f"{self.document} {self.article}" if self.article else self.citation


def focus_lines(text: str, spans: Sequence[tuple[int, int, int]]) -> list[dict]:
    """The lines of a passage that hold a marked span, each with the line it
    hangs from (an item without its lead means little), as parts:
    [{"parts": [[text, [choice, …]], …]}]. `spans` are (start, end, choice)."""
    if not spans:
        return []
    lines = passage_lines(text)
    starts = {}
    offset = 0
    for raw in text.split("\n"):
        starts[offset] = raw
        offset += len(raw) + 1
    wanted: set[int] = set()
    for line in lines:
        if len(line.pieces) != 1:
            continue
        begin = line.pieces[0][1]
        end = begin + len(line.text)
        if any(begin <= s < end for s, _, _ in spans):
            wanted.add(begin)
            wanted.update(line.ancestors)
    picked = sorted(wanted)[:FOCUS_LINES]
    return [{"parts": _parts(at, starts[at], spans)} for at in picked]


def _parts(at: int, raw: str, spans: Sequence[tuple[int, int, int]]) -> list:
    """A line cut where marked spans begin and end; each part carries the
    choices whose words it is."""
    cuts = {0, len(raw)}
    for start, end, _ in spans:
        for point in (start - at, end - at):
            if 0 <= point <= len(raw):
                cuts.add(point)
    points = sorted(cuts)
    parts: list[list] = []
    for a, b in zip(points, points[1:], strict=False):
        choices = sorted(
            {c for s, e, c in spans if s - at <= a and b <= e - at and s < e}
        )
        piece = raw[a:b]
        if parts and parts[-1][1] == choices:
            parts[-1][0] += piece
        else:
            parts.append([piece, choices])
    return parts


def card_data(
    passages: Sequence[Passage],
    check: Check | None,
    *,
    annexes: Sequence[dict] = (),
    missing: dict | None = None,
) -> dict:
    """The stored card (module docstring): passages reordered for reading,
    marks pointing into that order."""
    order = _reading_order(passages, check)
    position = {old: new for new, old in enumerate(order)}
    marks = []
    spans_of: dict[int, list[tuple[int, int, int]]] = {i: [] for i in order}
    for mark in check.marks if check else ():
        passage = position.get(mark.passage) if mark.passage is not None else None
        marks.append({**mark.as_dict(), "passage": passage})
        if mark.passage is not None and mark.mark != ABSENT:
            spans_of[mark.passage] += [(s, e, mark.choice) for s, e in mark.spans]
    return {
        "version": CHECK_VERSION,
        "polarity": check.polarity if check else "",
        "mode": check.mode if check else "",
        "verdict": check.verdict if check else None,
        "passages": [
            {
                "document_id": passages[i].document_id,
                "document": passages[i].document,
                "article": passages[i].article,
                "heading": passages[i].heading,
                "citation": passages[i].citation,
                "data_citation": passages[i].data_citation,
                "score": round(passages[i].score, 4),
                "text": passages[i].text,
                "focus": focus_lines(passages[i].text, spans_of[i]),
                "decides": check is not None and check.deciding == i,
            }
            for i in order
        ],
        "marks": marks,
        "annexes": list(annexes),
        "missing": missing or {},
    }


def _reading_order(passages: Sequence[Passage], check: Check | None) -> list[int]:
    marked = {m.passage for m in check.marks if m.passage is not None} if check else ()
    deciding = check.deciding if check else None

    def rank(i: int) -> tuple[int, int]:
        return (0 if i == deciding else 1 if i in marked else 2, i)

    return sorted(range(len(passages)), key=rank)
