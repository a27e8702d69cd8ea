"""Reads of the 근거 카드: the cached card of a question as plain data (when
it is still fresh), the stamps that say whether it is, the rows its history
is read from, and the topic's 정답 확인 필요 list."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q
from django.urls import reverse

from study import rounds
from study.evidence.check import CHECK_VERSION
from study.models import (
    Document,
    DocumentStatus,
    EmbeddingStatus,
    EvidenceCard,
    Question,
    Topic,
)
from study.models.question import ANSWER_DEFINING_FIELDS

HISTORY_FIELDS = (
    "id",
    "stem",
    "choice_1",
    "choice_2",
    "choice_3",
    "choice_4",
    "correct_choice",
    "accepted_choices",
    "exam_year",
    "exam_session",
    "number",
)


def _digest(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:32]


def topic_documents_stamp(*, topic_id: int) -> str:
    """Changes whenever a document the card's search reads (ready, and the
    version in force for a statute) joins or leaves the topic or is processed
    again (one query)."""
    rows = (
        Document.objects.filter(
            topics=topic_id, status=DocumentStatus.READY, in_force=True
        )
        .order_by("id")
        .values_list("id", "processed_at", "chunk_count")
    )
    return _digest(*(f"{pk}:{at and at.isoformat()}:{n}" for pk, at, n in rows))


EMPTY_DOCUMENTS = _digest()


def passages_stamp(question: Question, documents_stamp: str) -> str:
    return _digest(
        CHECK_VERSION,
        question.answer_fingerprint(),
        question.topic_id,
        documents_stamp,
    )


def related_entries(question: Question) -> list[dict]:
    """The question's relations, whatever their kind, best first."""
    entries = []
    for kind, items in (
        ("repeat", question.related_repeat),
        ("similar", question.related_similar),
    ):
        entries += [{**item, "kind": kind} for item in items or [] if "id" in item]
    return entries


def history_stamp(question: Question) -> str:
    ids = [e["id"] for e in related_entries(question)]
    computed = question.related_computed_at
    return _digest(
        CHECK_VERSION,
        question.answer_fingerprint(),
        computed.isoformat() if computed else "",
        question.related_threshold_version,
        ids,
    )


def cards_cached(*, question_ids: Iterable[int]) -> dict[int, EvidenceCard]:
    ids = list(dict.fromkeys(question_ids))
    if not ids:
        return {}
    return {c.question_id: c for c in EvidenceCard.objects.filter(question_id__in=ids)}


def stored_embeddings(*, ids: Iterable[int], model: str) -> dict[int, list[float]]:
    """The questions' ready embeddings by `model` (one query)."""
    rows = Question.objects.filter(
        pk__in=list(ids),
        embedding_status=EmbeddingStatus.READY,
        embedding_model=model,
        embedding__isnull=False,
    ).values_list("id", "embedding")
    return {pk: list(vector) for pk, vector in rows if vector is not None}


def history_rows(*, topic_id: int, ids: Iterable[int]) -> dict[int, dict]:
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    rows = (
        Question.objects.alive()
        .filter(topic_id=topic_id, pk__in=wanted)
        .values(*HISTORY_FIELDS)
    )
    return {row["id"]: row for row in rows}


# -- the card as the pages read it --------------------------------------------


@dataclass(frozen=True)
class ChoiceCheck:
    number: int
    text: str
    mark: str  # match | differ | absent
    detail: str
    citation: str  # of the passage the mark rests on
    is_key: bool
    is_verdict: bool


@dataclass(frozen=True)
class PassageView:
    citation: str
    data_citation: str
    document: str
    article: str
    heading: str
    text: str
    focus: list
    decides: bool
    score: float

    @property
    def is_statute(self) -> bool:
        return bool(self.article)


@dataclass(frozen=True)
class HistoryItem:
    id: int
    year: int | None
    session: str
    number: int | None
    kind: str
    key: tuple[int, ...]
    key_text: str
    agreement: str  # same | different | unknown

    @property
    def round_label(self) -> str:
        return rounds.round_label(self.year, self.session)

    @property
    def url(self) -> str:
        return reverse("study:question", args=[self.id])


@dataclass(frozen=True)
class CardView:
    """A question's 근거 카드 as plain data: what pages, the command and an
    export read (no model instances inside)."""

    question_id: int
    accepted: frozenset[int]
    polarity: str
    verdict: int | None
    passages: list[PassageView]
    choices: list[ChoiceCheck]
    history: list[HistoryItem]
    annexes: list[dict]
    missing: dict
    computed_at: datetime | None = None
    data: dict = field(default_factory=dict, repr=False)

    @property
    def has_passages(self) -> bool:
        return bool(self.passages)

    @property
    def verdict_is_key(self) -> bool:
        return self.verdict is not None and self.verdict in self.accepted

    @property
    def key_conflict(self) -> bool:
        return self.verdict is not None and self.verdict not in self.accepted

    @property
    def history_conflict(self) -> bool:
        return any(item.agreement == "different" for item in self.history)

    @property
    def needs_review(self) -> bool:
        return self.key_conflict or self.history_conflict

    @property
    def deciding(self) -> PassageView | None:
        return next((p for p in self.passages if p.decides), None)

    @property
    def lead_citation(self) -> str:
        """The citation a one-line summary names: the deciding passage, else
        the first one."""
        first = self.deciding or (self.passages[0] if self.passages else None)
        return first.data_citation if first else ""

    @property
    def key_label(self) -> str:
        return ", ".join(str(n) for n in sorted(self.accepted))

    def as_dict(self) -> dict:
        return {
            "question_id": self.question_id,
            "polarity": self.polarity,
            "key": sorted(self.accepted),
            "verdict": self.verdict,
            "verdict_is_key": self.verdict_is_key if self.verdict else None,
            "key_conflict": self.key_conflict,
            "passages": [
                {
                    "citation": p.citation,
                    "data_citation": p.data_citation,
                    "document": p.document,
                    "article": p.article,
                    "decides": p.decides,
                    "score": p.score,
                    "focus": [
                        "".join(part[0] for part in line["parts"]) for line in p.focus
                    ],
                    "text": p.text,
                }
                for p in self.passages
            ],
            "marks": [
                {
                    "choice": c.number,
                    "text": c.text,
                    "mark": c.mark,
                    "detail": c.detail,
                    "citation": c.citation,
                }
                for c in self.choices
            ],
            "history": [
                {
                    "question_id": h.id,
                    "round": rounds.round_key(h.year, h.session),
                    "number": h.number,
                    "kind": h.kind,
                    "key": list(h.key),
                    "key_text": h.key_text,
                    "agreement": h.agreement,
                }
                for h in self.history
            ],
            "history_conflict": self.history_conflict,
            "annexes": self.annexes,
            "missing": self.missing,
            "computed_at": self.computed_at.isoformat() if self.computed_at else None,
        }


def card_view(question: Question, card: EvidenceCard) -> CardView:
    data = card.data or {}
    passages = [
        PassageView(
            citation=p["citation"],
            data_citation=p["data_citation"],
            document=p["document"],
            article=p["article"],
            heading=p["heading"],
            text=p["text"],
            focus=p.get("focus", []),
            decides=bool(p.get("decides")),
            score=p.get("score", 0.0),
        )
        for p in data.get("passages", [])
    ]
    verdict = data.get("verdict")
    accepted = frozenset(question.accepted_set)
    marks = {m["choice"]: m for m in data.get("marks", [])}
    choices = []
    for number, text in enumerate(question.choices, 1):
        mark = marks.get(number, {})
        at = mark.get("passage")
        choices.append(
            ChoiceCheck(
                number=number,
                text=text,
                mark=mark.get("mark", "absent"),
                detail=mark.get("detail", ""),
                citation=passages[at].data_citation
                if at is not None and at < len(passages)
                else "",
                is_key=number in accepted,
                is_verdict=number == verdict,
            )
        )
    history = [
        HistoryItem(
            id=h["id"],
            year=h.get("year"),
            session=h.get("session") or "",
            number=h.get("number"),
            kind=h.get("kind", ""),
            key=tuple(h.get("key", ())),
            key_text=h.get("key_text", ""),
            agreement=h.get("agreement", "unknown"),
        )
        for h in card.history or []
    ]
    return CardView(
        question_id=question.pk,
        accepted=accepted,
        polarity=data.get("polarity", ""),
        verdict=verdict,
        passages=passages,
        choices=choices,
        history=history,
        annexes=data.get("annexes", []),
        missing=data.get("missing", {}),
        computed_at=card.computed_at,
        data=data,
    )


def card_is_fresh(question: Question, card: EvidenceCard, documents: str) -> bool:
    return card.passages_stamp == passages_stamp(
        question, documents
    ) and card.history_stamp == history_stamp(question)


def cards_fresh(*, questions: Sequence[Question]) -> dict[int, CardView]:
    """The questions' cards that are cached and fresh, as plain data (the
    others are left out: the service `evidence_cards_get` computes them).
    One query, and one per topic when some card is cached."""
    cached = cards_cached(question_ids=[q.pk for q in questions])
    if not cached:
        return {}
    documents: dict[int, str] = {}
    views = {}
    for question in questions:
        card = cached.get(question.pk)
        if card is None:
            continue
        if question.topic_id not in documents:
            documents[question.topic_id] = topic_documents_stamp(
                topic_id=question.topic_id
            )
        if card_is_fresh(question, card, documents[question.topic_id]):
            views[question.pk] = card_view(question, card)
    return views


def evidence_card_for(question: Question) -> CardView | None:
    """The question's card as plain data if a fresh one is cached (None
    otherwise: the service `evidence_card_get` computes it). Two queries."""
    return cards_fresh(questions=[question]).get(question.pk)


# -- 정답 확인 필요 ------------------------------------------------------------


@dataclass(frozen=True)
class ReviewItem:
    question: Question
    card: CardView


def topic_answer_review(*, topic: Topic) -> list[ReviewItem]:
    """The topic's questions whose fresh card finds the key against the
    statute, or a repeat keyed differently, in round order."""
    documents = topic_documents_stamp(topic_id=topic.pk)
    flagged = (
        EvidenceCard.objects.filter(question__topic=topic, question__deleted_at=None)
        .filter(needs_review_q())
        .select_related("question")
        .defer("question__embedding")
    )
    items = [
        ReviewItem(question=c.question, card=card_view(c.question, c))
        for c in flagged
        if card_is_fresh(c.question, c, documents)
    ]
    return sorted(
        items,
        key=lambda i: (
            i.question.exam_year or 0,
            i.question.exam_session,
            i.question.number or 0,
        ),
    )


def needs_review_q() -> Q:
    return Q(key_conflict=True) | Q(history_conflict=True)


def topic_card_counts(*, topic: Topic) -> tuple[int, int]:
    """(questions whose card is fresh, live questions) of the topic. A card
    made before a statute, the key, the relations or the checker changed is
    not counted: 정답 확인 필요 lists fresh cards only, so the owner is
    offered to make those again rather than told every card is made."""
    total = Question.objects.alive().filter(topic=topic).count()
    return total - len(questions_cards_due(topic_id=topic.pk)), total


def topics_with_outdated_cards() -> list[int]:
    """The topics holding a live question's card made by another version of
    the check (the app was upgraded): every such card is stale. A deleted
    question's card is left (the topic's run would not remake it, and the
    topic would be enqueued every hour). One query."""
    outdated = ~Q(data__version=CHECK_VERSION) | Q(data__version__isnull=True)
    rows = EvidenceCard.objects.filter(
        outdated, question__deleted_at__isnull=True
    ).values_list("question__topic_id", flat=True)
    return sorted(set(rows))


def questions_missing_cards(*, topic: Topic, limit: int | None = None) -> list[int]:
    ids = (
        Question.objects.alive()
        .filter(topic=topic, evidence_card__isnull=True)
        .order_by("id")
        .values_list("id", flat=True)
    )
    return list(ids[:limit] if limit else ids)


# What the two stamps read of a question (passages_stamp, history_stamp):
# loading only these makes listing a 1,800-question bank's due cards a third
# faster (model instances of a few fields, not of forty).
_STAMPED_FIELDS = (
    "id",
    "topic_id",
    *ANSWER_DEFINING_FIELDS,
    "related_repeat",
    "related_similar",
    "related_computed_at",
    "related_threshold_version",
)


def questions_cards_due(
    *, topic_id: int, question_ids: Iterable[int] | None = None
) -> list[int]:
    """The topic's live questions (or those of `question_ids`) whose card is
    missing or stale, by id: the rule of `card_is_fresh`, read for the whole
    bank in two queries and one more for the documents' stamp."""
    questions = (
        Question.objects.alive()
        .filter(topic_id=topic_id)
        .only(*_STAMPED_FIELDS)
        .order_by("id")
    )
    if question_ids is not None:
        questions = questions.filter(pk__in=list(question_ids))
    cards = {
        card.question_id: card
        for card in EvidenceCard.objects.filter(
            question__in=questions.values("pk")
        ).only("question_id", "passages_stamp", "history_stamp")
    }
    documents = topic_documents_stamp(topic_id=topic_id)
    return [
        question.pk
        for question in questions
        if (card := cards.get(question.pk)) is None
        or not card_is_fresh(question, card, documents)
    ]


def topic_questions(*, topic: Topic, ids: Sequence[int]) -> list[Question]:
    return list(
        Question.objects.alive()
        .filter(topic=topic, pk__in=list(ids))
        .defer("embedding")
        .order_by("id")
    )


def topic_question_ids(*, topic: Topic) -> list[int]:
    return list(
        Question.objects.alive()
        .filter(topic=topic)
        .order_by("id")
        .values_list("id", flat=True)
    )
