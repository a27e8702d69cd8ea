"""Markdown from the LLM → sanitised HTML (allow-list), math kept for KaTeX."""

from __future__ import annotations

import html
import re
import secrets

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
ALLOWED_CLASSES = {"span": {"math"}}


def sanitise(rendered: str) -> str:
    """The allow-list; what it returns is what reaches the browser."""
    return nh3.clean(rendered, tags=ALLOWED_TAGS, allowed_classes=ALLOWED_CLASSES)


def render_markdown(text: str) -> str:
    """Math is set aside so Markdown leaves it alone, put back, then sanitised:
    the sanitiser runs last, so nothing substituted after it can break out of
    an attribute. The placeholder carries a fresh token no input can forge."""
    token = secrets.token_hex(8)
    maths: list[str] = []

    def stash(match: re.Match) -> str:
        maths.append(match.group(0))
        return f"\u27e6MATH{token}-{len(maths) - 1}\u27e7"

    protected = _MATH.sub(stash, text or "")
    rendered = markdown.markdown(protected, extensions=["extra", "sane_lists"])
    for index, math in enumerate(maths):
        span = f'<span class="math">{html.escape(math)}</span>'
        rendered = rendered.replace(f"\u27e6MATH{token}-{index}\u27e7", span)
    return sanitise(rendered)


@register.filter(name="markdown_safe")
def markdown_safe(text: str) -> str:
    return mark_safe(render_markdown(text))  # noqa: S308 - sanitised by nh3 above
