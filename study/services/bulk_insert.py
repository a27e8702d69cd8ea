"""Many rows of one model in one INSERT … SELECT FROM unnest(…) statement.

One array per column, bound as one parameter each: a mock exam's 120
attempts and 120 progress rows are two statements whose parameters cost the
ORM nothing per value (bulk_create prepares every value of every row through
its field, about 3,000 calls for a mock). The values are the instances'
attributes as they are: what Django would store for them, since every column
written here is an integer, text, boolean, timestamp, uuid or JSON (sent as
its text, as JSONField stores it).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from typing import Any

from django.db import connection, models

# Fields whose Python values psycopg stores as Django would (JSON aside).
_AS_THEY_ARE = (
    models.IntegerField,
    models.CharField,
    models.TextField,
    models.BooleanField,
    models.DateTimeField,
    models.UUIDField,
    models.JSONField,
    models.ForeignKey,
)
_INSERT = """
INSERT INTO {table} ({columns})
SELECT * FROM unnest({arrays})
{conflict}
{returning}
"""


@cache
def unnest_insert_sql(
    model: type[models.Model],
    *,
    conflict: tuple[str, ...] = (),
    update: tuple[str, ...] = (),
    returning: bool = False,
) -> tuple[tuple[models.Field, ...], str]:
    """Every concrete column but the primary key (a field added later is
    written too), built once per model and shape. With `conflict` (the
    unique columns' field names), a conflicting row gets the `update` fields
    of the new one; `returning` returns the new primary keys in row order."""
    fields = tuple(
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.Field) and not f.primary_key
    )
    for field in fields:
        if not isinstance(field, _AS_THEY_ARE):  # a value Django would convert
            raise TypeError(f"{model.__name__}.{field.name}: not written as is")
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            # pre_save would set it; the attribute as it is would not be it
            raise TypeError(f"{model.__name__}.{field.name}: set on save")
    quote = connection.ops.quote_name
    assert model._meta.pk is not None

    def array(field: models.Field) -> str:
        if isinstance(field, models.JSONField):  # one JSON text per row
            return "%s::text[]::jsonb[]"
        return f"%s::{field.cast_db_type(connection)}[]"

    def column(name: str) -> str:
        field = model._meta.get_field(name)
        assert isinstance(field, models.Field)
        return quote(field.column or field.attname)

    on_conflict = ""
    if conflict:
        sets = ", ".join(f"{column(n)} = EXCLUDED.{column(n)}" for n in update)
        on_conflict = f"ON CONFLICT ({', '.join(column(n) for n in conflict)}) " + (
            f"DO UPDATE SET {sets}" if update else "DO NOTHING"
        )
    sql = _INSERT.format(
        table=quote(model._meta.db_table),
        columns=", ".join(quote(f.column or f.attname) for f in fields),
        arrays=", ".join(array(f) for f in fields),
        conflict=on_conflict,
        returning=f"RETURNING {column(model._meta.pk.name)}" if returning else "",
    )
    return fields, sql


def unnest_columns(
    fields: Sequence[models.Field], objs: Sequence[models.Model]
) -> list[list[Any]]:
    """The statement's parameters: one list per field, one value per object."""
    columns = []
    for field in fields:
        values = [getattr(obj, field.attname) for obj in objs]
        if isinstance(field, models.JSONField):
            values = [None if v is None else json.dumps(v) for v in values]
        columns.append(values)
    return columns
