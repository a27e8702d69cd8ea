"""A priority gate that caps concurrent LLM calls across all processes.

The slots are PostgreSQL session-level advisory locks, so every web process
and worker on every machine sharing the database sees the same gate. Each
gate use opens its own connection: a process that dies loses its connection
and with it its slot, and Django's connection and transactions are never
touched.

Foreground callers (a learner waiting on a page) go before background work:
while one waits it holds the "foreground waiting" lock in shared mode, and a
background caller starts only if it can take that lock exclusively.
"""

from __future__ import annotations

import enum
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import psycopg
from django.conf import settings

from study.llm.client import LLMError

# First key of every gate lock; a fixed hash keeps clear of other users of
# two-key advisory locks in the same database.
GATE_NAMESPACE = zlib.crc32(b"gichul.llm_gate") & 0x7FFFFFFF
FG_WAITING_KEY = -1  # slots are 0 .. LLM_CONCURRENCY - 1
FOREGROUND_POLL_S = 0.05
BACKGROUND_POLL_S = 0.05
CONNECT_TIMEOUT_S = 10
# Server-side settings for the gate's session: idle sessions holding a slot
# must not be cut, and a vanished machine's slot should free in about a
# minute rather than after the kernel's two-hour keepalive default.
SESSION_OPTIONS = (
    "-c idle_session_timeout=0 -c tcp_keepalives_idle=30 "
    "-c tcp_keepalives_interval=10 -c tcp_keepalives_count=3"
)
LIBPQ_OPTIONS = ("sslmode", "sslrootcert", "sslcert", "sslkey", "passfile")


class Priority(enum.IntEnum):
    FOREGROUND = 0
    BACKGROUND = 1


class GateTimeout(LLMError):
    code = "gate_timeout"


@contextmanager
def llm_gate(
    priority: Priority, *, wait_timeout_s: float | None = None
) -> Iterator[int]:
    """Hold one of the LLM_CONCURRENCY slots; yields the slot number."""
    if wait_timeout_s is None:
        wait_timeout_s = settings.LLM_GATE_WAIT_S
    deadline = time.monotonic() + wait_timeout_s
    # Closing the connection releases every lock it holds, whatever happened.
    with _gate_connection() as conn:
        if priority == Priority.FOREGROUND:
            slot = _acquire_foreground(conn, deadline)
        else:
            slot = _acquire_background(conn, deadline)
        try:
            yield slot
        finally:
            _release_slot(conn, slot)


def _gate_connection() -> psycopg.Connection:
    database = settings.DATABASES["default"]
    params = {
        "dbname": database["NAME"],
        "user": database.get("USER") or None,
        "password": database.get("PASSWORD") or None,
        "host": database.get("HOST") or None,
        "port": str(database["PORT"]) if database.get("PORT") else None,
    }
    options = database.get("OPTIONS", {})
    params.update({key: options[key] for key in LIBPQ_OPTIONS if key in options})
    return psycopg.connect(
        **{key: value for key, value in params.items() if value is not None},
        autocommit=True,
        connect_timeout=CONNECT_TIMEOUT_S,
        application_name="gichul-llm-gate",
        options=f"{options.get('options', '')} {SESSION_OPTIONS}".strip(),
    )


def _slot_count() -> int:
    return max(1, int(settings.LLM_CONCURRENCY))


def _acquire_foreground(conn: psycopg.Connection, deadline: float) -> int:
    slot = _try_any_slot(conn)
    if slot is not None:
        return slot
    _lock(conn, "pg_advisory_lock_shared", FG_WAITING_KEY)
    try:
        while True:
            _sleep_until_next_poll(deadline, FOREGROUND_POLL_S)
            slot = _try_any_slot(conn)
            if slot is not None:
                return slot
    finally:
        _lock(conn, "pg_advisory_unlock_shared", FG_WAITING_KEY)


def _acquire_background(conn: psycopg.Connection, deadline: float) -> int:
    while True:
        if not _foreground_waiting(conn):
            slot = _try_any_slot(conn)
            # A foreground caller may have started waiting since the check.
            if slot is not None and not _foreground_waiting(conn):
                return slot
            if slot is not None:
                _release_slot(conn, slot)
        _sleep_until_next_poll(deadline, BACKGROUND_POLL_S)


def _foreground_waiting(conn: psycopg.Connection) -> bool:
    if not _lock(conn, "pg_try_advisory_lock", FG_WAITING_KEY):
        return True
    _lock(conn, "pg_advisory_unlock", FG_WAITING_KEY)
    return False


def _try_any_slot(conn: psycopg.Connection) -> int | None:
    for slot in range(_slot_count()):
        if _lock(conn, "pg_try_advisory_lock", slot):
            return slot
    return None


def _release_slot(conn: psycopg.Connection, slot: int) -> None:
    # A broken connection has already dropped the lock; its error must not
    # hide the exception that may be on its way out of the gate.
    with suppress(psycopg.Error):
        _lock(conn, "pg_advisory_unlock", slot)


def _lock(conn: psycopg.Connection, function: str, key: int) -> bool | None:
    # function is one of this module's literals, never user input.
    row = conn.execute(
        f"SELECT {function}(%s::int4, %s::int4)", [GATE_NAMESPACE, key]
    ).fetchone()
    return row[0] if row else None


def _sleep_until_next_poll(deadline: float, poll_s: float) -> None:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise GateTimeout("waited too long for a free LLM slot")
    time.sleep(min(poll_s, remaining))
