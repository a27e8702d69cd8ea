"""Markdown from the LLM → sanitised HTML (allow-list), math kept for KaTeX."""

from __future__ import annotations

import html
import re

import markdown
import nh3
from django import template
from django.utils.safestring import mark_safe

register = template.Library()

_MATH = re.compile(r"(\$\$.+?\$\$|\$[^$\n]+?\$)", re.DOTALL)
ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "code",
    "pre",
    "ul",
    "ol",
    "li",
    "blockquote",
    "h3",
    "h4",
    "h5",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "hr",
    "span",
    "sup",
    "sub",
}
ALLOWED_ATTRIBUTES = {"span": {"class"}}


def render_markdown(text: str) -> str:
    maths: list[str] = []

    def stash(match: re.Match) -> str:
        maths.append(match.group(0))
        return f"\u27e6MATH{len(maths) - 1}\u27e7"

    protected = _MATH.sub(stash, text or "")
    rendered = markdown.markdown(protected, extensions=["extra", "sane_lists"])
    clean = nh3.clean(rendered, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES)
    for index, math in enumerate(maths):
        span = f'<span class="math">{html.escape(math)}</span>'
        clean = clean.replace(f"\u27e6MATH{index}\u27e7", span)
    return clean


@register.filter(name="markdown_safe")
def markdown_safe(text: str) -> str:
    return mark_safe(render_markdown(text))  # noqa: S308 - sanitised by nh3 above
