"""The lexical leg of retrieval on real material: the six shared statutes and
real exam questions. Its query was rewritten for speed (the topic's documents
by id, the chunks scanned by parallel workers, issue 30); it must find
exactly what the join it replaced found: the same chunks with the same
similarities in the same order."""

import csv

import pytest
from django.contrib.postgres.search import TrigramWordSimilarity
from django.core.management import call_command
from django.db import connection

from study.documents.retrieval import (
    CANDIDATES,
    LEXICAL_FLOOR,
    LEXICAL_PLANNER,
    DocumentFilters,
    _planner,
    lexical_query,
    lexical_ranking,
    lexical_rows,
    question_query_text,
    topic_chunks,
    topic_document_ids,
)
from study.llm.embeddings import get_embedder
from study.models import DocumentChunk, Question, Topic
from tests.shared_data import SHARED_DOCUMENTS, SHARED_EXAMS, needs_shared

SAMPLE = 100


def joined_ranking(topic_ids: list[int], lexical: str) -> list[tuple[int, float]]:
    """The lexical leg as it was before issue 30: the topic's chunks through
    the document join, serially."""
    rows = (
        topic_chunks(topic_ids, DocumentFilters())
        .annotate(sim=TrigramWordSimilarity(lexical, "text"))
        .order_by("-sim", "id")
        .values_list("id", "sim")[:CANDIDATES]
    )
    return [(pk, sim) for pk, sim in rows if sim > LEXICAL_FLOOR]


def real_questions() -> list[Question]:
    """Every n-th question of the shared rounds (unsaved: only the text the
    query is made of matters here)."""
    rows = []
    for path in sorted(SHARED_EXAMS.glob("ind-safety-*.csv")):
        with path.open(encoding="utf-8-sig") as handle:
            rows += list(csv.DictReader(handle))
    step = max(1, len(rows) // SAMPLE)
    return [
        Question(
            stem=row["Question"],
            choice_1=row["Option 1"],
            choice_2=row["Option 2"],
            choice_3=row["Option 3"],
            choice_4=row["Option 4"],
            correct_choice=int(row["Answer"]),
        )
        for row in rows[::step][:SAMPLE]
    ]


@pytest.fixture
def statutes(user, settings, tmp_path, fake_llm):
    """The six statutes in one topic; vectors from the fake server (for speed:
    this leg reads no vector)."""
    settings.MEDIA_ROOT = tmp_path
    settings.EMBEDDING_BASE_URL = fake_llm.base_url
    settings.EMBEDDING_MODEL = "fake-embedding"
    get_embedder.cache_clear()
    user.is_superuser = True
    user.save()
    documents = sorted(
        p for p in SHARED_DOCUMENTS.glob("*.md") if p.name != "README.md"
    )
    call_command(
        "add_documents",
        *map(str, documents),
        "--topic",
        "법령",
        "--owner",
        user.username,
        "--material-type",
        "law",
        verbosity=0,
    )
    with connection.cursor() as cursor:  # statistics, as autovacuum keeps them
        cursor.execute("ANALYZE study_documentchunk")
    yield Topic.objects.get(name="법령")
    get_embedder.cache_clear()


@needs_shared
@pytest.mark.django_db
def test_the_lexical_leg_finds_what_the_join_found_on_real_questions(statutes):
    topic_ids = [statutes.pk]
    documents = topic_document_ids(topic_ids, DocumentFilters())
    assert len(documents) == 6
    assert DocumentChunk.objects.filter(document_id__in=documents).count() > 1000
    questions = real_questions()
    assert len(questions) >= 100
    compared = []
    for question in questions:
        lexical = lexical_query(question_query_text(question))
        expected = joined_ranking(topic_ids, lexical)
        ranked = lexical_ranking(documents, lexical)
        assert [(int(pk), sim) for pk, sim in ranked.items()] == expected, lexical
        compared.append(len(expected))
    # the lists compared are real rankings, not empty ones: most questions
    # have chunks above the floor (84 of the 100), many the full 30
    assert sum(1 for n in compared if n) >= len(questions) * 0.75, compared
    assert sum(1 for n in compared if n == CANDIDATES) >= len(questions) / 4, compared


@needs_shared
@pytest.mark.django_db
def test_the_lexical_scan_is_split_between_workers_when_the_server_allows(statutes):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('max_parallel_workers_per_gather')")
        workers = int(cursor.fetchone()[0])
    documents = topic_document_ids([statutes.pk], DocumentFilters())
    rows = lexical_rows(documents, "안전난간 설치 기준")
    with _planner(LEXICAL_PLANNER):
        plan = rows.explain()
    assert ("Gather" in plan and "Parallel" in plan) == (workers > 0), plan
    # the settings end with the search, also inside a caller's transaction
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('parallel_setup_cost')")
        assert cursor.fetchone()[0] != "0"
