"""Bulk insert with PostgreSQL COPY: an order of magnitude faster than INSERT for
large imports, with Django's own field conversions (defaults, auto_now, JSON)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Field, Model


def copy_insert(model: type[Model], objects: Sequence[Model]) -> int:
    """Insert unsaved instances; primary keys are not set on them."""
    if not objects:
        return 0
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    sql = f"COPY {table} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for obj in objects:
            copy.write_row([_db_value(f, obj) for f in fields])
    return len(objects)


def _db_value(field: Field, obj: Model) -> Any:
    return field.get_db_prep_save(field.pre_save(obj, True), connection)
