"""Writing a topic's computed relations in bulk, in raw SQL.

One UPDATE … FROM unnest(…) per chunk: bulk_update's CASE per row and column
takes most of a large topic's time.
"""

from __future__ import annotations

import json
from datetime import datetime

from django.db import connection

from study.models import Question

WRITE_CHUNK = 2000
_SCALAR_FIELDS = (
    "repeat_count",
    "repeat_key_conflicts",
    "similar_count",
    "round_count",
    "related_grade",
)
_WRITE_RELATIONS = """
UPDATE {table} AS q SET
    related_repeat = v.repeat_list::jsonb,
    related_similar = v.similar_list::jsonb,
    repeat_count = v.repeat_count,
    repeat_key_conflicts = v.repeat_key_conflicts,
    similar_count = v.similar_count,
    round_count = v.round_count,
    related_grade = v.grade,
    related_computed_at = %s,
    related_threshold_version = %s
FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::int[], %s::int[], %s::int[],
            %s::int[], %s::text[]) AS v(id, repeat_list, similar_list, repeat_count,
                                        repeat_key_conflicts, similar_count,
                                        round_count, grade)
WHERE q.id = v.id
"""


def relations_write_bulk(
    updated: list[tuple[int, dict]], *, now: datetime, version: str
) -> None:
    """Store (question id, relation values) pairs, all computed at `now` under
    threshold `version`."""
    sql = _WRITE_RELATIONS.format(table=Question._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(updated), WRITE_CHUNK):
            chunk = updated[start : start + WRITE_CHUNK]
            columns = [
                [pk for pk, _ in chunk],
                [json.dumps(v["related_repeat"], ensure_ascii=False) for _, v in chunk],
                [
                    json.dumps(v["related_similar"], ensure_ascii=False)
                    for _, v in chunk
                ],
                *([v[name] for _, v in chunk] for name in _SCALAR_FIELDS),
            ]
            cursor.execute(sql, [now, version, *columns])  # type: ignore[list-item]  # lists of scalars
