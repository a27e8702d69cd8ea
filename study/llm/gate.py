"""A priority gate that caps concurrent LLM calls across all processes.

The slots are PostgreSQL session-level advisory locks, so every web process
and worker on every machine sharing the database sees the same gate. Each
gate use opens its own connection: a process that dies loses its connection
and with it its slot, and Django's connection and transactions are never
touched.

Foreground callers (a learner waiting on a page) go before background work:
while one waits it holds the "foreground waiting" lock in shared mode, and a
background caller starts only if it can take that lock exclusively.

The job runner takes a slot before it claims a job and shares it with the
job's own LLM call, which therefore never waits for a second slot.

A call that timed out on our side may still run on the server. The caller
says so with ``gate_hold_after_timeout()``; the slot is then kept, by a
background thread that owns the gate connection, for LLM_TIMEOUT_OVERRUN_S
more, so the server never sees more than LLM_CONCURRENCY requests from us
(docs/llm-time-model.md). Only a process that dies inside that window frees
the slot early.
"""

from __future__ import annotations

import contextvars
import enum
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

import psycopg
from django.conf import settings
from django.db import connections

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
# Django's own connection parameters that mean nothing to a bare psycopg
# connection (they configure Django's cursors and adapters).
DJANGO_ONLY_PARAMS = ("cursor_factory", "context", "prepare_threshold")


class Priority(enum.IntEnum):
    FOREGROUND = 0
    BACKGROUND = 1


class GateTimeout(LLMError):
    code = "gate_timeout"


@dataclass
class _Hold:
    slot: int
    shared: bool  # nested gate uses in this thread reuse the slot
    keep_until: float = 0.0  # monotonic; 0: release at once


_held: contextvars.ContextVar[_Hold | None] = contextvars.ContextVar(
    "llm_gate_hold", default=None
)


@contextmanager
def llm_gate(
    priority: Priority,
    *,
    wait_timeout_s: float | None = None,
    share_with_callees: bool = False,
) -> Iterator[int]:
    """Hold one of the LLM_CONCURRENCY slots; yields the slot number.

    With share_with_callees, gate uses nested in this thread (the job's LLM
    call inside the runner's slot) reuse this slot instead of taking another."""
    held = _held.get()
    if held is not None and held.shared:
        yield held.slot
        return
    if wait_timeout_s is None:
        wait_timeout_s = settings.LLM_GATE_WAIT_S
    deadline = time.monotonic() + wait_timeout_s
    conn = own_connection(application_name="gichul-llm-gate")
    hold = None
    try:
        if priority == Priority.FOREGROUND:
            slot = _acquire_foreground(conn, deadline)
        else:
            slot = _acquire_background(conn, deadline)
        hold = _Hold(slot, shared=share_with_callees)
        token = _held.set(hold)
        try:
            yield slot
        finally:
            _held.reset(token)
    finally:
        if hold is not None and hold.keep_until > time.monotonic():
            _release_later(conn, hold)
        else:
            # Closing the connection releases every lock it holds.
            with suppress(psycopg.Error):
                conn.close()


def gate_hold_after_timeout() -> None:
    """The call in this thread's slot timed out but may still run on the
    server: keep the slot LLM_TIMEOUT_OVERRUN_S longer once the caller leaves."""
    hold = _held.get()
    if hold is not None:
        hold.keep_until = time.monotonic() + float(settings.LLM_TIMEOUT_OVERRUN_S)


def _release_later(conn: psycopg.Connection, hold: _Hold) -> None:
    def release() -> None:
        time.sleep(max(0.0, hold.keep_until - time.monotonic()))
        with suppress(psycopg.Error):
            conn.close()

    threading.Thread(target=release, name="llm-gate-overrun", daemon=True).start()


def own_connection(*, application_name: str) -> psycopg.Connection:
    """A connection of its own, made from Django's own connection parameters
    (so OPTIONS such as ``?host=/socket/dir`` in DATABASE_URL apply here too):
    session locks and LISTEN on it never touch Django's connection."""
    params = connections["default"].get_connection_params()
    for key in DJANGO_ONLY_PARAMS:
        params.pop(key, None)
    params["options"] = f"{params.get('options', '')} {SESSION_OPTIONS}".strip()
    params.setdefault("connect_timeout", CONNECT_TIMEOUT_S)
    return psycopg.connect(**params, autocommit=True, application_name=application_name)


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
