"""The LLM priority gate across threads and processes, on real PostgreSQL.

Advisory locks belong to one database, so these tests use the test database
(created by django_db_setup) and never meet a running app's gate.
"""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from study.llm.client import LLMClient, LLMConfig
from study.llm.gate import (
    FG_WAITING_KEY,
    GATE_NAMESPACE,
    GateTimeout,
    Priority,
    llm_gate,
)
from tests.fakes.openai_server import FakeOpenAI

pytestmark = pytest.mark.usefixtures("django_db_setup")

BASE_DIR = Path(__file__).resolve().parents[3]
# A separate process that holds the gate (foreground) for argv[1] seconds once
# the file argv[3] exists (at once if argv[3] is ""), after announcing itself
# in argv[2]; it writes its entry and exit times to argv[4].
CHILD = """
import os, sys, time
import django

django.setup()
from django.conf import settings

settings.DATABASES["default"]["NAME"] = os.environ["GATE_TEST_DATABASE"]
from study.llm.gate import Priority, llm_gate

hold_s, ready, go, log = float(sys.argv[1]), *sys.argv[2:5]
open(ready, "w").close()
while go and not os.path.exists(go):
    time.sleep(0.01)
with llm_gate(Priority.FOREGROUND, wait_timeout_s=60), open(log, "w") as out:
    out.write(f"{time.monotonic()}\\n")
    out.flush()
    time.sleep(hold_s)
    out.write(f"{time.monotonic()}\\n")
"""


def start_child(tmp_path, name, *, hold_s, go=""):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "studyproj.test_settings",
        "TEST_DATABASE_NAME": settings.DATABASES["default"]["TEST"]["NAME"],
        "GATE_TEST_DATABASE": settings.DATABASES["default"]["NAME"],
        "LLM_CONCURRENCY": "1",
        "PYTHONPATH": str(BASE_DIR),
    }
    args = [str(hold_s), str(tmp_path / f"{name}.ready"), str(go)]
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, *args, str(tmp_path / f"{name}.log")],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for(condition, timeout_s=60):
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def database_connection():
    database = settings.DATABASES["default"]
    return psycopg.connect(
        dbname=database["NAME"],
        user=database["USER"],
        host=database["HOST"],
        port=database["PORT"],
        autocommit=True,
    )


def test_it_lets_only_one_process_hold_the_gate_at_a_time(tmp_path):
    go = tmp_path / "go"
    children = [start_child(tmp_path, f"c{i}", hold_s=0.5, go=go) for i in range(3)]
    wait_for(lambda: all((tmp_path / f"c{i}.ready").exists() for i in range(3)))
    go.touch()  # all three reach for the gate together

    for child in children:
        output, _ = child.communicate(timeout=120)
        assert child.returncode == 0, output
    stays = sorted(
        tuple(map(float, (tmp_path / f"c{i}.log").read_text().split()))
        for i in range(3)
    )
    assert len(stays) == 3
    for before, after in zip(stays, stays[1:], strict=False):
        assert after[0] >= before[1], f"overlapping stays: {stays}"


def test_it_lets_two_calls_reach_the_llm_at_once_but_not_three(settings):
    settings.LLM_CONCURRENCY = 2
    with FakeOpenAI() as fake:
        fake.delay(0.4)
        start = threading.Barrier(5)
        config = LLMConfig(base_url=fake.base_url, model="m", timeout_s=10)

        def ask():
            start.wait()
            with (
                llm_gate(Priority.FOREGROUND, wait_timeout_s=30),
                LLMClient(config) as client,
            ):
                client.chat_json(system="JSON", user="질문", schema={})

        run_threads([threading.Thread(target=ask) for _ in range(5)])

    assert len(fake.requests) == 5
    assert fake.concurrent_max == 2


def test_it_lets_a_waiting_foreground_call_go_before_background_work(settings):
    settings.LLM_CONCURRENCY = 1
    order = []
    holding, may_leave = threading.Event(), threading.Event()

    def hold():
        with llm_gate(Priority.BACKGROUND, wait_timeout_s=10):
            holding.set()
            may_leave.wait(30)

    def take_turn(priority, name):
        with llm_gate(priority, wait_timeout_s=60):
            order.append(name)
            time.sleep(0.2)

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(10)
    background = [
        threading.Thread(target=take_turn, args=(Priority.BACKGROUND, f"bg{i}"))
        for i in range(3)
    ]
    foreground = threading.Thread(
        target=take_turn, args=(Priority.FOREGROUND, "foreground")
    )
    for thread in [*background, foreground]:
        thread.start()
    wait_for(lambda: foreground_waiters() == 1)
    may_leave.set()
    run_threads([holder, *background, foreground], started=True)

    assert order[0] == "foreground"
    assert sorted(order[1:]) == ["bg0", "bg1", "bg2"]


def test_it_keeps_a_free_slot_from_background_work_while_foreground_waits(
    settings,
):
    settings.LLM_CONCURRENCY = 1
    with database_connection() as waiter:
        # What a waiting foreground caller holds, taken by hand so that the
        # slot stays free.
        waiter.execute(
            "SELECT pg_advisory_lock_shared(%s, %s)", [GATE_NAMESPACE, FG_WAITING_KEY]
        )
        with (
            pytest.raises(GateTimeout),
            llm_gate(Priority.BACKGROUND, wait_timeout_s=0.6),
        ):
            pass
        with llm_gate(Priority.FOREGROUND, wait_timeout_s=0) as slot:
            assert slot == 0
        waiter.execute(
            "SELECT pg_advisory_unlock_shared(%s, %s)", [GATE_NAMESPACE, FG_WAITING_KEY]
        )
        with llm_gate(Priority.BACKGROUND, wait_timeout_s=5) as slot:
            assert slot == 0


def test_it_frees_the_slot_of_a_killed_process(settings, tmp_path):
    settings.LLM_CONCURRENCY = 1
    child = start_child(tmp_path, "killed", hold_s=120)
    try:
        wait_for(lambda: (tmp_path / "killed.log").exists())
        with (
            pytest.raises(GateTimeout),
            llm_gate(Priority.FOREGROUND, wait_timeout_s=0.5),
        ):
            pass
    finally:
        child.kill()  # SIGKILL: no cleanup code runs in the child
        child.communicate(timeout=30)

    with llm_gate(Priority.FOREGROUND, wait_timeout_s=30) as slot:
        assert slot == 0


def test_it_gives_up_after_the_configured_wait(settings):
    settings.LLM_CONCURRENCY = 1
    settings.LLM_GATE_WAIT_S = 0.3

    with llm_gate(Priority.BACKGROUND):
        for priority in Priority:
            with pytest.raises(GateTimeout) as caught, llm_gate(priority):
                pass
            assert caught.value.code == "gate_timeout"


def test_it_frees_the_slot_and_its_connection_when_the_call_fails(settings):
    settings.LLM_CONCURRENCY = 1

    with pytest.raises(RuntimeError), llm_gate(Priority.FOREGROUND):
        assert gate_sessions() == 1
        raise RuntimeError("LLM 호출 실패")

    wait_for(lambda: gate_sessions() == 0, timeout_s=10)
    with llm_gate(Priority.BACKGROUND, wait_timeout_s=0) as slot:
        assert slot == 0


def run_threads(threads, *, started=False):
    for thread in threads:
        if not started:
            thread.start()
    for thread in threads:
        thread.join(timeout=120)
        assert not thread.is_alive()


def foreground_waiters():
    with database_connection() as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks JOIN pg_database d ON d.oid = database"
            " WHERE locktype = 'advisory' AND d.datname = current_database()"
            " AND classid = %s AND objid = %s AND objsubid = 2"
            " AND mode = 'ShareLock' AND granted",
            [GATE_NAMESPACE, FG_WAITING_KEY & 0xFFFFFFFF],
        ).fetchone()
    return row[0]


def gate_sessions():
    with database_connection() as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE application_name = 'gichul-llm-gate'"
            " AND datname = current_database()"
        ).fetchone()
    return row[0]
