"""Structure-aware chunking with citations.

Korean statutes (편/장/절/관, 제N조(제목), 제N조의2, 항 ①, 호 1., 목 가.) are
recognised wherever they appear: Markdown headings, plain text or text
extracted from a PDF. A chunk never spans two articles; an article longer than
``CHUNK_MAX`` characters is split at 항 (then 호) with the article heading
repeated. Other documents are cut at Markdown headings and paragraphs and keep
their heading path. YAML front matter is parsed into document fields, never
chunked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import yaml

CHUNK_TARGET = 600
CHUNK_MAX = 900
PATH_SEP = " › "

_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.S)
_MD_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
# 제1편 총칙 / 제2장 작업장 / 제3절 … / 제1관 … (a short line, nothing after)
_DIVISION = re.compile(
    r"^제\s*(\d+)\s*(편|장|절|관|속)(?:의\s*(\d+))?(?:\s+(.{0,60}))?$"
)
_DIVISION_LEVEL = {"편": 0, "장": 1, "절": 2, "관": 3, "속": 4}
# 제42조(추락의 방지) / 제4조의2 (분진의 흩날림 방지) / 제71조 (title missing) /
# 제13조 ((안전보건관리책임자)) (older exports double the brackets)
_ARTICLE = re.compile(
    r"^제\s*(\d+)\s*조(?:\s*의\s*(\d+))?\s*(?:[(（]{1,2}([^()（）\n]{1,80})[)）]{1,2})?\s*(.*)$",
    re.S,
)
_PARAGRAPH = re.compile(r"^(?:\*\*)?([①-⑳㉑-㉟])(?:\*\*)?\s*")
_ITEM = re.compile(r"^\s*(\d{1,3})(?:의\d+)?\\?\.\s")
_SUBITEM = re.compile(r"^\s*([가-하])\\?\.\s")
_ADDENDA = re.compile(r"^부\s*칙(?:\s*<[^>]*>)?\s*$")
_DELETED = re.compile(r"^삭제\s*(?:<[^>]*>)?\s*$")
_STRONG = re.compile(r"^\*\*(.+)\*\*$")
_BOLD = re.compile(r"\*\*([①-⑳㉑-㉟])\*\*")
_ESCAPED_DOT = re.compile(r"^(\s*(?:\d{1,3}(?:의\d+)?|[가-하]))\\\.", re.M)


@dataclass
class Chunk:
    text: str
    citation: str = ""  # "제42조(추락의 방지) ②" or a heading path
    section: str = ""  # "제1편 총칙 › 제2장 작업장"
    article: str = ""  # canonical article key: "제42조", "제4조의2"


@dataclass
class FrontMatter:
    fields: dict = field(default_factory=dict)
    title: str = ""
    promulgated: str = ""
    effective: str = ""
    source_url: str = ""
    annexes: list[dict] = field(default_factory=list)


def split_front_matter(text: str) -> tuple[FrontMatter, str]:
    """YAML front matter at the very top becomes fields; the rest is the body.

    Malformed YAML is kept as text rather than lost.
    """
    match = _FRONT_MATTER.match(text)
    if not match:
        return FrontMatter(), text
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return FrontMatter(), text
    if not isinstance(data, dict):
        return FrontMatter(), text
    body = text[match.end() :]

    def pick(*names: str) -> str:
        for name in names:
            value = data.get(name)
            if value not in (None, ""):
                return str(value).strip()[:300]
        return ""

    annexes = []
    attachments = data.get("첨부파일") or data.get("annexes") or []
    for item in attachments if isinstance(attachments, list) else []:
        if not isinstance(item, dict):
            continue
        annexes.append(annex_entry(item))
    return (
        FrontMatter(
            fields={str(k): _plain(v) for k, v in data.items() if k != "첨부파일"},
            title=pick("제목", "title"),
            promulgated=pick("공포일자", "promulgated", "date"),
            effective=pick("시행일자", "effective"),
            source_url=pick("출처", "source", "url", "source_url"),
            annexes=annexes,
        ),
        body,
    )


def annex_entry(item: dict) -> dict:
    """One listed annex: its label (별표 3, 별지 제1호서식, 별표 3의2) and title."""
    kind = str(item.get("별표구분") or "별표").strip()
    number = str(item.get("별표번호") or "").lstrip("0")
    branch = str(item.get("별표가지번호") or "").lstrip("0")
    label = kind
    if number:
        label = f"{kind} {number}" if kind == "별표" else f"{kind} 제{number}호"
        if branch:
            label += f"의{branch}"
    title = _unescape(str(item.get("제목") or "").strip())
    return {
        "label": label,
        "title": title[:300],
        "url": str(item.get("PDF링크") or item.get("파일링크") or "")[:500],
    }


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _plain(value: object) -> object:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def article_key(number: str, branch: str | None = None) -> str:
    return f"제{int(number)}조" + (f"의{int(branch)}" if branch else "")


def clean_line(line: str) -> str:
    """Markdown escapes and bold markers of statute exports, removed."""
    return _ESCAPED_DOT.sub(r"\1.", _BOLD.sub(r"\1", line)).rstrip()


@dataclass
class _Article:
    key: str
    heading: str  # "제42조(추락의 방지)"
    section: str
    lines: list[str] = field(default_factory=list)


def chunk_text(text: str) -> list[Chunk]:
    """Chunks of a document body (front matter already removed)."""
    divisions: list[str] = ["", "", "", "", ""]
    headings: list[str] = []  # Markdown heading path of non-statute text
    chunks: list[Chunk] = []
    article: _Article | None = None
    loose: list[str] = []  # text outside articles
    title_heading = ""
    in_addenda = False

    def section_path() -> str:
        return PATH_SEP.join(d for d in divisions if d)

    def flush_loose() -> None:
        body = "\n".join(loose).strip()
        loose.clear()
        if body:
            path = PATH_SEP.join(h for h in headings if h) or section_path()
            chunks.extend(_pack_loose(body, path))

    def flush_article() -> None:
        nonlocal article
        if article is not None:
            chunks.extend(_article_chunks(article))
        article = None

    for raw in text.split("\n"):
        line = clean_line(raw)
        stripped = line.strip()
        heading = _MD_HEADING.match(stripped)
        candidate = heading.group(2).strip() if heading else stripped
        candidate = _STRONG.sub(r"\1", candidate)
        division = _DIVISION.match(candidate) if len(candidate) <= 80 else None
        art = _ARTICLE.match(candidate) if candidate.startswith("제") else None
        if art and not heading and not _looks_like_article_start(art):
            art = None
        if _ADDENDA.match(candidate):
            flush_article()
            flush_loose()
            in_addenda = True
            divisions[:] = ["부칙", "", "", "", ""]
            headings = []
            continue
        if division and (heading or not art):
            flush_article()
            flush_loose()
            level = _DIVISION_LEVEL[division.group(2)]
            divisions[level] = candidate
            for deeper in range(level + 1, len(divisions)):
                divisions[deeper] = ""
            headings = []
            continue
        if art:
            flush_article()
            flush_loose()
            key = article_key(art.group(1), art.group(2))
            title = (art.group(3) or "").strip()
            label = f"{key}({title})" if title else key
            if in_addenda:  # 부칙 articles reuse numbers of the main text
                key, label = f"부칙 {key}", f"부칙 {label}"
            article = _Article(key=key, heading=label, section=section_path())
            rest = (art.group(4) or "").strip()
            if rest:
                article.lines.append(rest)
            continue
        if heading:
            flush_article()
            flush_loose()
            level = len(heading.group(1))
            if not title_heading and level == 1 and not any(divisions):
                title_heading = candidate
                continue
            headings = headings[: level - 1] + [""] * max(0, level - 1 - len(headings))
            headings.append(candidate)
            continue
        if article is not None:
            article.lines.append(line)
        else:
            loose.append(line)
    flush_article()
    flush_loose()
    return [c for c in chunks if c.text.strip()]


def _looks_like_article_start(match: re.Match) -> bool:
    """A plain-text line starting "제3조" is an article heading only when a
    title in brackets follows (or nothing), not a reference like "제3조에 따라"."""
    rest = (match.group(4) or "").lstrip()
    return bool(match.group(3)) or not rest


def _article_chunks(article: _Article) -> list[Chunk]:
    lines = [ln for ln in article.lines]
    body = "\n".join(ln for ln in lines).strip()
    if not body or _DELETED.match(body):
        return []  # a deleted article (제71조 삭제 <2024.6.28>)
    citation = article.heading
    whole = f"{article.heading}\n{body}"
    if len(whole) <= CHUNK_MAX:
        return [Chunk(whole, citation, article.section, article.key)]
    # split at 항: blocks that start with ①, ②, …
    blocks = _blocks(lines, _PARAGRAPH)
    chunks: list[Chunk] = []
    for marks, block in _pack_blocks(blocks, CHUNK_MAX - len(article.heading) - 1):
        label = _mark_range(marks)
        head = f"{article.heading} {label}".strip()
        text = f"{article.heading}\n{block}"
        if len(text) <= CHUNK_MAX:
            chunks.append(Chunk(text, head, article.section, article.key))
            continue
        # one 항 too long: split at 호 with the 항 lead line repeated
        block_lines = block.split("\n")
        lead = block_lines[0] if not _ITEM.match(block_lines[0]) else ""
        items = _blocks(block_lines[1:] if lead else block_lines, _ITEM)
        prefix = f"{article.heading}\n{lead}".rstrip()
        budget = max(200, CHUNK_MAX - len(prefix) - 1)
        for _, piece in _pack_blocks(items, budget):
            for part in _hard_split(piece, budget):
                chunks.append(
                    Chunk(f"{prefix}\n{part}", head, article.section, article.key)
                )
    return chunks


def _blocks(lines: list[str], start: re.Pattern) -> list[tuple[str, str]]:
    """Consecutive lines grouped into blocks that begin where `start` matches."""
    blocks: list[tuple[str, list[str]]] = []
    for line in lines:
        match = start.match(line.strip())
        if match or not blocks:
            blocks.append((match.group(1) if match else "", [line]))
        else:
            blocks[-1][1].append(line)
    return [(mark, "\n".join(body).strip()) for mark, body in blocks]


def _pack_blocks(
    blocks: list[tuple[str, str]], limit: int
) -> Iterator[tuple[list[str], str]]:
    """Greedy packing of whole blocks up to `limit` characters."""
    marks: list[str] = []
    parts: list[str] = []
    size = 0
    for mark, text in blocks:
        if not text:
            continue
        if parts and size + len(text) + 1 > limit:
            yield marks, "\n".join(parts)
            marks, parts, size = [], [], 0
        marks.append(mark)
        parts.append(text)
        size += len(text) + 1
    if parts:
        yield marks, "\n".join(parts)


def _mark_range(marks: list[str]) -> str:
    real = [m for m in marks if m and _PARAGRAPH.match(m)]
    if not real:
        return ""
    return real[0] if len(real) == 1 else f"{real[0]}–{real[-1]}"


_SENTENCE = re.compile(r"(?<=[.!?。])\s+|(?<=다\.)\s*")


def _hard_split(text: str, limit: int) -> list[str]:
    """A block longer than `limit`: cut on sentence ends, then hard."""
    if len(text) <= limit:
        return [text]
    out: list[str] = []
    current = ""
    for sentence in _SENTENCE.split(text):
        while len(sentence) > limit:
            out.append(sentence[:limit])
            sentence = sentence[limit:]
        if current and len(current) + len(sentence) + 1 > limit:
            out.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        out.append(current)
    return out


def _pack_loose(body: str, path: str) -> list[Chunk]:
    """Non-statute text: whole paragraphs packed up to CHUNK_TARGET characters."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
    chunks: list[Chunk] = []
    current = ""
    for paragraph in paragraphs:
        for piece in _hard_split(paragraph, CHUNK_MAX):
            if current and len(current) + len(piece) + 2 > CHUNK_TARGET:
                chunks.append(Chunk(current, path, path, ""))
                current = piece
            else:
                current = f"{current}\n\n{piece}".strip()
    if current:
        chunks.append(Chunk(current, path, path, ""))
    return chunks
