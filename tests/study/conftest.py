"""Fixtures of the AI job tests: a grounded topic, a log of consumer wake-ups,
and a Redis server of their own for the broker tests."""

import os
import shutil
import subprocess
import warnings
from collections.abc import Iterator

import pytest
import redis

from benchmarks.processes import free_port
from study.jobs import runner as job_runner
from tests.conftest import make_document
from tests.study.ai_jobs_helpers import DOC, wait_for


@pytest.fixture
def docs(user, topic, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return make_document(user, topic, DOC, title="노트")


@pytest.fixture
def woken(monkeypatch):
    """Wake-ups of the consumer, recorded instead of sent to the broker."""
    calls = []
    monkeypatch.setattr(job_runner, "wake_consumer", lambda: calls.append(1))
    return calls


def _redis_server() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail(
            "redis-server is missing: CI must install it to prove the Redis "
            "broker (Debian: apt-get install redis-server).",
            pytrace=False,
        )
    reason = (
        "!!! REDIS BROKER TESTS SKIPPED: redis-server NOT FOUND. Install it "
        "(Debian: apt-get install redis-server) to run them. !!!"
    )
    warnings.warn(reason, stacklevel=1)
    pytest.skip(reason)


@pytest.fixture
def redis_url(tmp_path) -> Iterator[str]:
    """Debian's redis-server on a free loopback port, for this test only."""
    binary = _redis_server()
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        + ["--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.from_url(url)
    try:
        wait_for(lambda: _pings(client), timeout_s=30)
        yield url
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=30)


def _pings(client) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False
