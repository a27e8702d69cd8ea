"""The benchmark's own databases on the working PostgreSQL server.

A built dataset lives in a template database (`gichul_bench_<scale>_tpl`)
with a fingerprint row; every run clones it into `gichul_bench_<scale>`, so
each run starts from the same data and the working database is never used.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import psycopg
from django.contrib.contenttypes.models import ContentType
from django.db import connections
from psycopg import sql

FINGERPRINT_TABLE = "benchmark_dataset"


def server_settings() -> dict:
    """The working database's connection settings (the same dict Django uses)."""
    return connections.settings["default"]


def _connect_kwargs(dbname: str) -> dict:
    conf = server_settings()
    params = {
        "dbname": dbname,
        "user": conf.get("USER") or None,
        "password": conf.get("PASSWORD") or None,
        "host": conf.get("HOST") or None,
        "port": str(conf["PORT"]) if conf.get("PORT") else None,
    }
    return {k: v for k, v in params.items() if v is not None}


def connect(dbname: str, **kwargs) -> psycopg.Connection:
    return psycopg.connect(**_connect_kwargs(dbname), **kwargs)


@contextmanager
def maintenance() -> Iterator[psycopg.Connection]:
    with connect("postgres", autocommit=True) as conn:
        yield conn


def exists(name: str) -> bool:
    with maintenance() as conn:
        row = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
    return row is not None


def drop(name: str) -> None:
    with maintenance() as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)
            )
        )


def create(name: str) -> None:
    with maintenance() as conn:
        conn.execute(
            sql.SQL(
                "CREATE DATABASE {} ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' "
                "LC_CTYPE 'C.UTF-8' TEMPLATE template0"
            ).format(sql.Identifier(name))
        )


def clone(template: str, name: str, *, attempts: int = 30) -> None:
    """CREATE DATABASE … TEMPLATE; retried while autovacuum visits the template."""
    drop(name)
    statement = sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
        sql.Identifier(name), sql.Identifier(template)
    )
    for attempt in range(attempts):
        try:
            with maintenance() as conn:
                conn.execute(statement)
            return
        except psycopg.errors.ObjectInUse:
            if attempt == attempts - 1:
                raise
            time.sleep(1)


@contextmanager
def advisory_lock(name: str) -> Iterator[None]:
    """A server-wide lock (held by a connection to the maintenance database)."""
    with maintenance() as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", [name])
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", [name])


def read_fingerprint(name: str) -> dict | None:
    if not exists(name):
        return None
    with connect(name) as conn:
        try:
            rows = conn.execute(
                f"SELECT key, value FROM {FINGERPRINT_TABLE}"
            ).fetchall()
        except psycopg.errors.UndefinedTable:
            return None
    return {key: value for key, value in rows}


def write_fingerprint(cursor, values: dict) -> None:
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS {FINGERPRINT_TABLE} "
        "(key text PRIMARY KEY, value jsonb NOT NULL)"
    )
    for key, value in values.items():
        cursor.execute(
            f"INSERT INTO {FINGERPRINT_TABLE} (key, value) VALUES (%s, %s::jsonb) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            [key, json.dumps(value)],
        )


@contextmanager
def use_database(name: str) -> Iterator[None]:
    """Point Django's default connection at another database of the server.

    Django's connection keeps a reference to this very settings dict, so once
    the open connections are closed the next query connects to `name`.
    """
    conf = server_settings()
    previous = conf["NAME"]
    connections.close_all()
    conf["NAME"] = name
    ContentType.objects.clear_cache()
    try:
        yield
    finally:
        connections.close_all()
        conf["NAME"] = previous
        ContentType.objects.clear_cache()


def database_url(name: str) -> str:
    """DATABASE_URL for subprocesses (gunicorn, qcluster) using database `name`."""
    conf = server_settings()
    user = quote(str(conf.get("USER") or ""), safe="")
    password = quote(str(conf.get("PASSWORD") or ""), safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = str(conf.get("HOST") or "")
    port = str(conf.get("PORT") or "")
    if host.startswith("/"):  # a Unix socket directory goes in the path
        return (
            f"postgres://{auth}:{port}/{host}/{name}"
            if port
            else (f"postgres://{auth}/{host}/{name}")
        )
    netloc = f"{host}:{port}" if port else host
    return f"postgres://{auth}{netloc}/{name}"


def _one(conn: psycopg.Connection, query: str, params: list | None = None) -> object:
    """The first column of the first row (a statement that returns one)."""
    row = conn.execute(query, params).fetchone()
    if row is None:
        raise RuntimeError(f"no row from {query!r}")
    return row[0]


def server_info() -> dict:
    with maintenance() as conn:
        version = _one(conn, "SHOW server_version")
        settings = {
            name: _one(conn, "SELECT current_setting(%s)", [name])
            for name in ("shared_buffers", "work_mem", "max_connections")
        }
    return {"version": version, **settings}
