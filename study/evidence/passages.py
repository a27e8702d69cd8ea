"""Passages of the card: a statute article put back together from its chunks
(pure)."""

from __future__ import annotations

import re

_PARAGRAPH_LEAD = re.compile(r"^\s*(?:\*\*)?[①-⑳㉑-㉟]")
# "<개정 2024.6.28>": when a provision changed, not what it says.
_AMENDMENT_NOTE = re.compile(
    r"\s*<(?:개정|신설|전문개정|본조신설|제목개정|타법개정)[^>]*>"
)


def article_text(chunks: list[str], *, heading: str) -> str:
    """The whole article from its chunks in order: each chunk repeats the
    article heading (and a split 항 its lead line), said once here; the
    amendment notes are left out."""
    lines: list[str] = [heading] if heading else []
    seen_leads: set[str] = set()
    for text in chunks:
        body = text.split("\n")
        if body and heading and body[0].strip() == heading:
            body = body[1:]
        for line in body:
            if _PARAGRAPH_LEAD.match(line):
                if line in seen_leads:
                    continue
                seen_leads.add(line)
            lines.append(_AMENDMENT_NOTE.sub("", line))
    return "\n".join(lines).strip()
