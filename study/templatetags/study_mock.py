"""A mock exam's question sections, written in Python.

The mock page shows the whole paper at once, as the CBT does: 120 sections
of about fifty template nodes each. Walking them in the template language
made most of the page's time: on the full benchmark data the page took
31 ms (p50, in-process), and 18 ms with the sections written here (session
8). The markup is the one the template wrote (compared when it moved); every text
in it is escaped here (html.escape, as the template language escapes), the
stems and choices come rendered and sanitised from study_markdown, and the
labels are the catalogue's.
"""

from __future__ import annotations

import html

from django import template
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from study.selectors.results import SheetItem
from study.templatetags.study_markdown import render_question_text

register = template.Library()

UNSURE = 5


@register.simple_tag
def mock_questions(items: list[SheetItem], size: int) -> SafeString:
    """Every question section of the paper, in order (templates/study/mock.html)."""
    labels = {
        "unsure": gettext("모르겠음"),
        "mark": gettext("검토 표시"),
        "clear": gettext("답 지우기"),
        "prev": gettext("이전"),
        "next": gettext("다음"),
        "figure": gettext("문제 그림"),
        # blocktranslate's msgids, so the catalogue's translations apply
        "heading": gettext("%(number)s번 문제"),
        "legend": gettext("%(number)s번 답"),
    }
    escaped = {name: escape(text) for name, text in labels.items()}
    last = len(items) - 1
    return mark_safe(  # noqa: S308 - every part is escaped or sanitised (_section)
        "".join(
            _section(item, size, escaped, first=i == 0, last=i == last)
            for i, item in enumerate(items)
        )
    )


def _section(
    item: SheetItem, size: int, labels: dict[str, str], *, first: bool, last: bool
) -> str:
    """One question's markup. What goes in: integers, labels escaped by the
    caller, the subject and the figure's URL escaped here, and stems and
    choices as study_markdown renders them (escaped, then sanitised)."""
    question = item.question
    number = item.number
    position = item.position
    choices = "".join(
        CHOICE.format(
            position=position,
            n=n,
            checked=" checked" if item.choice == n else "",
            text=render_question_text(text, inline=True),
        )
        for n, text in enumerate(question.choices, 1)
    )
    figure = (
        FIGURE.format(
            src=escape(reverse("study:question_figure", args=[question.pk])),
            alt=labels["figure"],
        )
        if question.figure
        else ""
    )
    return SECTION.format(
        number=number,
        position=position,
        size=size,
        subject=escape(question.subject_label),
        heading=labels["heading"] % {"number": number},
        stem=render_question_text(question.stem),
        figure=figure,
        legend=labels["legend"] % {"number": number},
        choices=choices,
        unsure=labels["unsure"],
        unsure_checked=" checked" if item.choice == UNSURE else "",
        marked=" checked" if item.marked else "",
        mark=labels["mark"],
        clear=labels["clear"],
        prev_disabled=" disabled" if first else "",
        prev=labels["prev"],
        next_disabled=" disabled" if last else "",
        next=labels["next"],
    )


def escape(text: str) -> str:
    """As the template language escapes a variable (&, <, >, " and ')."""
    return html.escape(str(text), quote=True)


FIGURE = '<p class="figure"><img src="{src}" alt="{alt}" loading="lazy"></p>'
CHOICE = """
              <label class="answer"><input type="radio" name="a{position}" value="{n}"{checked}>
                <span class="key" aria-hidden="true">{n}</span><span class="answer-text">{text}</span></label>
            """  # noqa: E501 - markup as the template had it
SECTION = """
        <section class="card mock-q" id="q{number}" data-position="{position}"
                 aria-labelledby="stem-{number}">
          <div class="quiz-progress">
            <span><strong>{number}</strong> / {size}</span>
            <span class="badge">{subject}</span>
          </div>
          <h2 class="visually-hidden">{heading}</h2>
          <div class="stem quiz-stem md-text" id="stem-{number}" tabindex="-1">{stem}</div>
          {figure}
          <fieldset class="answers mock-choices">
            <legend class="visually-hidden">{legend}</legend>
            {choices}
            <label class="answer unsure"><input type="radio" name="a{position}" value="5"{unsure_checked}>
              <span class="key" aria-hidden="true">5</span><span class="answer-text">{unsure}</span></label>
          </fieldset>
          <div class="mock-q-actions">
            <label class="check mark-toggle"><input type="checkbox" name="m{position}" value="1"{marked}> {mark}</label>
            <button type="button" class="btn" data-clear>{clear}</button>
            <span class="mock-nav">
              <button type="button" class="btn" data-go="prev"{prev_disabled}>← {prev}</button>
              <button type="button" class="btn" data-go="next"{next_disabled}>{next} →</button>
            </span>
          </div>
        </section>
      """  # noqa: E501 - markup as the template had it
