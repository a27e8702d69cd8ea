"""Markdown → sanitised HTML (allow-list), math kept for KaTeX: what the LLM
writes (`markdown_safe`) and what a question's author wrote, its stem and
choices (`question_markdown`, `question_markdown_inline`)."""

from __future__ import annotations

import html
import re
import secrets
import threading
from collections.abc import Callable
from functools import lru_cache

import markdown
import nh3
from django import template
from django.utils.safestring import mark_safe

register = template.Library()

# Math spans, kept as written for KaTeX (the importer reads them too).
MATH_SPAN = re.compile(r"(\$\$.+?\$\$|\$[^$\n]+?\$)", re.DOTALL)
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
    return _render(
        text,
        lambda source: markdown.markdown(source, extensions=["extra", "sane_lists"]),
    )


def _render(text: str, convert: Callable[[str], str]) -> str:
    token = secrets.token_hex(8)
    maths: list[str] = []

    def stash(match: re.Match) -> str:
        maths.append(match.group(0))
        return f"\u27e6MATH{token}-{len(maths) - 1}\u27e7"

    rendered = convert(MATH_SPAN.sub(stash, text or ""))
    for index, math in enumerate(maths):
        span = f'<span class="math">{html.escape(math)}</span>'
        rendered = rendered.replace(f"\u27e6MATH{token}-{index}\u27e7", span)
    return sanitise(rendered)


# A question is the author's text: tags in it are shown, not obeyed; what
# Markdown it uses (tables above all, lists, emphasis) renders; single line
# breaks stay breaks. Indented lines are not code and no line is a heading
# (exam text indents and underlines freely).
_QUESTION_BLOCKS_OFF = ("code", "hashheader", "setextheader", "quote")
# A table row right under a line of text starts a table (Markdown wants a
# blank line there; exporters rarely write one).
_TABLE_AFTER_TEXT = re.compile(r"(?m)^([^|\n][^\n]*)\n(?=\|)")
_ONE_PARAGRAPH = re.compile(r"\A<p>((?:(?!</?p>).)*)</p>\Z", re.DOTALL)
_local = threading.local()


def _question_converter() -> markdown.Markdown:
    converter = getattr(_local, "question_markdown", None)
    if converter is None:
        converter = markdown.Markdown(extensions=["tables", "nl2br", "sane_lists"])
        for name in _QUESTION_BLOCKS_OFF:
            converter.parser.blockprocessors.deregister(name)
        _local.question_markdown = converter
    return converter


def _convert_question(source: str) -> str:
    escaped = html.escape(source, quote=False)
    converter = _question_converter()
    converter.reset()
    return converter.convert(_TABLE_AFTER_TEXT.sub(r"\1\n\n", escaped))


def render_question_text(text: str, *, inline: bool = False) -> str:
    """A stem (block) or a choice (inline: one paragraph loses its <p>)."""
    return _rendered_question_text(text or "", inline)


# Most stems and choices are one line of plain prose: no character Markdown,
# math, the escaping or the sanitiser would act on, and no line start that
# makes a list. Such a text renders to itself in a paragraph, so it skips the
# Markdown parser (the answer path renders a new card on every answer; the
# parser was a quarter of its template time). tests/study/test_question_markdown.py
# holds the shortcut to the full rendering over real rounds and generated text.
_NOT_PLAIN = re.compile(r"[\x00-\x1f\x7f*_`\\\[\]!<>&|$~\u00a0\u2028\u2029]")
_BLOCK_START = re.compile(r"[-+#=]|\d+\.")


def plain_question_text(text: str) -> bool:
    """True when Markdown would render `text` as one paragraph of itself."""
    return (
        text == text.strip()
        and _NOT_PLAIN.search(text) is None
        and _BLOCK_START.match(text) is None
    )


# A page renders the same questions again and again (a mock's 120 stems and
# 480 options on every visit): the rendering is a pure function of the text.
@lru_cache(maxsize=8192)
def _rendered_question_text(text: str, inline: bool) -> str:
    if text and plain_question_text(text):
        return text if inline else f"<p>{text}</p>"
    return render_question_markdown(text, inline=inline)


def render_question_markdown(text: str, *, inline: bool = False) -> str:
    """The full rendering (Markdown, math, the sanitiser), never shortcut."""
    rendered = _render(text, _convert_question)
    if inline and (match := _ONE_PARAGRAPH.match(rendered)):
        return match.group(1)
    return rendered


@register.filter(name="markdown_safe")
def markdown_safe(text: str) -> str:
    return mark_safe(render_markdown(text))  # noqa: S308 - sanitised by nh3 above


@register.filter(name="question_markdown")
def question_markdown(text: str) -> str:
    return mark_safe(render_question_text(text))  # noqa: S308 - escaped, then nh3


@register.filter(name="question_markdown_inline")
def question_markdown_inline(text: str) -> str:
    return mark_safe(render_question_text(text, inline=True))  # noqa: S308 - as above
