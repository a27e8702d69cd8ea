"""Load test: gunicorn (2 workers) on loopback, concurrent simulated learners.

Each learner is a thread with its own logged-in session that loops over a
realistic visit: start a pre_exam quiz, open it, answer 20 questions (HTMX),
open the results, look at a review tab. The run stops after a fixed number
of requests; gunicorn is stopped whatever happens.
"""

from __future__ import annotations

import random
import re
import secrets
import string
import sys
import threading
import time
from pathlib import Path

import httpx
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from benchmarks.processes import child_env, free_port, running, tail
from benchmarks.stats import summarize
from study.selectors.review_queue import TABS

WORKERS = 2
POSITION = re.compile(r'name="position" value="(\d+)"')
QUESTION = re.compile(r'name="question_id" value="(\d+)"')


class Budget:
    def __init__(self, total: int) -> None:
        self.left = total
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self.left <= 0:
                return False
            self.left -= 1
            return True


class Learner(threading.Thread):
    def __init__(
        self, *, base_url: str, cookie: str, topic_id: int, budget: Budget, seed: int
    ):
        super().__init__(daemon=True)
        self.base_url = base_url
        self.topic_id = topic_id
        self.budget = budget
        self.rng = random.Random(seed)
        self.records: list[tuple[str, float, int]] = []
        self.failure = ""
        csrf = "".join(
            secrets.choice(string.ascii_letters + string.digits) for _ in range(32)
        )
        self.headers = {
            "Cookie": (
                f"{settings.SESSION_COOKIE_NAME}={cookie}; "
                f"{settings.CSRF_COOKIE_NAME}={csrf}"
            ),
            "X-CSRFToken": csrf,
            "X-Forwarded-Proto": "https",  # as behind the TLS proxy
            "Referer": f"https://{base_url.split('://', 1)[1]}/",
        }

    def run(self) -> None:
        try:
            with httpx.Client(
                base_url=self.base_url, headers=self.headers, timeout=60
            ) as http:
                while self._visit(http):
                    pass
        except Exception as exc:  # reported, never swallowed silently
            self.failure = f"{type(exc).__name__}: {exc}"

    def _call(self, kind: str, http: httpx.Client, method: str, url: str, **kwargs):
        started = time.perf_counter()
        response = http.request(method, url, **kwargs)
        self.records.append((kind, time.perf_counter() - started, response.status_code))
        return response

    def _visit(self, http: httpx.Client) -> bool:
        if not self.budget.take():
            return False
        start = self._call(
            "quiz_start",
            http,
            "POST",
            f"/study-topics/{self.topic_id}/quiz/start",
            data={"mode": "stage", "stage": "pre_exam", "size": 20},
        )
        location = start.headers.get("location", "")
        session = re.search(r"/quiz/(\d+)/", location)
        if start.status_code != 302 or not session:
            raise RuntimeError(f"quiz start answered {start.status_code}")
        if not self.budget.take():
            return False
        page = self._call("quiz_page", http, "GET", location)
        answer_url = f"/quiz/{session.group(1)}/answer"
        card = page.text
        while True:
            if not self.budget.take():
                return False
            position, question = POSITION.search(card), QUESTION.search(card)
            if not position or not question:
                raise RuntimeError("no question card in the quiz page")
            reply = self._call(
                "answer",
                http,
                "POST",
                answer_url,
                data={
                    "position": position.group(1),
                    "question_id": question.group(1),
                    "choice": self.rng.choice((1, 2, 2, 3, 4, 5)),
                    "elapsed_ms": self.rng.randint(4000, 60000),
                },
                headers={"HX-Request": "true"},
            )
            if "hx-redirect" in reply.headers:
                results_url = reply.headers["hx-redirect"]
                break
            card = reply.text
        if not self.budget.take():
            return False
        self._call("results_page", http, "GET", results_url)
        if not self.budget.take():
            return False
        tab = self.rng.choice(list(TABS))
        self._call(
            "review_tab",
            http,
            "GET",
            f"/study-topics/{self.topic_id}/review-queue?tab={tab}",
        )
        return True


def _session_cookies(meta: dict, count: int) -> list[tuple[str, int]]:
    User = get_user_model()
    pairs = list(meta["learner_topics"].items())[:count]
    cookies = []
    for user_id, topic_id in pairs:
        client = Client()
        client.force_login(User.objects.get(pk=int(user_id)))
        cookies.append((client.cookies[settings.SESSION_COOKIE_NAME].value, topic_id))
    return cookies


def _wait_until_serving(process, base_url: str, log_path: Path, timeout_s: float = 60):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {tail(log_path)}")
        try:
            httpx.get(
                f"{base_url}/accounts/login/",
                headers={"X-Forwarded-Proto": "https"},
                timeout=2,
            )
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer")


def measure_load(
    *, scale, meta: dict, dbname: str, workdir: Path, env_extra: dict, log
) -> dict:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    args = [
        sys.executable,
        "-m",
        "gunicorn",
        "studyproj.wsgi",
        "-b",
        f"127.0.0.1:{port}",
        "-w",
        str(WORKERS),
        "--log-level",
        "warning",
    ]
    log_path = workdir / "gunicorn.log"
    cookies = _session_cookies(meta, scale.load_learners)
    with running(
        args, env=child_env(dbname, **env_extra), log_path=log_path
    ) as process:
        _wait_until_serving(process, base_url, log_path)
        budget = Budget(scale.load_requests)
        learners = [
            Learner(
                base_url=base_url,
                cookie=cookie,
                topic_id=topic_id,
                budget=budget,
                seed=i,
            )
            for i, (cookie, topic_id) in enumerate(cookies)
        ]
        started = time.perf_counter()
        for learner in learners:
            learner.start()
        for learner in learners:
            learner.join()
        wall = time.perf_counter() - started
    records = [r for learner in learners for r in learner.records]
    failures = [learner.failure for learner in learners if learner.failure]
    if not records:
        raise RuntimeError(f"no request completed: {failures or tail(log_path)}")
    overall = summarize([seconds for _, seconds, _ in records], busy_s=wall)
    by_kind = {}
    for kind in dict.fromkeys(kind for kind, _, _ in records):
        durations = [seconds for k, seconds, _ in records if k == kind]
        by_kind[kind] = summarize(durations)
        by_kind[kind].pop("rps", None)
    errors = sum(1 for _, _, status in records if status >= 400)
    log(
        f"  load: {len(records)} requests, {overall['rps']} req/s, "
        f"p95 {overall['p95_ms']} ms, errors {errors}"
    )
    return {
        **overall,
        "learners": len(learners),
        "gunicorn_workers": WORKERS,
        "requests": len(records),
        "errors": errors,
        "learner_failures": failures,
        "by_kind": by_kind,
        "seconds": round(wall, 2),
    }
