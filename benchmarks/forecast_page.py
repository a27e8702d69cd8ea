"""The 합격 예측 page: time to render it for a learner with an exam date.

Self-contained: `benchmark --only forecast` (registered in runner.py). The
learner with the most answers in the dataset's largest topic gets an exam
date four weeks out inside a transaction that is rolled back, so the dataset
is left as it was. The page (P(합격) with its interval, the subjects and the
plot of P(합격) over the days to the exam) is requested through the whole
Django stack; the 오늘 할 일 page is timed next to it.
"""

from __future__ import annotations

import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from benchmarks.stats import summarize
from study.models import Attempt, Topic
from study.services.exam_plans import exam_plan_set

FIGURE = "forecast_page"
EXAM_IN_DAYS = 28


class _Rollback(Exception):
    pass


def measure_forecast_page(*, scale, meta: dict, log) -> dict:
    """p50/p95 ms and queries of the forecast and plan pages (one learner)."""
    topic = Topic.objects.get(pk=meta["big_topic_id"])
    busiest = (
        Attempt.objects.filter(question__topic=topic)
        .values("user_id")
        .annotate(n=Count("id"))
        .order_by("-n", "user_id")
        .first()
    )
    if busiest is None:
        return {"skipped": "no learner has answered the largest topic"}
    user = get_user_model().objects.get(pk=busiest["user_id"])
    figures: dict = {
        "topic_questions": meta.get("big_topic_questions"),
        "learner_answers": busiest["n"],
    }
    try:
        with transaction.atomic():
            exam_plan_set(
                user=user,
                topic=topic,
                exam_date=timezone.localdate() + timedelta(days=EXAM_IN_DAYS),
                daily_size=40,
            )
            client = Client()
            client.force_login(user)
            for name, url in (
                ("forecast", reverse("study:forecast", args=[topic.pk])),
                ("plan", reverse("study:plan", args=[topic.pk])),
            ):
                figures[name] = _time(client, url, scale)
                log(
                    f"  {name + ' page':<24} p50 {figures[name]['p50_ms']} ms  "
                    f"p95 {figures[name]['p95_ms']} ms  "
                    f"queries {figures[name]['queries']}"
                )
            raise _Rollback
    except _Rollback:
        pass
    return figures


def _time(client: Client, url: str, scale) -> dict:
    for _ in range(min(scale.warmup, 3)):
        _get(client, url)
    durations = []
    for _ in range(max(5, scale.requests // 5)):
        started = time.perf_counter()
        _get(client, url)
        durations.append(time.perf_counter() - started)
    with CaptureQueriesContext(connection) as ctx:
        _get(client, url)
    return {**summarize(durations), "queries": len(ctx.captured_queries)}


def _get(client: Client, url: str) -> None:
    response = client.get(url, secure=True)
    if response.status_code != 200:
        raise RuntimeError(f"{url}: HTTP {response.status_code}")


def table(figures: dict | None) -> list[str]:
    if not figures or "forecast" not in figures:
        return ["forecast page             —"]
    return [
        f"{name + ' page':<26}p50 {figures[name]['p50_ms']} ms, "
        f"p95 {figures[name]['p95_ms']} ms, {figures[name]['queries']} queries "
        f"({figures['learner_answers']:,} answers, "
        f"{figures['topic_questions'] or 0:,} questions)"
        for name in ("forecast", "plan")
    ]
