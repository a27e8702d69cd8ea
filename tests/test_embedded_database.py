"""The embedded PostgreSQL: extensions, Korean trigrams, shared server lifecycle."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
HOLDER = """
import sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
from studyproj.embedded_db import ensure_server
ensure_server(Path({var!r}))
print("ready", flush=True)
time.sleep(120)
"""


@pytest.mark.django_db
def test_migrations_create_vector_and_trigram_extensions():
    with connection.cursor() as cursor:
        cursor.execute("SELECT extname FROM pg_extension")
        names = {row[0] for row in cursor.fetchall()}
    assert {"vector", "pg_trgm"} <= names


@pytest.mark.django_db
def test_korean_trigram_similarity_is_not_zero():
    with connection.cursor() as cursor:
        cursor.execute("SELECT similarity('산업안전기사 필기', '산업안전 기사')")
        assert cursor.fetchone()[0] > 0.2


def _start_holder(var_dir: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "XDG_RUNTIME_DIR"}
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER.format(root=str(ROOT), var=str(var_dir))],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout.readline().strip() == "ready"
    return proc


def _postmaster_pid(var_dir: Path) -> int:
    return int((var_dir / "pgdata" / "postmaster.pid").read_text().split()[0])


def _wait_gone(pid: int, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie":
            return True
        time.sleep(0.2)
    return False


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX only")
def test_the_server_is_shared_and_stops_with_the_last_process_on_sigterm():
    var_dir = Path(f"/tmp/gichul-embedded-{os.getpid()}")
    var_dir.mkdir(exist_ok=True)
    first = _start_holder(var_dir)
    second = _start_holder(var_dir)
    try:
        pid = _postmaster_pid(var_dir)
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=20)
        assert psutil.pid_exists(pid), "server stopped while a process still held it"
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
        assert _wait_gone(pid), "server kept running after the last process exited"
    finally:
        for proc in (first, second):
            if proc.poll() is None:
                proc.kill()
        subprocess.run(["rm", "-rf", str(var_dir)], check=False)


def test_a_killed_process_does_not_keep_the_server_alive():
    var_dir = Path(f"/tmp/gichul-embedded-k{os.getpid()}")
    var_dir.mkdir(exist_ok=True)
    killed = _start_holder(var_dir)
    survivor = _start_holder(var_dir)
    try:
        pid = _postmaster_pid(var_dir)
        killed.kill()
        killed.wait()
        survivor.send_signal(signal.SIGTERM)
        survivor.wait(timeout=30)
        assert _wait_gone(pid)
    finally:
        for proc in (killed, survivor):
            if proc.poll() is None:
                proc.kill()
        subprocess.run(["rm", "-rf", str(var_dir)], check=False)
