"""Per-user locks for check-then-write rules (quotas): a PostgreSQL advisory
lock held until the transaction ends, so that of two uploads at once the
second reads the quota after the first has committed (or rolled back)."""

from __future__ import annotations

import zlib

from django.db import connection, transaction

LOCK_NAMESPACE = zlib.crc32(b"gichul.user_quota") & 0x7FFFFFFF


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
