"""The stored 개정 flags as pages and the command read them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet

from study.models import QuestionAmendment, Topic
from study.models.amendment import FLAGGED


@dataclass(frozen=True)
class AmendmentView:
    """What a learner sees of a question's flag."""

    question_id: int
    status: str
    status_label: str
    reason_label: str
    key_now: int | None
    exam_date: str
    then_citation: str
    now_citation: str
    then_parts: list
    now_parts: list
    then_version: str
    now_version: str

    @property
    def flagged(self) -> bool:
        return self.status in FLAGGED

    @property
    def shows_texts(self) -> bool:
        """Then and now side by side: when they differ in what decides."""
        return self.flagged and bool(self.then_parts)

    @property
    def key_now_label(self) -> str:
        return "①②③④"[self.key_now - 1] if self.key_now in (1, 2, 3, 4) else ""

    @property
    def then_lines(self) -> list[list]:
        return changed_lines(self.then_parts)

    @property
    def now_lines(self) -> list[list]:
        return changed_lines(self.now_parts)

    @property
    def changed_then(self) -> str:
        return " … ".join(p[0].strip() for p in self.then_parts if p[1]).strip()

    @property
    def changed_now(self) -> str:
        return " … ".join(p[0].strip() for p in self.now_parts if p[1]).strip()


SHOWN_LINES = 6


def changed_lines(parts: list) -> list[list]:
    """The lines of an article (parts [text, changed]) that hold a changed
    word, each as its parts: what the card shows of then and now."""
    lines: list[list] = [[]]
    for text, changed in parts:
        pieces = str(text).split("\n")
        for i, piece in enumerate(pieces):
            if i:
                lines.append([])
            if piece:
                lines[-1].append([piece, bool(changed)])
    shown = [line for line in lines if any(changed for _, changed in line)]
    if not shown and parts:  # a provision gone: its opening lines
        shown = [line for line in lines if line][:SHOWN_LINES]
    return shown[:SHOWN_LINES]


def _version(document: object) -> str:
    effective = getattr(document, "effective_date", None)
    return effective.isoformat() if effective else ""


def _view(row: QuestionAmendment) -> AmendmentView:
    data = row.data or {}
    then = data.get("then") or {}
    now = data.get("now") or {}
    return AmendmentView(
        question_id=row.question_id,
        status=row.status,
        status_label=str(row.get_status_display()),
        reason_label=str(row.get_reason_display()) if row.reason else "",
        key_now=row.key_now,
        exam_date=row.exam_date.isoformat() if row.exam_date else "",
        then_citation=" ".join(
            x for x in (then.get("document"), then.get("heading")) if x
        ),
        now_citation=" ".join(
            x for x in (now.get("document"), now.get("heading")) if x
        ),
        then_parts=then.get("parts") or [],
        now_parts=now.get("parts") or [],
        then_version=_version(row.then_document),
        now_version=_version(row.now_document),
    )


def _rows() -> QuerySet[QuestionAmendment]:
    return QuestionAmendment.objects.select_related(
        "then_document", "now_document"
    ).only(
        "question_id",
        "status",
        "reason",
        "key_now",
        "exam_date",
        "data",
        "then_document__effective_date",
        "now_document__effective_date",
    )


def amendments_for(*, question_ids: Iterable[int]) -> dict[int, AmendmentView]:
    """The flags of some questions (one query)."""
    ids = list(question_ids)
    if not ids:
        return {}
    return {row.question_id: _view(row) for row in _rows().filter(question_id__in=ids)}


def amendment_for(*, question_id: int) -> AmendmentView | None:
    return amendments_for(question_ids=[question_id]).get(question_id)


@dataclass(frozen=True)
class FlaggedItem:
    question_id: int
    label: str  # "2016년 1회 53번"
    stem: str
    key: list[int]
    view: AmendmentView
    then_article: str
    now_article: str
    reason: str


def topic_flagged(*, topic: Topic) -> list[FlaggedItem]:
    """Every flagged question of the topic, in bank order."""
    rows = (
        QuestionAmendment.objects.filter(question__topic=topic, status__in=FLAGGED)
        .select_related("question", "then_document", "now_document")
        .order_by("question__exam_year", "question__exam_session", "question__number")
    )
    return [
        FlaggedItem(
            question_id=row.question_id,
            label=row.question.place_label,
            stem=row.question.stem,
            key=sorted(row.question.accepted_set),
            view=_view(row),
            then_article=row.then_article,
            now_article=row.now_article,
            reason=row.reason,
        )
        for row in rows
    ]


def topic_amendment_counts(*, topic: Topic) -> dict[str, int]:
    counts: dict[str, int] = {}
    rows = QuestionAmendment.objects.filter(question__topic=topic).values_list(
        "status", flat=True
    )
    for status in rows:
        counts[status] = counts.get(status, 0) + 1
    return counts
