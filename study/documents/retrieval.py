"""Hybrid retrieval: vector similarity + trigram match, fused by reciprocal rank."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
from django.conf import settings
from django.contrib.postgres.search import TrigramWordSimilarity
from django.db import connection, transaction
from django.db.models import QuerySet
from pgvector.django import CosineDistance

from study.llm.embeddings import EmbeddingError, embedder_name, get_embedder
from study.models import (
    AIExplanationStatus,
    Document,
    DocumentChunk,
    DocumentStatus,
    EmbeddingStatus,
    Question,
)
from study.related.rules import embedding_text
from study.related.selectors import question_evidence_neighbours
from study.related.thresholds import evidence_threshold

logger = logging.getLogger(__name__)

RRF_K = 60
CANDIDATES = 30
DOCUMENT_EVIDENCE = 5
QUESTION_EVIDENCE = 3
# Relevance cut (calibrated on tests/study/data/statute_retrieval_labels.jsonl,
# see docs/documents.md): a chunk is evidence only when its trigram word
# similarity to the query or its cosine similarity to the query vector says it
# is related; otherwise a calculation question would get five random articles.
LEXICAL_QUERY_CHARS = 400
LEXICAL_MIN = 0.25
# Below this trigram word similarity a chunk is no lexical candidate at all.
LEXICAL_FLOOR = 0.1
VECTOR_MIN = 0.915
# The lexical leg computes word_similarity for every chunk of the topic's
# documents (4,400 at full benchmark scale), and pg_trgm extracts a chunk's
# trigrams anew for every query (~75 us a chunk of Korean text, most of the
# card's time). No trigram index skips chunks on the benchmark's text (75-95 %
# of a topic's chunks pass an index's bound even at the 30th best
# similarity; on the real statutes about a third pass at the floor, see
# docs/benchmarks.md). The planner costs word_similarity as a cheap operator
# and scans serially; these settings, local to one search, let it split the
# chunks between parallel workers (a Parallel Index Scan on the chunks'
# document index, or a Parallel Bitmap Heap Scan when the topic holds most
# of the table): the same rows and similarities, sooner while a core is free
# (full scale, load 5: 701 -> 440 ms median), no faster when all are busy.
# The server's max_parallel_workers_per_gather still caps the workers; with
# none free the backend scans alone, as before.
LEXICAL_PLANNER = {
    "parallel_setup_cost": "0",
    "parallel_tuple_cost": "0",
    "min_parallel_index_scan_size": "0",
    "min_parallel_table_scan_size": "0",
}
VECTOR_PLANNER = {
    # An HNSW scan returns the nearest chunks of *all* topics and the topic
    # filter is applied afterwards; iterative scanning (pgvector >= 0.8)
    # keeps searching until enough rows pass it. Older pgvector ignores it.
    "hnsw.iterative_scan": "relaxed_order",
    "hnsw.ef_search": "100",
}
# An annex is named when the query covers this much of its title's trigrams.
# Calibrated on the labelled set: 0.75 names the right 별표 for 3 of the 7
# annex questions and adds a short note to 2 of 65 article questions.
ANNEX_MIN = 0.75
# Stem endings that every question shares, and the name of the law every law
# question starts with; they only add noise to lexical match.
_GENERIC = re.compile(
    r"(다음\s*중|옳은\s*것은|옳지\s*않은\s*것은|틀린\s*것은|아닌\s*것은|해당하지\s*않는\s*것은|"
    r"해당되지\s*않는\s*것은|해당하는\s*것은|거리가\s*먼\s*것은|가장\s*적절한\s*것은|"
    r"포함되지\s*않는\s*것은|무엇인가|\?|"
    r"산업안전보건법령?(?:상|에\s*따라|에\s*따른|에서)?|산업안전보건기준에\s*관한\s*규칙(?:상|에\s*따른|에서)?|"
    r"법령(?:상|에\s*따라|에\s*따른)|\(단,[^)]*\))"
)


@dataclass
class Evidence:
    kind: str  # "document" | "question"
    ref: str  # stable id: "doc:12#3" or "q:45"
    title: str  # what the learner and the model see: the citation
    text: str
    score: float = 0.0  # relevance: max(lexical, vector) similarity
    meta: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "ref": self.ref,
            "title": self.title,
            "text": self.text,
        }


def chunk_citation(document_title: str, citation: str) -> str:
    """ "산업안전보건기준에 관한 규칙 제42조(추락의 방지) ②"; a heading path
    reads "교재 › 2장 › 절"."""
    if not citation:
        return document_title
    if citation.startswith("제") or citation.startswith("부칙"):
        return f"{document_title} {citation}"
    return f"{document_title} › {citation}"


@dataclass(frozen=True)
class DocumentFilters:
    material_type: str = ""
    jurisdiction: str = ""
    year: int | None = None

    def apply(self, rows: QuerySet, prefix: str = "document__") -> QuerySet:
        """Chunks (or, with prefix "", documents) the filters allow."""
        if self.material_type:
            rows = rows.filter(**{f"{prefix}material_type": self.material_type})
        if self.jurisdiction:
            rows = rows.filter(**{f"{prefix}jurisdiction": self.jurisdiction})
        if self.year:
            rows = rows.filter(**{f"{prefix}year": self.year})
        return rows


def lexical_query(text: str) -> str:
    return re.sub(r"\s+", " ", _GENERIC.sub(" ", text)).strip()[:LEXICAL_QUERY_CHARS]


def rrf_fuse(rankings: Iterable[list[str]]) -> dict[str, float]:
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking):
            scores[key] = scores.get(key, 0.0) + 1.0 / (RRF_K + rank + 1)
    return scores


def _in_topics(
    rows: QuerySet,
    topic_ids: list[int],
    filters: DocumentFilters,
    document_ids: list[int] | None,
    prefix: str,
) -> QuerySet:
    """Rows (documents, or with prefix "document__" their chunks) of the
    topics' ready documents that the filters allow: of the versions in force
    today (a statute's older versions are left out), or of the given
    documents (the versions in force on another date)."""
    rows = rows.filter(
        **{f"{prefix}topics__in": topic_ids, f"{prefix}status": DocumentStatus.READY}
    )
    if document_ids is None:
        rows = rows.filter(**{f"{prefix}in_force": True})
    else:
        rows = rows.filter(**{f"{prefix}pk__in": document_ids})
    return filters.apply(rows, prefix=prefix)


def topic_chunks(
    topic_ids: list[int],
    filters: DocumentFilters,
    *,
    document_ids: list[int] | None = None,
) -> QuerySet:
    """Chunks of the topics' documents (see _in_topics)."""
    return _in_topics(
        DocumentChunk.objects.all(), topic_ids, filters, document_ids, "document__"
    )


def topic_document_ids(
    topic_ids: list[int],
    filters: DocumentFilters,
    *,
    document_ids: list[int] | None = None,
) -> list[int]:
    """The documents whose chunks `topic_chunks` gives (one query)."""
    documents = _in_topics(Document.objects.all(), topic_ids, filters, document_ids, "")
    return sorted(set(documents.values_list("pk", flat=True)))


def search_chunks(
    *,
    topic_ids: list[int],
    query: str,
    k: int = DOCUMENT_EVIDENCE,
    filters: DocumentFilters | None = None,
    query_vector: list[float] | None = None,
    cut: bool = True,
    document_ids: list[int] | None = None,
) -> list[Evidence]:
    """Top-k chunks of the topics' documents for one query, queries run in turn.

    Vector and trigram rankings are fused by reciprocal rank; with `cut`,
    chunks that neither ranking finds similar enough are dropped. With
    `document_ids` (versions no longer in force carry no vectors) the search
    is lexical unless a vector is passed.
    """
    filters = filters or DocumentFilters()
    base = topic_chunks(topic_ids, filters, document_ids=document_ids)
    rankings = []
    vector_sims: dict[str, float] = {}
    lexical_sims: dict[str, float] = {}
    if query_vector is None and document_ids is None:
        try:
            query_vector = get_embedder().embed_queries([query])[0]
        except EmbeddingError:
            logger.warning("query embedding failed; lexical retrieval only")
    if query_vector is not None:
        vector_sims = vector_ranking(base.filter(embedding__isnull=False), query_vector)
        rankings.append(list(vector_sims))
    lexical = lexical_query(query)
    if lexical:
        documents = topic_document_ids(topic_ids, filters, document_ids=document_ids)
        lexical_sims = lexical_ranking(documents, lexical)
        rankings.append(list(lexical_sims))
    fused = rrf_fuse(rankings)
    ranked = sorted(fused, key=lambda ref: fused[ref], reverse=True)[:CANDIDATES]
    if cut:
        ranked = [
            key
            for key in ranked
            if lexical_sims.get(key, 0.0) >= LEXICAL_MIN
            or vector_sims.get(key, 0.0) >= VECTOR_MIN
        ]
    chunks = {
        str(c.pk): c
        for c in DocumentChunk.objects.filter(pk__in=ranked).select_related("document")
    }
    evidence = []
    for key in ranked:
        chunk = chunks.get(key)
        if chunk is None:
            continue
        lex, vec = lexical_sims.get(key, 0.0), vector_sims.get(key, 0.0)
        evidence.append(
            Evidence(
                kind="document",
                ref=f"doc:{chunk.document_id}#{chunk.ordinal}",
                title=chunk_citation(chunk.document.title, chunk.citation),
                text=chunk.text,
                score=round(max(lex, vec), 4),
                meta={
                    "document_id": chunk.document_id,
                    "document": chunk.document.title,
                    "citation": chunk.citation,
                    "section": chunk.section,
                    "article": chunk.article,
                    "lexical": round(lex, 4),
                    "vector": round(vec, 4),
                    "fused": round(fused[key], 5),
                },
            )
        )
    return rerank(query, evidence)[:k]


@contextmanager
def _planner(values: dict[str, str]) -> Iterator[None]:
    """Planner settings for the read queries inside the block (one
    statement). The block only reads and is rolled back at its end, which
    ends the settings too: set_config(…, true) would otherwise last until the
    end of a caller's transaction."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT " + ", ".join("set_config(%s, %s, true)" for _ in values),
            [part for item in values.items() for part in item],
        )
        yield
        transaction.set_rollback(True)


def vector_ranking(chunks: QuerySet, vector: list[float]) -> dict[str, float]:
    """Nearest chunks among `chunks` (already filtered to the topic), with
    their cosine similarity, nearest first (see VECTOR_PLANNER)."""
    with _planner(VECTOR_PLANNER):
        ordered = chunks.annotate(dist=CosineDistance("embedding", vector)).order_by(
            "dist"
        )
        rows = list(ordered.values_list("id", "dist")[:CANDIDATES])
    return {str(pk): 1.0 - float(dist) for pk, dist in rows}


def lexical_ranking(document_ids: list[int], lexical: str) -> dict[str, float]:
    """The chunks of the documents most like the lexical query by trigram
    word similarity, above LEXICAL_FLOOR, best first (ties by id), scanned
    by parallel workers (see LEXICAL_PLANNER).

    The documents are given as ids, not as a join: with a list the planner
    knows how many chunks it scans and picks the parallel scan of the chunks
    (a join splits the work by document, unevenly). The floor is applied to
    the top rows here, not in SQL: a WHERE on the annotation makes
    PostgreSQL compute word_similarity twice per chunk (filter and select
    list), and no chunk above the floor is missed this way (they all sort
    before the chunks below it)."""
    if not document_ids:
        return {}
    with _planner(LEXICAL_PLANNER):
        rows = list(lexical_rows(document_ids, lexical))
    return {str(pk): sim for pk, sim in rows if sim > LEXICAL_FLOOR}


def trigram_words(lexical: str) -> str:
    """The query with each repeated word once: word_similarity reads only the
    set of the query's trigrams, and pg_trgm's words never span a space, so
    the similarities are the same; PostgreSQL extracts the query's trigrams
    again for every chunk, and a stem and its choices repeat words."""
    return " ".join(dict.fromkeys(lexical.split()))


def lexical_rows(document_ids: list[int], lexical: str) -> QuerySet:
    """(id, similarity) of the top CANDIDATES chunks of the documents."""
    return (
        DocumentChunk.objects.filter(document_id__in=document_ids)
        .annotate(sim=TrigramWordSimilarity(trigram_words(lexical), "text"))
        .order_by("-sim", "id")
        .values_list("id", "sim")[:CANDIDATES]
    )


def rerank(query: str, evidence: list[Evidence]) -> list[Evidence]:
    """Optional cross-encoder reranking over HTTP /v1/rerank; order kept on failure."""
    if not settings.RERANK_BASE_URL or len(evidence) < 2:
        return evidence
    try:
        response = httpx.post(
            settings.RERANK_BASE_URL.rstrip("/") + "/rerank",
            json={
                "model": settings.RERANK_MODEL or "reranker",
                "query": query,
                "documents": [e.text for e in evidence],
            },
            timeout=30,
        )
        response.raise_for_status()
        results = response.json()["results"]
        order = sorted(results, key=lambda r: r["relevance_score"], reverse=True)
        return [evidence[r["index"]] for r in order if 0 <= r["index"] < len(evidence)]
    except (httpx.HTTPError, KeyError, ValueError, TypeError, IndexError):
        logger.warning("reranker failed; keeping fused order", exc_info=True)
        return evidence


def question_query_text(question: Question) -> str:
    """Stem, keyed answer first, then the other choices: in a "which is NOT"
    question the other three choices are what the deciding article says."""
    answer = question.choices[question.correct_choice - 1]
    others = [
        c for i, c in enumerate(question.choices, 1) if i != question.correct_choice
    ]
    return "\n".join([question.stem, answer, *others])


def similar_questions(
    *, question: Question, k: int = QUESTION_EVIDENCE
) -> list[Evidence]:
    """Other questions of the topic as evidence: its cached repeats, then its
    similars as close as the embedder's evidence threshold; else the nearest
    questions of its subject, any round, as close (the related-questions
    analysis leaves out the question's own round). A question of another
    chapter is no evidence: a trigram match on the stems' common words
    (작업을 하는 경우에 … 위험을 방지하기 위한) brought the 화물자동차 question
    into the 산업용 로봇 question's prompt (docs/related.md)."""
    model = embedder_name()
    minimum = evidence_threshold(model)
    related = [r["id"] for r in question.related_repeat] + [
        r["id"] for r in question.related_similar if r.get("similarity", 0.0) >= minimum
    ]
    if related:
        found = (
            Question.objects.alive()
            .filter(pk__in=related[: k * 2], topic_id=question.topic_id)
            .defer("embedding")
        )
        by_id = {q.pk: q for q in found}
        ordered = [by_id[i] for i in related if i in by_id][:k]
        if ordered:
            return [question_as_evidence(q) for q in ordered]
    vector = _question_vector(question, model)
    if vector is None:
        return []
    rows = question_evidence_neighbours(
        question=question, vector=vector, model=model, minimum=minimum, limit=k
    )
    return [question_as_evidence(q) for q in rows]


def _question_vector(question: Question, model: str) -> list[float] | None:
    """The question's embedding by `model`: stored, else computed now and not
    kept (an explanation may run before the background embedding lands);
    None when the embedder fails."""
    if (
        question.embedding_status == EmbeddingStatus.READY
        and question.embedding_model == model
        and question.embedding is not None
    ):
        return [float(x) for x in question.embedding]
    try:
        text = embedding_text(stem=question.stem, choices=question.choices)
        return get_embedder().embed_passages([text])[0]
    except EmbeddingError as exc:
        logger.warning(
            "similar questions: question %s not embedded: %s", question.pk, exc
        )
        return None


def question_as_evidence(q: Question) -> Evidence:
    """A question with its key (and explanation, when there is one) as evidence."""
    answer = q.choices[q.correct_choice - 1]
    text = f"문제: {q.stem}\n정답: {answer}"
    if q.ai_explanation_status == AIExplanationStatus.READY and q.ai_explanation:
        text += f"\n해설: {q.ai_explanation}"
    elif q.explanation:
        text += f"\n해설: {q.explanation}"
    title = f"{q.round_label_site} {q.number}번" if q.has_round else "다른 문제"
    return Evidence(kind="question", ref=f"q:{q.pk}", title=title, text=text)


def document_evidence(
    *, question: Question, cut: bool = True, k: int = DOCUMENT_EVIDENCE
) -> list[Evidence]:
    """The topic's document chunks that bear on a question (stem + keyed answer)."""
    return search_chunks(
        topic_ids=[question.topic_id],
        query=question_query_text(question),
        cut=cut,
        k=k,
    )


def annex_notes(*, topic_ids: list[int], query: str, limit: int = 2) -> list[Evidence]:
    """Annexes (별표) listed in a document's front matter without a body, whose
    title the query covers: evidence says "별표 3 (…) — 본문 없음" instead of
    pretending the answer is in the text."""
    lexical = lexical_query(query)
    if not lexical:
        return []
    sql = """
        SELECT d.id, d.title, a->>'label', a->>'title', word_similarity(
            regexp_replace(a->>'title', '\\([^)]*\\)\\s*$', ''), %s) AS sim
        FROM study_document d
        JOIN study_document_topics dt ON dt.document_id = d.id
        CROSS JOIN LATERAL jsonb_array_elements(d.annexes) a
        WHERE dt.topic_id = ANY(%s) AND d.status = %s AND d.in_force
          AND jsonb_typeof(d.annexes) = 'array'
          AND a->>'label' LIKE '별표%%'
          AND char_length(a->>'title') >= 6 AND a->>'title' NOT LIKE '삭제%%'
        ORDER BY sim DESC, d.id LIMIT %s
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [lexical, topic_ids, DocumentStatus.READY, limit])
        rows = cursor.fetchall()
    return [
        Evidence(
            kind="annex",
            ref=f"annex:{doc_id}:{label}",
            title=f"{doc_title} {label} ({title}) — 본문 없음",
            text=f"{label} ({title})은(는) 목록에만 있고 본문은 자료에 없습니다.",
            score=round(float(sim), 4),
            meta={"document_id": doc_id, "document": doc_title},
        )
        for doc_id, doc_title, label, title, sim in rows
        if sim >= ANNEX_MIN and label and title
    ]


def explanation_evidence(*, question: Question) -> list[Evidence]:
    """Evidence for explaining a question: top document chunks, annexes it
    rests on that have no body, and related questions."""
    return (
        document_evidence(question=question)
        + annex_notes(
            topic_ids=[question.topic_id], query=question_query_text(question)
        )
        + similar_questions(question=question)
    )
