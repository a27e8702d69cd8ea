"""The forecast snapshot: a learner's forecast, daily plan and calibration
for one topic, computed in the background so that their pages read one row.

A change they depend on invalidates the row in the writer's transaction (a
finished session, an exam date or plan size) and, once committed, queues its
refresh; the every-minute schedule refreshes what a lost task left stale and,
after midnight, yesterday's forecasts of learners whose exam is ahead. Until
a row is fresh again the pages compute what they show themselves
(study.forecast.selectors), so a missing refresh costs speed, never truth.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from study.forecast import codec
from study.forecast import selectors as fsel
from study.forecast.model import SITTING_MAX
from study.jobs.queue import task_after_commit
from study.models import ExamPlan, ForecastSnapshot, Topic

logger = logging.getLogger(__name__)
REFRESH_BATCH = 20
REFRESH_TASK = "study.tasks.forecast_snapshot_refresh_task"

_INVALIDATE = """
INSERT INTO {table} (user_id, topic_id, generation, stale, version)
SELECT u, t, 1, true, '' FROM unnest(%s::bigint[], %s::bigint[]) AS v(u, t)
ON CONFLICT (user_id, topic_id)
DO UPDATE SET stale = true, generation = {table}.generation + 1
"""


def forecast_snapshots_invalidate(*, user_id: int, topic_id: int) -> None:
    """Mark the learner's snapshot of the topic out of date (creating the row),
    in the caller's transaction; a refresh running meanwhile will not store."""
    forecast_snapshots_invalidate_many(pairs=[(user_id, topic_id)])


def forecast_snapshots_invalidate_many(*, pairs: Iterable[tuple[int, int]]) -> None:
    """The same for many (user id, topic id) pairs in one statement (a key
    correction regrades every learner who answered the question); the
    schedule refreshes them."""
    users, topics = [], []
    for user_id, topic_id in sorted(set(pairs)):
        users.append(user_id)
        topics.append(topic_id)
    if not users:
        return
    table = connection.ops.quote_name(ForecastSnapshot._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(_INVALIDATE.format(table=table), [users, topics])


def forecast_snapshot_changed(*, user_id: int, topic_id: int) -> None:
    """Invalidate now and queue the refresh for after the commit."""
    forecast_snapshots_invalidate(user_id=user_id, topic_id=topic_id)
    # The schedule refreshes it within a minute if the task is lost.
    task_after_commit(REFRESH_TASK, user_id, topic_id)


def forecast_snapshot_refresh(
    *, user_id: int, topic_id: int, now: datetime | None = None
) -> bool:
    """Compute and store every part; False when it was fresh already or an
    invalidation came while computing (the next refresh stores then)."""
    now = now or timezone.now()
    user = get_user_model().objects.get(pk=user_id)
    topic = Topic.objects.get(pk=topic_id)
    row, _ = ForecastSnapshot.objects.get_or_create(user=user, topic=topic)
    exam_plan = fsel.exam_plan_get(user=user, topic=topic)
    if _is_fresh(row, now=now, exam_plan=exam_plan):
        return False
    values = _compute(user=user, topic=topic, exam_plan=exam_plan, now=now)
    stored = ForecastSnapshot.objects.filter(
        pk=row.pk, generation=row.generation
    ).update(**values)
    return bool(stored)


def _is_fresh(
    row: ForecastSnapshot, *, now: datetime, exam_plan: ExamPlan | None
) -> bool:
    if exam_plan is None:
        return fsel.snapshot_is_fresh(row, "calibration", now=now, exam_plan=None) and (
            row.exam_date is None
        )
    return fsel.snapshot_is_fresh(row, "plan", now=now, exam_plan=exam_plan)


def _compute(
    *, user: User, topic: Topic, exam_plan: ExamPlan | None, now: datetime
) -> dict:
    report = fsel.calibration_compute(user=user, topic=topic)
    # One history for every part: the track record's sittings include the
    # forecast's (it keeps the latest SITTING_MAX of them).
    history = fsel.learner_history(
        user=user, topic=topic, sittings=max(fsel.TRACK_SITTINGS, SITTING_MAX)
    )
    track = fsel.forecast_track_record_compute(
        user=user, topic=topic, exam_plan=exam_plan, history=history, now=now
    )
    forecast = plan = None
    if exam_plan is not None:
        lm = fsel.model_at(history, now=now)
        if exam_plan.exam_date >= timezone.localdate(now):
            forecast = fsel.forecast_parts(
                user=user,
                topic=topic,
                exam_plan=exam_plan,
                now=now,
                with_curve=True,
                history=history,
                lm=lm,
            )
        plan = fsel.daily_plan_compute(
            user=user, topic=topic, exam_plan=exam_plan, now=now, lm=lm
        )
    return {
        "stale": False,
        "computed_at": now,
        "computed_for": timezone.localdate(now),
        "exam_date": exam_plan.exam_date if exam_plan else None,
        "daily_size": exam_plan.daily_size if exam_plan else None,
        "version": fsel.snapshot_version(),
        "forecast": codec.encode(forecast) if forecast else None,
        "plan": codec.encode(plan) if plan else None,
        "calibration": codec.encode(report),
        "track": codec.encode(track),
    }


def forecast_snapshots_refresh_due(
    *, batch: int = REFRESH_BATCH, now: datetime | None = None
) -> int:
    """The schedule's batch: stale rows, then rows of an earlier day whose
    exam is still ahead; returns how many were stored."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    due = (
        ForecastSnapshot.objects.filter(
            Q(stale=True)
            | Q(exam_date__gte=today, computed_for__lt=today)
            | Q(exam_date__gte=today, computed_for__isnull=True)
        )
        .order_by("-stale", "computed_for", "pk")
        .values_list("user_id", "topic_id")[:batch]
    )
    stored = 0
    for user_id, topic_id in list(due):
        try:
            stored += forecast_snapshot_refresh(
                user_id=user_id, topic_id=topic_id, now=now
            )
        except Exception:  # one learner's failure does not stop the batch
            logger.exception("forecast refresh of %s/%s failed", user_id, topic_id)
    return stored
