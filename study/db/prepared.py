"""Prepared statements for the hottest raw statements."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from django.db import connection
from django.db.backends.utils import CursorWrapper


class _PreparingCursor(psycopg.Cursor):
    """Server-side binding, each statement prepared on its connection at its
    first run (Django's cursors bind on the client and never prepare). With
    the connection's prepare_threshold None (DB_PREPARED_STATEMENTS off) it
    prepares nothing."""

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        kwargs.setdefault("prepare", True)
        return super().execute(query, params, **kwargs)


@contextmanager
def prepared_cursor() -> Iterator[CursorWrapper]:
    """A cursor of Django's default connection whose statements PostgreSQL
    parses and plans once per connection, then runs from the plan (a
    statement of CTEs spent more time planned than executed).

    Wrapped as Django wraps its own cursors, so execute wrappers, query
    logging (CaptureQueriesContext) and error translation (IntegrityError)
    see it as any other query. Parameters are %s placeholders, bound on the
    server: each is typed from its Python value."""
    connection.ensure_connection()
    connection.validate_thread_sharing()
    # django-stubs type the wrappers' argument as a wrapper; it is the driver's
    raw: Any = _PreparingCursor(connection.connection)
    wrapped = (
        connection.make_debug_cursor(raw)
        if connection.queries_logged
        else connection.make_cursor(raw)
    )
    with wrapped as cursor:
        yield cursor
