"""Hot paths through the real Django stack (django.test.Client), in process.

Each request runs the whole handler: middleware, sessions, authentication,
the view, templates. Only the request itself is timed; choosing the next
session or slot is not. Query counts come from a separate pass with
CaptureQueriesContext, so recording SQL does not slow the timed requests.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial

from django.contrib.auth import get_user_model
from django.db import connection
from django.http.response import HttpResponseBase
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, resolve, reverse

from benchmarks.forms import form_post
from benchmarks.pages import measure_pages
from benchmarks.stats import seeded_sample, summarize
from benchmarks.urls import (
    BASELINE_PATH,
    BASELINE_USER_PATH,
    BASELINE_WRITE_PATH,
    baseline_write_table_create,
)
from study.evidence.services import evidence_cards_get
from study.models import Question, QuizSession, QuizStatus, Topic
from study.selectors.review_queue import TABS
from study.services.quiz_sessions import quiz_answer_record

# Results tabs the results_page_cards path cycles through.
CARD_PAGES = 10

URLCONF = "benchmarks.urls"
HTMX = {"HX-Request": "true"}
QUERY_PASSES = 3
SESSION_SIZE = 20
Thunk = Callable[[], HttpResponseBase]


@dataclass
class PathRun:
    name: str
    expect: tuple[int, ...] = (200,)
    durations: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    slowest: list[tuple[float, str]] = field(default_factory=list)
    load1: float | None = None  # the 1-minute load average when it was measured

    def check(self, response: HttpResponseBase) -> None:
        if response.status_code not in self.expect and len(self.errors) < 1000:
            body = getattr(response, "content", b"")[:200]
            self.errors.append(f"{response.status_code} {body!r}")

    def as_dict(self) -> dict:
        result = summarize(self.durations)
        ordered = sorted(self.queries)
        result["queries"] = ordered[len(ordered) // 2] if ordered else None
        result["queries_seen"] = sorted(set(self.queries))
        result["errors"] = len(self.errors)
        if self.errors:
            result["first_error"] = self.errors[0]
        result["slowest_queries"] = [
            {"ms": round(ms, 2), "sql": text[:400]} for ms, text in self.slowest[:3]
        ]
        result["load1"] = self.load1
        return result


class HotPaths:
    def __init__(self, *, scale, meta: dict, log) -> None:
        self.scale = scale
        self.log = log
        self.rng = random.Random(scale.seed)
        self.user = get_user_model().objects.get(pk=meta["learner_id"])
        self.topic = Topic.objects.get(pk=meta["big_topic_id"])
        self.client = Client()
        self.client.force_login(self.user)
        self.runs: dict[str, PathRun] = {}
        self.started_sessions: list[int] = []
        self.finished_sessions: list[int] = []
        self.skipped: dict[str, str] = {}

    # -- the measuring loop --

    def measure(self, run: PathRun, thunks: Iterator[Thunk], n: int) -> PathRun:
        for _ in range(self.scale.warmup):
            run.check(next(thunks)())
        for _ in range(n):
            thunk = next(thunks)
            started = time.perf_counter()
            response = thunk()
            run.durations.append(time.perf_counter() - started)
            run.check(response)
        for _ in range(QUERY_PASSES):
            thunk = next(thunks)
            with CaptureQueriesContext(connection) as ctx:
                run.check(thunk())
            run.queries.append(len(ctx.captured_queries))
            timed = [(float(q["time"]) * 1000, q["sql"]) for q in ctx.captured_queries]
            run.slowest = sorted([*run.slowest, *timed], reverse=True)[:3]
        run.load1 = round(os.getloadavg()[0], 2)
        self.runs[run.name] = run
        summary = run.as_dict()
        self.log(
            f"  {run.name:<24} p50 {summary.get('p50_ms')} ms  "
            f"p95 {summary.get('p95_ms')} ms  queries {summary['queries']}"
            + (f"  ERRORS {summary['errors']}" if run.errors else "")
        )
        return run

    def run_all(self) -> dict[str, dict]:
        n = self.scale.requests
        self.measure(PathRun("baseline"), self._baseline(), n)
        self.measure(
            PathRun("baseline_authenticated"), self._baseline(BASELINE_USER_PATH), n
        )
        baseline_write_table_create()
        self.measure(PathRun("baseline_write"), self._baseline(BASELINE_WRITE_PATH), n)
        self.measure(PathRun("quiz_start", expect=(302,)), self._quiz_start(), n)
        self.measure(PathRun("quiz_page"), self._quiz_page(), n)
        self.measure(PathRun("answer_next"), self._answers(), n)
        finalize_n = max(10, n // 5)
        self.measure(PathRun("answer_finalize"), self._finalize(), finalize_n)
        self.measure(PathRun("results_page"), self._results(), n)
        # The 근거 카드 (issue 31): computed on a question page's first view,
        # read from the cache after; a results tab full of cached cards.
        card_ids = self._card_questions(self.scale.warmup + n + QUERY_PASSES)
        self.measure(PathRun("question_card_computed"), self._questions(card_ids), n)
        self.measure(PathRun("question_card_cached"), self._questions(card_ids), n)
        self.measure(PathRun("results_page_cards"), self._results_with_cards(), n)
        for tab in TABS:
            self.measure(PathRun(f"review_{tab}"), self._review(tab), n)
        self.measure(PathRun("explanation_cache_hit"), self._cache_hits(), n)
        measure_pages(self, PathRun)
        self._related_bulk(n)
        again = self.measure(PathRun("baseline_end"), self._baseline(), n)
        self.runs["baseline"].durations += again.durations
        return self._results_dict()

    def _results_dict(self) -> dict[str, dict]:
        results = {
            name: run.as_dict()
            for name, run in self.runs.items()
            if name != "baseline_end"
        }
        base = results["baseline"].get("rps")
        user_base = results["baseline_authenticated"].get("rps")
        write_base = results["baseline_write"].get("rps")
        for summary in results.values():
            rps = summary.get("rps")
            summary["ratio_to_baseline"] = (
                round(rps / base, 3) if rps and base else None
            )
            summary["ratio_to_authenticated_baseline"] = (
                round(rps / user_base, 3) if rps and user_base else None
            )
            summary["ratio_to_write_baseline"] = (
                round(rps / write_base, 3) if rps and write_base else None
            )
        return results

    # -- request makers (generators of thunks) --

    def _baseline(self, path: str = BASELINE_PATH) -> Iterator[Thunk]:
        while True:
            yield lambda: self.client.get(path, secure=True)

    def _quiz_start(self) -> Iterator[Thunk]:
        url = reverse("study:quiz_start", args=[self.topic.pk])
        data = {"mode": "stage", "stage": "pre_exam", "size": SESSION_SIZE}

        def start() -> HttpResponseBase:
            response = form_post(self.client, url, data)
            match = re.search(r"/quiz/(\d+)/", response.get("Location", ""))
            if match:
                self.started_sessions.append(int(match.group(1)))
            return response

        while True:
            yield start

    def _quiz_page(self) -> Iterator[Thunk]:
        while True:
            for session_id in list(self.started_sessions):
                url = reverse("study:quiz", args=[session_id])
                yield partial(self.client.get, url, secure=True)

    def _correct_choices(self, sessions: list[QuizSession]) -> dict[int, int]:
        ids = {qid for s in sessions for qid in s.question_ids}
        return dict(
            Question.objects.filter(pk__in=ids).values_list("id", "correct_choice")
        )

    def _choice(self, correct: int) -> int:
        draw = self.rng.random()
        if draw < 0.6:
            return correct
        if draw < 0.9:
            return 1 + correct % 4
        return 5  # 모르겠음

    def _answers(self) -> Iterator[Thunk]:
        """Slots 0..18 of the started sessions; slot 19 is left for _finalize."""
        sessions = list(
            QuizSession.objects.filter(pk__in=self.started_sessions).order_by("pk")
        )
        correct = self._correct_choices(sessions)
        for session in sessions:
            url = reverse("study:quiz_answer", args=[session.pk])
            for position in range(session.answered_count, SESSION_SIZE - 1):
                qid = session.question_ids[position]
                data = {
                    "position": position,
                    "question_id": qid,
                    "choice": self._choice(correct[qid]),
                    "elapsed_ms": self.rng.randint(4000, 60000),
                }
                yield partial(self._htmx_post, url, data)
        raise RuntimeError("not enough started sessions for answer_next")

    def _htmx_post(self, url: str, data: dict) -> HttpResponseBase:
        """A form posted the way htmx posts it: urlencoded (the test client's
        default is multipart, which no answer from a browser is)."""
        return form_post(self.client, url, data, headers=HTMX)

    def _finalize(self) -> Iterator[Thunk]:
        """The 20th answer: finalize, progress upsert, AI prefetch enqueue."""
        sessions = QuizSession.objects.filter(
            pk__in=self.started_sessions, status=QuizStatus.ACTIVE
        ).order_by("-answered_count", "pk")
        for session in sessions:
            correct = self._correct_choices([session])
            for position in range(session.answered_count, SESSION_SIZE - 1):
                qid = session.question_ids[position]
                quiz_answer_record(  # untimed fast-forward to the last slot
                    session=session,
                    position=position,
                    question_id=qid,
                    choice=self._choice(correct[qid]),
                    time_taken_ms=5000,
                )
            qid = session.question_ids[SESSION_SIZE - 1]
            url = reverse("study:quiz_answer", args=[session.pk])
            data = {
                "position": SESSION_SIZE - 1,
                "question_id": qid,
                "choice": self._choice(correct[qid]),
                "elapsed_ms": 9000,
            }

            def answer(url=url, data=data, session_id=session.pk) -> HttpResponseBase:
                response = self._htmx_post(url, data)
                self.finished_sessions.append(session_id)
                return response

            yield answer
        raise RuntimeError("not enough started sessions for answer_finalize")

    def _results(self) -> Iterator[Thunk]:
        history = list(
            QuizSession.objects.filter(
                user=self.user, topic=self.topic, status=QuizStatus.FINISHED
            )
            .order_by("-finished_at")
            .values_list("pk", flat=True)[:50]
        )
        ids = [*self.finished_sessions, *history]
        while True:
            for session_id in ids:
                url = reverse("study:results", args=[session_id])
                yield partial(self.client.get, url, secure=True)

    def _card_questions(self, count: int) -> list[int]:
        return list(
            Question.objects.alive()
            .filter(topic=self.topic, evidence_card__isnull=True)
            .order_by("id")
            .values_list("pk", flat=True)[:count]
        )

    def _questions(self, ids: list[int]) -> Iterator[Thunk]:
        while True:
            for qid in ids:
                url = reverse("study:question", args=[qid])
                yield partial(self.client.get, url, secure=True)

    def _results_with_cards(self) -> Iterator[Thunk]:
        """The fullest tab of up to CARD_PAGES finished sessions, in turn, their
        cards cached first (untimed: at full scale, caching every session's
        cards took longer than the whole run may)."""
        sessions = QuizSession.objects.filter(
            pk__in=self.finished_sessions or self.started_sessions,
            status=QuizStatus.FINISHED,
        ).order_by("pk")[:CARD_PAGES]
        pages = []
        for session in sessions:
            attempts = list(session.attempts.select_related("question"))
            by_tab: dict[str, list] = {}
            for attempt in attempts:
                by_tab.setdefault(attempt.outcome, []).append(attempt.question)
            tab, questions = max(by_tab.items(), key=lambda kv: len(kv[1]))
            evidence_cards_get(questions=questions)
            url = reverse("study:results", args=[session.pk]) + f"?tab={tab}"
            pages.append(url)
        if not pages:
            raise RuntimeError("no finished session for results_page_cards")
        while True:
            for url in pages:
                yield partial(self.client.get, url, secure=True)

    def _review(self, tab: str) -> Iterator[Thunk]:
        url = reverse("study:review_queue", args=[self.topic.pk]) + f"?tab={tab}"
        while True:
            yield lambda: self.client.get(url, secure=True)

    def _cache_hits(self) -> Iterator[Thunk]:
        ids = seeded_sample(
            Question.objects.alive()
            .filter(topic=self.topic, ai_explanation_status="ready")
            .exclude(ai_explanation="")
            .values_list("pk", flat=True),
            200,
            self.rng,
        )
        run_check = {"done": False}

        def hit(qid: int) -> HttpResponseBase:
            url = reverse("study:ai_explanation_api", args=[qid])
            response = self.client.post(
                url, "{}", content_type="application/json", secure=True
            )
            if not run_check["done"] and response.status_code == 200:
                run_check["done"] = True
                if not json.loads(response.content).get("from_cache"):
                    raise RuntimeError("explanation API did not answer from cache")
            return response

        while True:
            for qid in ids:
                yield partial(hit, qid)

    # -- the related-types bulk call (issue 6), when it exists --

    def _related_bulk(self, n: int) -> None:
        path = f"/study-topics/{self.topic.pk}/related-types-bulk"
        try:
            resolve(path, urlconf=URLCONF)
        except Resolver404:
            self.skipped["related_bulk"] = (
                "POST /study-topics/<id>/related-types-bulk does not exist yet "
                "(issue 6 has not landed)"
            )
            return
        ids = seeded_sample(
            Question.objects.alive()
            .filter(topic=self.topic)
            .values_list("pk", flat=True),
            SESSION_SIZE * 10,
            self.rng,
        )
        batches = [ids[i : i + SESSION_SIZE] for i in range(0, len(ids), SESSION_SIZE)]
        shape = self._related_payload_shape(path, batches[0])
        if shape is None:
            return

        def thunks() -> Iterator[Thunk]:
            while True:
                for batch in batches:
                    yield partial(shape, path, batch)

        self.measure(PathRun("related_bulk"), thunks(), n)

    def _related_payload_shape(
        self, path: str, ids: list[int]
    ) -> Callable[[str, list[int]], HttpResponseBase] | None:
        """The endpoint's request format is issue 6's; try the usual ones."""
        shapes: dict[str, Callable[[str, list[int]], HttpResponseBase]] = {
            "json ids": lambda p, b: self.client.post(
                p, json.dumps({"ids": b}), "application/json", secure=True
            ),
            "json question_ids": lambda p, b: self.client.post(
                p, json.dumps({"question_ids": b}), "application/json", secure=True
            ),
            "form ids": lambda p, b: self.client.post(p, {"ids": b}, secure=True),
            "form ids csv": lambda p, b: self.client.post(
                p, {"ids": ",".join(map(str, b))}, secure=True
            ),
        }
        statuses = {}
        for label, shape in shapes.items():
            response = shape(path, ids)
            statuses[label] = response.status_code
            if response.status_code == 200:
                self.log(f"  related_bulk: request shape '{label}'")
                return shape
        self.skipped["related_bulk"] = (
            f"{path} exists but no known request shape was accepted: {statuses}"
        )
        return None
