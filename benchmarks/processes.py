"""Subprocesses the benchmark starts (gunicorn, qcluster), always stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from django.conf import settings

from benchmarks import database

STOP_GRACE_S = 15


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def child_env(dbname: str, **extra: str) -> dict[str, str]:
    """The current environment, pointed at the bench database."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database.database_url(dbname),
        SECRET_KEY=settings.SECRET_KEY,  # sessions made here stay valid there
        DJANGO_SETTINGS_MODULE=os.environ.get(
            "DJANGO_SETTINGS_MODULE", "studyproj.settings"
        ),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


@contextmanager
def running(
    args: list[str], *, env: dict, log_path: Path
) -> Iterator[subprocess.Popen]:
    """Start a child in its own process group; stop that group on the way out."""
    with open(log_path, "ab") as log_file:
        process = subprocess.Popen(
            args,
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        stop(process)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def manage(*args: str) -> list[str]:
    return [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), *args]


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
