"""Every learner page (issue 30), requested through the whole stack as the
dataset's heaviest learner (≥ 20,000 answers at `full`, all in the largest
topic) with an exam date four weeks out.

The pages come after the hot paths in the same `HotPaths` run (same client,
same timing and query capture): home, topic, forecast, plan, calibration,
the question page, the mock exam's start, page and submit, and the web
import's dry run of one 1 MB file (as the topic's owner). The forecast, plan
and calibration pages are measured warm (the learner's forecast snapshot
computed, as the worker does after every finished session) and cold (the
snapshot missing: the page computes it in the request).
"""

from __future__ import annotations

import csv
import io
import random
import re
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from functools import partial

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http.response import HttpResponseBase
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from benchmarks.batch import CSV_HEADER
from benchmarks.forms import form_post
from benchmarks.stats import seeded_sample
from benchmarks.texts import TextGenerator
from study.evidence.services import questions_cards_warm
from study.forecast import snapshots
from study.imports.runs import question_import_check, question_import_files_delete
from study.models import (
    ImportStatus,
    Question,
    QuestionImport,
    QuizMode,
    QuizSession,
    QuizStatus,
)
from study.services.exam_plans import exam_plan_set

Thunk = Callable[[], HttpResponseBase]
EXAM_IN_DAYS = 28
DAILY_SIZE = 40
# "one 1 MB file": larger than QUESTION_IMPORT_INLINE_MAX_BYTES, so the request
# stores it and queues the dry run; import_dry_run_job times that dry run.
IMPORT_BYTES = 1_000_000
# The question page (study:question) with its 근거 카드, computed ahead.
QUESTION_PAGES = 200
PAGES = (
    "home",
    "topic_page",
    "forecast_page",
    "plan_page",
    "calibration_page",
    "forecast_page_cold",
    "plan_page_cold",
    "calibration_page_cold",
    "question_page",
    "mock_start",
    "mock_page",
    "mock_submit",
    "import_dry_run",
    "import_dry_run_job",
)


def measure_pages(bench, path_run) -> None:
    """Measure every page into `bench.runs` (see HotPaths.measure)."""
    n = max(10, bench.scale.requests // 2)
    exam_plan_set(
        user=bench.user,
        topic=bench.topic,
        exam_date=timezone.localdate() + timedelta(days=EXAM_IN_DAYS),
        daily_size=DAILY_SIZE,
    )
    _warm_snapshot(bench)
    client = bench.client
    for name, url in (
        ("home", reverse("study:home")),
        ("topic_page", reverse("study:topic", args=[bench.topic.pk])),
        ("forecast_page", reverse("study:forecast", args=[bench.topic.pk])),
        ("plan_page", reverse("study:plan", args=[bench.topic.pk])),
        ("calibration_page", reverse("study:calibration", args=[bench.topic.pk])),
    ):
        bench.measure(path_run(name), _gets(client, url), n)
    cold_n = max(5, n // 10)
    for name in ("forecast", "plan", "calibration"):
        url = reverse(f"study:{name}", args=[bench.topic.pk])
        bench.measure(path_run(f"{name}_page_cold"), _cold(bench, client, url), cold_n)
    _warm_snapshot(bench)
    bench.measure(path_run("question_page"), _question_pages(bench), n)
    mocks: list[int] = []
    mock_n = max(5, n // 10)
    bench.measure(
        path_run("mock_start", expect=(302,)), _mock_starts(bench, mocks), mock_n
    )
    bench.measure(path_run("mock_page"), _mock_pages(bench, mocks), mock_n)
    bench.measure(
        path_run("mock_submit", expect=(302,)), _mock_submits(bench, mocks), mock_n
    )
    runs: list[int] = []
    bench.measure(
        path_run("import_dry_run", expect=(302,)),
        _dry_runs(bench, runs),
        max(5, n // 20),
    )
    bench.runs["import_dry_run_job"] = _dry_run_jobs(path_run, runs[:3])
    _delete_uploads(runs)  # the owner's upload quota is free again


def _delete_uploads(run_ids: list[int]) -> None:
    """The stored files of these imports, deleted as the hourly cleanup would
    (each user may keep QUESTION_IMPORT_QUOTA_BYTES of uploads)."""
    for run in QuestionImport.objects.filter(pk__in=run_ids):
        question_import_files_delete(run=run)


def _dry_run_jobs(path_run, run_ids: list[int]):
    """The dry runs themselves, as the worker runs them (no HTTP)."""
    run = path_run("import_dry_run_job")
    for import_id in run_ids:
        started = time.perf_counter()
        checked = question_import_check(import_id=import_id)
        run.durations.append(time.perf_counter() - started)
        if checked.status != ImportStatus.CHECKED:
            run.errors.append(f"{checked.status}: {checked.error}")
    return run


def _warm_snapshot(bench) -> None:
    """What the worker does after a session or an exam date change."""
    snapshots.forecast_snapshot_refresh(user_id=bench.user.pk, topic_id=bench.topic.pk)


def _gets(client: Client, url: str) -> Iterator[Thunk]:
    while True:
        yield lambda: client.get(url, secure=True)


def _cold(bench, client: Client, url: str) -> Iterator[Thunk]:
    def get() -> HttpResponseBase:
        snapshots.forecast_snapshots_invalidate(
            user_id=bench.user.pk, topic_id=bench.topic.pk
        )
        return client.get(url, secure=True)

    while True:
        yield get


def _question_pages(bench) -> Iterator[Thunk]:
    """200 questions of the largest topic, their 근거 카드 computed ahead
    (untimed) by the product's warm-up, as a learner gets them: a session's
    start, an import, a document or relations change computes them in the
    background (question_card_computed times a page that computes its card)."""
    ids = seeded_sample(
        Question.objects.alive().filter(topic=bench.topic).values_list("pk", flat=True),
        QUESTION_PAGES,
        bench.rng,
    )
    started = time.perf_counter()
    warmed = questions_cards_warm(
        topic=bench.topic, question_ids=ids, budget_s=float("inf")
    )
    bench.log(
        f"  question_page: {warmed.computed} cards computed ahead in "
        f"{time.perf_counter() - started:.1f} s (untimed)"
    )
    while True:
        for qid in ids:
            url = reverse("study:question", args=[qid])
            yield partial(bench.client.get, url, secure=True)


def _mock_starts(bench, mocks: list[int]) -> Iterator[Thunk]:
    url = reverse("study:quiz_start", args=[bench.topic.pk])

    def start() -> HttpResponseBase:
        response = form_post(bench.client, url, {"mode": QuizMode.MOCK})
        match = re.search(r"/quiz/(\d+)/", response.get("Location", ""))
        if match:
            mocks.append(int(match.group(1)))
        return response

    while True:
        yield start


def _mock_pages(bench, mocks: list[int]) -> Iterator[Thunk]:
    while True:
        for session_id in list(mocks):
            url = reverse("study:quiz", args=[session_id])
            yield partial(bench.client.get, url, secure=True)


def _mock_submits(bench, mocks: list[int]) -> Iterator[Thunk]:
    sessions = QuizSession.objects.filter(
        pk__in=mocks, status=QuizStatus.ACTIVE
    ).order_by("pk")
    for session in sessions:
        keys = dict(
            Question.objects.filter(pk__in=session.question_ids).values_list(
                "pk", "correct_choice"
            )
        )
        answers = {
            f"a{position}": bench._choice(keys[qid])
            for position, qid in enumerate(session.question_ids)
            if bench.rng.random() < 0.95  # a few left blank: 모르겠음
        }
        url = reverse("study:mock_submit", args=[session.pk])
        yield partial(form_post, bench.client, url, answers)
    raise RuntimeError("not enough started mock exams for mock_submit")


def _dry_runs(bench, run_ids: list[int]) -> Iterator[Thunk]:
    """A topic owner uploads one 1 MB CSV to the largest topic: half the rows
    are its questions as they are, half new rounds (the dry run compares them)."""
    owner = get_user_model().objects.get(pk=bench.topic.owner_id)
    client = Client()
    client.force_login(owner)
    data = import_file(bench.topic, seed=bench.scale.seed)
    url = reverse("study:import_new", args=[bench.topic.pk])

    def upload() -> HttpResponseBase:
        upload = SimpleUploadedFile("bench-1mb.csv", data, content_type="text/csv")
        response = client.post(url, {"files": upload}, secure=True)
        match = re.search(r"/imports/(\d+)", response.get("Location", ""))
        if match:
            run_ids.append(int(match.group(1)))
        return response

    while True:
        # Between the timed requests: keep the files of the first 3 (their
        # dry runs are timed afterwards) and free the quota of the rest.
        _delete_uploads(run_ids[3:])
        yield upload


def import_file(topic, *, seed: int, size: int = IMPORT_BYTES) -> bytes:
    """A CSV of about `size` bytes, shaped like ../shared/data/exams."""
    rng = random.Random(seed)
    text = TextGenerator(rng, vocabulary=1500)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    existing = (
        Question.objects.alive()
        .filter(topic=topic)
        .order_by("pk")
        .values_list(
            "exam_year",
            "exam_session",
            "subject",
            "number",
            "stem",
            "choice_1",
            "choice_2",
            "choice_3",
            "choice_4",
            "correct_choice",
        )
        .iterator()
    )
    number = 0
    while out.tell() < size:
        row = next(existing, None) if number % 2 == 0 else None
        if row is not None:
            year, session, subject, qnum, stem, *choices, key = row
            values = [year, session, subject, qnum, stem, "", *choices, key]
        else:
            year, session = 1900 + number // 120 // 3, str(1 + number // 120 % 3)
            choices = [text.choice() for _ in range(4)]
            values = [year, session, f"과목{number % 6 + 1}", number % 120 + 1]
            values += [text.stem(), "", *choices, rng.randint(1, 4)]
        writer.writerow(["벤치마크기사", *values])
        number += 1
    return out.getvalue().encode("utf-8")[:size].rsplit(b"\n", 1)[0] + b"\n"
