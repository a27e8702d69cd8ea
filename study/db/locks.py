"""PostgreSQL advisory locks.

Per-user locks for check-then-write rules (quotas): held until the
transaction ends, so that of two uploads at once the second reads the quota
after the first has committed (or rolled back). Named work locks for
background work that must not run twice at once (a topic's 근거 카드): the
second taker is told at once and skips."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from django.db import DatabaseError, connection, transaction

LOCK_NAMESPACE = zlib.crc32(b"gichul.user_quota") & 0x7FFFFFFF
WORK_NAMESPACE = zlib.crc32(b"gichul.work") & 0x7FFFFFFF


def user_quota_lock(*, user_id: int, quota: str) -> None:
    """Hold this user's lock on `quota` ("documents", "figures", "imports")
    until the current transaction ends. Must be called inside one."""
    if not connection.in_atomic_block:
        raise transaction.TransactionManagementError(
            "user_quota_lock needs a transaction to hold the lock"
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
            [LOCK_NAMESPACE, f"{quota}:{user_id}"],
        )


@contextmanager
def advisory_try_lock(name: str) -> Iterator[bool]:
    """Try to take the session advisory lock `name` for the block; yields
    whether it was taken (False: someone else holds it, do not wait).

    Session-level, on Django's connection: it outlives the transactions of
    the block (work commits batch by batch) and is freed at the end of the
    block, or by PostgreSQL when the connection dies with its worker."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_try_advisory_lock(%s, hashtext(%s))", [WORK_NAMESPACE, name]
        )
        row = cursor.fetchone()
    taken = bool(row and row[0])
    try:
        yield taken
    finally:
        if taken:
            with suppress(DatabaseError), connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_unlock(%s, hashtext(%s))",
                    [WORK_NAMESPACE, name],
                )
