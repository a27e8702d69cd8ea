"""The tables every answer writes keep no index they do not need.

Each index is one more entry written per inserted row, and an UPDATE that
changes an indexed column writes a new entry in every index of the table
instead of a heap-only (HOT) tuple. The answer path inserts an attempt and
moves its session along (answered_count, last_activity_at) on every answer;
a mock's submit and the progress rebuild upsert progress rows.
"""

from __future__ import annotations

import pytest
from django.db import connection

from study.models import Attempt, QuestionProgress, QuizSession

pytestmark = pytest.mark.django_db

WRITTEN_ON_EVERY_ANSWER = (Attempt, QuizSession, QuestionProgress)


def _indexes(table: str) -> list[tuple[str, list[str], bool, bool]]:
    """(name, key columns in order, unique, partial) of the table's indexes."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, i.indisunique, i.indpred IS NOT NULL,
                   array(SELECT a.attname
                         FROM unnest(i.indkey) WITH ORDINALITY k(attnum, n)
                         JOIN pg_attribute a
                           ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                         ORDER BY k.n)
            FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            WHERE i.indrelid = %s::regclass
            """,
            [table],
        )
        return [(name, list(cols), uniq, part) for name, uniq, part, cols in cursor]


@pytest.mark.parametrize("model", WRITTEN_ON_EVERY_ANSWER, ids=lambda m: m.__name__)
def test_no_plain_index_is_the_leading_part_of_another(model):
    indexes = _indexes(model._meta.db_table)
    redundant = [
        (name, other)
        for name, cols, unique, partial in indexes
        if not unique and not partial
        for other, other_cols, _u, other_partial in indexes
        if other != name and not other_partial and other_cols[: len(cols)] == cols
    ]
    assert redundant == []


def test_an_answer_changes_no_indexed_column_of_its_session():
    """answered_count and last_activity_at move on every answer: indexed, they
    would make each answer's UPDATE write into every index of the table."""
    indexes = _indexes("study_quizsession")
    indexed = {col for _name, cols, _unique, _partial in indexes for col in cols}
    assert {"answered_count", "last_activity_at"} & indexed == set()


def test_the_sessions_leave_room_for_their_new_versions():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reloptions FROM pg_class WHERE oid = 'study_quizsession'::regclass"
        )
        (options,) = cursor.fetchone()
    assert "fillfactor=80" in (options or [])
