"""The 근거 카드 of a question: found, checked and cached with no LLM and no
queue.

A card is computed on the first view of its question and cached in
``EvidenceCard``; the stamps stored with it (selectors.passages_stamp and
history_stamp) say what it was computed from — the checker's version, the
question's answer-defining content and topic, the topic's ready documents,
the question's relations. A page that finds a stamp changed recomputes that
part: the passages and marks (retrieval, a few queries) or only the history
(one query). Writing the cache from a page view fills derived data, as the
related-questions cache does; it changes no entity.

Cards are also computed ahead, in the background, so that a page rarely
pays for one: whatever can make cards missing or stale (an import, a
document ready or removed, a version coming into force, relations
recomputed) enqueues the topic's run (`topic_cards_warm`), and a new quiz
session enqueues its own questions' (`session_cards_warm`).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task

from study.ai.guard import act_loaded, named_act
from study.db.locks import advisory_try_lock
from study.documents.retrieval import (
    DOCUMENT_EVIDENCE,
    annex_notes,
    question_query_text,
    search_chunks,
)
from study.evidence import selectors as sel
from study.evidence.card import Passage, card_data
from study.evidence.check import PassageText, QuestionText, check_choices
from study.evidence.history import Asked, agreement
from study.evidence.passages import article_text
from study.jobs.queue import task_after_commit
from study.llm.embeddings import EmbeddingError, embedder_name, get_embedder
from study.models import (
    Document,
    DocumentChunk,
    DocumentStatus,
    EvidenceCard,
    Question,
    QuizSession,
    Topic,
)

logger = logging.getLogger(__name__)

_HEADING = re.compile(r"^(?:부칙\s+)?제\d+조(?:의\d+)?(?:\([^)]*\))?")
BATCH = 20
TOPIC_CARDS_TASK = "study.tasks.topic_cards_compute_task"
SESSION_CARDS_TASK = "study.tasks.session_cards_compute_task"


def question_text(question: Question) -> QuestionText:
    return QuestionText(
        stem=question.stem,
        choices=tuple(question.choices),
        accepted=frozenset(question.accepted_set),
    )


# -- passages -----------------------------------------------------------------


def _query_vectors(texts: list[str]) -> list[list[float] | None]:
    try:
        return list(get_embedder().embed_queries(texts))
    except EmbeddingError:
        logger.warning("query embedding failed; lexical retrieval only")
        return [None] * len(texts)


@dataclass
class _Found:
    groups: list[tuple[int, str, str, float]]  # document, article, ref, score
    chunks: dict[str, dict]  # a non-statute chunk by ref
    annexes: list[dict]


def _vectors(questions: Sequence[Question], texts: list[str]) -> list:
    """The vector each question is searched with: its stored embedding (stem
    and choices, the related-questions analysis keeps it) when the current
    embedder made it, so a page view runs no model; else the query, embedded
    now."""
    stored = sel.stored_embeddings(ids=[q.pk for q in questions], model=embedder_name())
    missing = [i for i, q in enumerate(questions) if q.pk not in stored]
    fresh = _query_vectors([texts[i] for i in missing]) if missing else []
    vectors = [stored.get(q.pk) for q in questions]
    for i, vector in zip(missing, fresh, strict=True):
        vectors[i] = vector
    return vectors


def _search(questions: Sequence[Question]) -> dict[int, _Found]:
    """The chunks that pass the relevance cut, grouped by article."""
    texts = [question_query_text(q) for q in questions]
    found: dict[int, _Found] = {}
    for question, text, vector in zip(
        questions, texts, _vectors(questions, texts), strict=True
    ):
        evidence = search_chunks(
            topic_ids=[question.topic_id],
            query=text,
            k=DOCUMENT_EVIDENCE,
            query_vector=vector,
        )
        groups: list[tuple[int, str, str, float]] = []
        chunks: dict[str, dict] = {}
        for item in evidence:
            meta = item.meta
            ref = meta["article"] or item.ref
            if any(g[0] == meta["document_id"] and g[2] == ref for g in groups):
                continue
            groups.append((meta["document_id"], meta["article"], ref, item.score))
            if not meta["article"]:
                chunks[ref] = {
                    "document": meta["document"],
                    "heading": meta["citation"],
                    "text": item.text,
                }
        annexes = [
            {"title": a.title, "document": a.meta.get("document", "")}
            for a in annex_notes(topic_ids=[question.topic_id], query=text)
        ]
        found[question.pk] = _Found(groups=groups, chunks=chunks, annexes=annexes)
    return found


def _articles(pairs: set[tuple[int, str]]) -> dict[tuple[int, str], Passage]:
    """Whole articles, put together from all their chunks (one query)."""
    if not pairs:
        return {}
    where = Q()
    for document_id, article in pairs:
        where |= Q(document_id=document_id, article=article)
    rows = (
        DocumentChunk.objects.filter(where)
        .order_by("document_id", "ordinal")
        .values_list("document_id", "article", "citation", "text", "document__title")
    )
    pieces: dict[tuple[int, str], list] = {}
    for document_id, article, citation, text, title in rows:
        pieces.setdefault((document_id, article), []).append((citation, text, title))
    passages = {}
    for key, items in pieces.items():
        citation, _, title = items[0]
        match = _HEADING.match(citation)
        heading = match.group(0) if match else citation
        passages[key] = Passage(
            document_id=key[0],
            document=title,
            article=key[1],
            heading=heading,
            text=article_text([t for _, t, _ in items], heading=heading),
        )
    return passages


def _passages(found: _Found, articles: dict) -> list[Passage]:
    passages = []
    for document_id, article, ref, score in found.groups:
        if article:
            whole = articles.get((document_id, article))
            if whole is not None:
                passages.append(replace(whole, score=score))
            continue
        chunk = found.chunks[ref]
        passages.append(
            Passage(
                document_id=document_id,
                document=chunk["document"],
                article="",
                heading=chunk["heading"],
                text=chunk["text"],
                score=score,
            )
        )
    return passages


def _missing(question: Question, loaded: dict[int, list[str]]) -> dict:
    """What the card names as missing: the act the stem names (and whether
    the topic already holds it: then its articles were searched and none
    decides the question), else the subject."""
    act = named_act(question.stem)
    return {
        "act": act,
        "act_loaded": act_loaded(act, loaded.get(question.topic_id, [])),
        "subject": question.subject,
    }


def _loaded_titles(questions: Sequence[Question]) -> dict[int, list[str]]:
    """topic → the titles of its documents the search reads, for the topics
    of the given questions (one query; none when there are none)."""
    if not questions:
        return {}
    rows = Document.objects.filter(
        topics__in={q.topic_id for q in questions},
        status=DocumentStatus.READY,
        in_force=True,
    ).values_list("topics", "title")
    titles: dict[int, list[str]] = {}
    for topic_id, title in rows:
        titles.setdefault(topic_id, []).append(title)
    return titles


def cards_compute(
    questions: Sequence[Question], *, documents: dict[int, str]
) -> dict[int, dict]:
    """Passages, marks and verdict of each question (no writes)."""
    searchable = [q for q in questions if documents[q.topic_id] != sel.EMPTY_DOCUMENTS]
    found = _search(searchable) if searchable else {}
    pairs = {(d, a) for f in found.values() for d, a, _, _ in f.groups if a}
    articles = _articles(pairs)
    passages_of = {
        q.pk: _passages(found[q.pk], articles) if q.pk in found else []
        for q in questions
    }
    # Only a card that names an act and found no passage asks what is loaded.
    loaded = _loaded_titles(
        [q for q in questions if not passages_of[q.pk] and named_act(q.stem)]
    )
    data = {}
    for question in questions:
        hit = found.get(question.pk)
        passages = passages_of[question.pk]
        check = (
            check_choices(
                question_text(question),
                [PassageText(citation=p.citation, text=p.text) for p in passages],
            )
            if passages
            else None
        )
        data[question.pk] = card_data(
            passages,
            check,
            annexes=hit.annexes if hit else (),
            missing=None if passages else _missing(question, loaded),
        )
    return data


# -- history ----------------------------------------------------------------


def _asked(values: dict) -> Asked:
    accepted = values["accepted_choices"]
    keyed = (
        frozenset(int(c) for c in accepted.split(","))
        if accepted
        else frozenset({values["correct_choice"]})
    )
    return Asked(
        stem=values["stem"],
        choices=tuple(values[f"choice_{i}"] for i in range(1, 5)),
        accepted=keyed,
    )


def histories_compute(questions: Sequence[Question]) -> dict[int, list[dict]]:
    """Each question's repeats and variants with their keys, compared (one
    query for all of them)."""
    entries = {q.pk: sel.related_entries(q) for q in questions}
    rows: dict[int, dict] = {}
    for topic_id in {q.topic_id for q in questions}:
        ids = [
            e["id"] for q in questions if q.topic_id == topic_id for e in entries[q.pk]
        ]
        rows.update(sel.history_rows(topic_id=topic_id, ids=ids))
    histories = {}
    for question in questions:
        mine = question_text(question)
        asked = Asked(stem=mine.stem, choices=mine.choices, accepted=mine.accepted)
        history = []
        for entry in entries[question.pk]:
            row = rows.get(entry["id"])
            if row is None:
                continue
            other = _asked(row)
            key = sorted(other.accepted)
            history.append(
                {
                    "id": row["id"],
                    "year": row["exam_year"],
                    "session": row["exam_session"],
                    "number": row["number"],
                    "kind": entry["kind"],
                    "key": key,
                    "key_text": " / ".join(other.choices[k - 1] for k in key),
                    "agreement": agreement(
                        asked, other, same_question=entry["kind"] == "repeat"
                    ),
                }
            )
        histories[question.pk] = history
    return histories


# -- the cache ----------------------------------------------------------------


def _store(rows: list[EvidenceCard]) -> None:
    if rows:
        EvidenceCard.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["question"],
            update_fields=[
                "passages_stamp",
                "history_stamp",
                "data",
                "history",
                "verdict",
                "key_conflict",
                "history_conflict",
                "computed_at",
            ],
        )


def _row(
    question: Question, data: dict, history: list, stamps: tuple[str, str]
) -> EvidenceCard:
    verdict = data.get("verdict")
    return EvidenceCard(
        question=question,
        passages_stamp=stamps[0],
        history_stamp=stamps[1],
        data=data,
        history=history,
        verdict=verdict,
        key_conflict=verdict is not None and verdict not in question.accepted_set,
        history_conflict=any(h["agreement"] == "different" for h in history),
        computed_at=timezone.now(),
    )


def evidence_cards_get(
    *, questions: Sequence[Question], compute: bool = True
) -> dict[int, sel.CardView]:
    """The cards of a page of questions: cached ones as they are, stale or
    missing ones computed and stored (all in a few queries), or left out
    when `compute` is off."""
    questions = list({q.pk: q for q in questions}.values())
    if not questions:
        return {}
    cached = sel.cards_cached(question_ids=[q.pk for q in questions])
    if not cached and not compute:
        return {}  # nothing to show and nothing to compute: one query
    documents = {
        topic_id: sel.topic_documents_stamp(topic_id=topic_id)
        for topic_id in {q.topic_id for q in questions}
    }
    views: dict[int, sel.CardView] = {}
    stale_passages, stale_history = [], []
    for question in questions:
        card = cached.get(question.pk)
        stamps = (
            sel.passages_stamp(question, documents[question.topic_id]),
            sel.history_stamp(question),
        )
        if card is not None and card.passages_stamp == stamps[0]:
            if card.history_stamp == stamps[1]:
                views[question.pk] = sel.card_view(question, card)
            else:
                stale_history.append(question)
        else:
            stale_passages.append(question)
    if not compute or not (stale_passages or stale_history):
        return views
    data = cards_compute(stale_passages, documents=documents)
    for question in stale_history:
        data[question.pk] = cached[question.pk].data
    histories = histories_compute(stale_passages + stale_history)
    rows = [
        _row(
            question,
            data[question.pk],
            histories[question.pk],
            (
                sel.passages_stamp(question, documents[question.topic_id]),
                sel.history_stamp(question),
            ),
        )
        for question in stale_passages + stale_history
    ]
    _store(rows)
    for row in rows:
        views[row.question_id] = sel.card_view(row.question, row)
    return views


def evidence_card_get(*, question: Question) -> sel.CardView:
    """One question's card (computed and stored when missing or stale)."""
    return evidence_cards_get(questions=[question])[question.pk]


@dataclass
class TopicCardsReport:
    computed: int = 0
    needs_review: int = 0


def topic_cards_compute(
    *,
    topic: Topic,
    missing_only: bool = True,
    on_progress: Callable[[int, int], None] | None = None,
) -> TopicCardsReport:
    """Cards for the live questions of the topic whose card is missing or
    stale (every one with `missing_only` off), in batches: the command's
    path, with no time budget and no lock (see `topic_cards_warm`)."""
    if missing_only:
        ids = sel.questions_cards_due(topic_id=topic.pk)
    else:
        ids = sel.topic_question_ids(topic=topic)
    report = TopicCardsReport()
    for start in range(0, len(ids), BATCH):
        batch = sel.topic_questions(topic=topic, ids=ids[start : start + BATCH])
        cards = evidence_cards_get(questions=batch)
        report.computed += len(batch)
        report.needs_review += sum(c.needs_review for c in cards.values())
        if on_progress:
            on_progress(report.computed, len(ids))
    return report


# -- computed ahead, in the background ------------------------------------------

# A run stops after this share of the task timeout, less its slowest batch,
# and enqueues the rest: a bank of thousands of questions takes minutes.
WARM_BUDGET_SHARE = 0.5
# Listing the due questions again after a pass picks up what changed while
# it ran (a trigger whose run skipped for the lock); bounded, so nothing
# keeps a worker forever: what is still due then goes to the next run.
WARM_PASSES = 3


@dataclass
class CardsWarmReport:
    computed: int = 0
    skipped: bool = False  # another run held the lock
    continued: bool = False  # the budget ran out; a next run was enqueued


def cards_lock_name(topic_id: int) -> str:
    return f"evidence.cards:{topic_id}"


def warm_budget_s() -> float:
    return float(settings.Q_CLUSTER["timeout"]) * WARM_BUDGET_SHARE


def _warm(
    topic: Topic,
    due: Callable[[], list[int]],
    *,
    budget_s: float,
    clock: Callable[[], float],
) -> tuple[int, bool]:
    """Compute the due cards a batch at a time until none is left or the
    budget would run out before the next batch ends: (computed, whether some
    are left). A batch is computed by `evidence_cards_get`, which reads the
    cache again first, so a card another run made meanwhile is not redone."""
    deadline = clock() + budget_s
    slowest = 0.0
    computed = 0
    for _ in range(WARM_PASSES):
        ids = due()
        if not ids:
            return computed, False
        for start in range(0, len(ids), BATCH):
            began = clock()
            if computed and began + slowest > deadline:
                return computed, True
            batch = sel.topic_questions(topic=topic, ids=ids[start : start + BATCH])
            evidence_cards_get(questions=batch)
            computed += len(batch)
            slowest = max(slowest, clock() - began)
    # Changes kept coming (six statutes uploaded one after another): their
    # triggers' runs skipped for this run's lock, so the next run is ours.
    return computed, bool(due())


def topic_cards_warm(
    *,
    topic: Topic,
    budget_s: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> CardsWarmReport:
    """The topic's missing and stale cards, computed ahead so that learners
    get the cached path (the task that every trigger enqueues).

    One run per topic at a time: a run that finds the topic's lock taken
    skips (the running one lists the due questions again after each pass).
    A run that reaches its budget releases the lock, then enqueues the next
    run, which carries on where it stopped."""
    report = CardsWarmReport()
    with advisory_try_lock(cards_lock_name(topic.pk)) as taken:
        if not taken:
            report.skipped = True
            return report
        report.computed, report.continued = _warm(
            topic,
            lambda: sel.questions_cards_due(topic_id=topic.pk),
            budget_s=warm_budget_s() if budget_s is None else budget_s,
            clock=clock,
        )
    if report.continued:  # after the unlock, or the next run would skip
        topic_cards_compute_enqueue(topic=topic)
    return report


def session_cards_warm(
    *,
    session: QuizSession,
    budget_s: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> CardsWarmReport:
    """The missing and stale cards of a session's questions, the pages its
    learner is about to see. It takes no topic lock, so a long bank run does
    not hold it up; a card made by both at once is computed twice at most
    (each batch reads the cache first). What the budget leaves goes to the
    topic's run."""
    return questions_cards_warm(
        topic=session.topic,
        question_ids=session.question_ids,
        budget_s=budget_s,
        clock=clock,
    )


def questions_cards_warm(
    *,
    topic: Topic,
    question_ids: Sequence[int],
    budget_s: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> CardsWarmReport:
    """The missing and stale cards of these questions of the topic (a
    session's, see `session_cards_warm`), with no topic lock; what the budget
    leaves goes to the topic's run."""
    report = CardsWarmReport()
    wanted = list(question_ids)
    report.computed, report.continued = _warm(
        topic,
        lambda: sel.questions_cards_due(topic_id=topic.pk, question_ids=wanted),
        budget_s=warm_budget_s() if budget_s is None else budget_s,
        clock=clock,
    )
    if report.continued:
        topic_cards_compute_enqueue(topic=topic)
    return report


def _enqueue_on_commit(task: str, argument: int) -> None:
    def enqueue() -> None:
        try:
            async_task(task, argument)
        except Exception:  # a page computes a missing card on its first view
            logger.exception("could not enqueue %s(%s)", task, argument)

    transaction.on_commit(enqueue)


def cards_outdated_refresh() -> list[int]:
    """After an upgrade that changed the check, every card is stale: the run
    of each topic holding one is enqueued, so the cards are computed ahead
    again rather than on each first view, and 정답 확인 필요 (which lists
    fresh cards only) is complete again without the owner's button.
    (Schedule, hourly and right after every migrate.) Returns the topics."""
    topic_ids = sel.topics_with_outdated_cards()
    topic_cards_compute_enqueue_ids(topic_ids=topic_ids)
    return topic_ids


def topic_cards_compute_enqueue(*, topic: Topic) -> None:
    """The topic's missing and stale cards, in the background, on commit
    (best effort: a page computes a card it does not find)."""
    topic_cards_compute_enqueue_ids(topic_ids=[topic.pk])


def topic_cards_compute_enqueue_ids(*, topic_ids: Iterable[int]) -> None:
    for topic_id in sorted(set(topic_ids)):
        _enqueue_on_commit(TOPIC_CARDS_TASK, topic_id)


def session_cards_compute_enqueue(*, session: QuizSession) -> None:
    """A new session's missing and stale cards, in the background, once the
    session is committed: in the transaction that creates it, the task's row
    is written with it (study.jobs.queue), one commit instead of two."""
    task_after_commit(SESSION_CARDS_TASK, session.pk)
