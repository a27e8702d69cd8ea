"""Anki decks (.apkg) of questions: the stem, the four choices and the
figure on the front; the key, the citation and passage that decide it (when
the app has them) and the source's explanation on the back.

genanki writes Anki's collection file and media map. Ids are stable: the
note type's and a deck's never change, and a note's GUID is derived from the
question, so importing a newer deck updates the cards (and keeps their review
history in Anki) instead of adding copies.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import genanki
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from study.exports.evidence import CardEvidence, questions_card_evidence
from study.models import Question

# Fixed forever: Anki matches note types by id (a new id makes a second type).
NOTE_TYPE_ID = 1_700_250_025
CIRCLED = "①②③④"
CSS = """
.card { font-family: sans-serif; font-size: 18px; text-align: left; line-height: 1.5; }
.source { color: #666; font-size: 14px; margin-bottom: 8px; }
.choices { padding-left: 0; list-style: none; }
.choices li { margin: 6px 0; }
.figure img { max-width: 100%; }
.answer { font-weight: bold; }
.citation { margin-top: 12px; font-weight: bold; }
.passage { margin: 6px 0; padding-left: 10px; border-left: 3px solid #1f5fbf; }
.marks { margin-top: 6px; font-size: 15px; color: #333; }
.explanation { margin-top: 12px; color: #333; }
"""


@dataclass(frozen=True)
class DeckSummary:
    notes: int
    figures: int
    with_passage: int


def _note_type() -> genanki.Model:
    front = (
        '<div class="source">{{Source}}</div><div class="stem">{{Question}}</div>'
        '{{#Figure}}<div class="figure">{{Figure}}</div>{{/Figure}}{{Choices}}'
    )
    back = (
        '{{FrontSide}}<hr id="answer"><div class="answer">{{Answer}}</div>'
        '{{#Citation}}<div class="citation">{{Citation}}</div>'
        '<blockquote class="passage">{{Passage}}</blockquote>{{/Citation}}'
        '{{#Explanation}}<div class="explanation">{{Explanation}}</div>'
        "{{/Explanation}}"
    )
    return genanki.Model(
        NOTE_TYPE_ID,
        "Gichul 4지선다",
        fields=[
            {"name": "Key"},
            {"name": "Source"},
            {"name": "Question"},
            {"name": "Figure"},
            {"name": "Choices"},
            {"name": "Answer"},
            {"name": "Citation"},
            {"name": "Passage"},
            {"name": "Explanation"},
        ],
        templates=[{"name": "Card 1", "qfmt": front, "afmt": back}],
        css=CSS,
        sort_field_index=0,
    )


def deck_id_for(deck_key: str) -> int:
    """A stable id in Anki's range for a deck named by its export (topic, round,
    review queue of a learner)."""
    digest = int.from_bytes(hashlib.sha256(deck_key.encode()).digest()[:4], "big")
    return (1 << 30) + digest % (1 << 30)


def anki_deck_write(
    *, title: str, deck_key: str, questions: Iterable[Question], out: Path
) -> DeckSummary:
    """Write the questions to `out` as an .apkg deck named `title`."""
    note_type = _note_type()
    deck = genanki.Deck(deck_id_for(deck_key), title)
    media: list[str] = []
    passages = 0
    questions = list(questions)
    evidence = questions_card_evidence(questions)
    with tempfile.TemporaryDirectory(prefix="gichul-anki-") as tmp:
        for question in questions:
            figure_name = _copy_figure(question, Path(tmp))
            if figure_name:
                media.append(str(Path(tmp) / figure_name))
            fields, has_passage = _fields(
                question, figure_name, evidence.get(question.pk)
            )
            passages += has_passage
            deck.add_note(
                genanki.Note(
                    model=note_type,
                    fields=fields,
                    guid=genanki.guid_for("gichul-question", question.pk),
                    tags=_tags(question),
                )
            )
        genanki.Package(deck, media_files=media).write_to_file(str(out))
    return DeckSummary(notes=len(deck.notes), figures=len(media), with_passage=passages)


def _fields(
    question: Question, figure_name: str, evidence: CardEvidence | None
) -> tuple[list[str], bool]:
    choices = "".join(
        f"<li>{CIRCLED[i]} {escape(text)}</li>"
        for i, text in enumerate(question.choices)
    )
    answer = ", ".join(
        f"{CIRCLED[c - 1]} {escape(question.choices[c - 1])}"
        for c in sorted(question.accepted_set)
    )
    citation = evidence.citation if evidence else ""
    passage = _passage(evidence) if evidence else ""
    return [
        escape(question.key),
        escape(_source(question)),
        linebreaksbr(escape(question.stem)),
        f'<img src="{escape(figure_name)}">' if figure_name else "",
        f'<ol class="choices">{choices}</ol>',
        _("정답: %(answer)s") % {"answer": answer},
        escape(citation),
        passage,
        linebreaksbr(escape(question.explanation)),
    ], evidence is not None


MARK_WORDS = {
    "match": gettext_lazy("조문과 일치"),
    "differ": gettext_lazy("조문과 다름"),
    "absent": gettext_lazy("조문에 없음"),
}


def _passage(evidence: CardEvidence) -> str:
    """The deciding passage, then what the 근거 카드 reads from it: the
    verdict (and whether it differs from the key) and every choice's mark."""
    html = linebreaksbr(escape(evidence.passage))
    lines: list[str] = []
    if evidence.verdict is not None:
        verdict = (
            _("조문에 따르면 %(n)s번 · 정답과 다름")
            if evidence.key_conflict
            else _("조문에 따르면 %(n)s번")
        )
        lines.append(escape(verdict % {"n": evidence.verdict}))
    lines.append(
        " · ".join(
            f"{CIRCLED[number - 1]} {escape(MARK_WORDS[mark])}"
            for number, mark in evidence.marks
            if 1 <= number <= len(CIRCLED) and mark in MARK_WORDS
        )
    )
    return html + f'<div class="marks">{"<br>".join(lines)}</div>'


def linebreaksbr(html: str) -> str:
    """Line breaks of already escaped text as <br> (Anki shows HTML)."""
    return html.replace("\r\n", "\n").replace("\n", "<br>")


def _source(question: Question) -> str:
    parts = []
    if question.has_round:
        parts.append(
            _("%(round)s %(number)s번")
            % {"round": question.round_label, "number": question.number}
        )
    if question.subject:
        parts.append(question.subject)
    return " · ".join(parts)


def _tags(question: Question) -> list[str]:
    """Anki tags have no spaces."""
    tags = ["gichul"]
    if question.has_round:
        tags.append(f"round::{question.round_key}")
    if question.subject:
        tags.append("subject::" + "_".join(question.subject.split()))
    return tags


def _copy_figure(question: Question, directory: Path) -> str:
    """The figure as a flat, unique media file name (Anki keeps one folder)."""
    if not question.figure:
        return ""
    suffix = Path(question.figure.name or "").suffix.lower() or ".png"
    name = f"gichul-q{question.pk}{suffix}"
    try:
        with question.figure.open("rb") as source, (directory / name).open("wb") as dst:
            shutil.copyfileobj(source, dst)
    except OSError:  # a figure file missing from storage: the card goes without
        return ""
    return name
